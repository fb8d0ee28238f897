#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/patient_pruner.hpp"
#include "hpt/tuner/percentile_pruner.hpp"
#include "hpt/tuner/successive_halving_pruner.hpp"
#include "pruning_simulation.hpp"

using hpt::Direction;
using hpt::Json;
using hpt::PatientPruner;
using hpt::PatientPrunerOptions;
using hpt::test::bumpy_curve;
using hpt::test::pruned_steps;
using hpt::test::step_range;
using Steps = std::vector<int64_t>;

// Expected decisions were generated once with Optuna 3.1
// (/usr/bin/python3 tests/tuner/optuna_pruner_decisions.py) on the same curves.

TEST_CASE("patient pruner matches Optuna", "[pruner][patient]") {
  PatientPruner two(PatientPrunerOptions{2, 0.0}, nullptr);
  CHECK(pruned_steps(two, 30, step_range(0, 30), Direction::Minimize, "pp", nullptr, bumpy_curve) ==
        Steps{3,  20, 15, 6,  19, 16, 9,  20, 17, 10, 21, 16, 11, 22, 17,
              12, 23, 18, 13, 24, 19, 14, 25, 18, 15, 4,  19, 14, 7,  20});
  PatientPruner three(PatientPrunerOptions{3, 0.01}, nullptr);
  CHECK(pruned_steps(three, 30, step_range(0, 30), Direction::Maximize, "pp", nullptr,
                     bumpy_curve) == Steps{6,  -1, 25, 11, -1, 26, 19, 27, 27, 20,
                                           28, 28, 21, 29, 29, 22, -1, -1, 23, -1,
                                           -1, 24, -1, -1, 25, 7,  26, 26, 12, 27});
  PatientPruner zero(PatientPrunerOptions{0, 0.0}, nullptr);
  CHECK(
      pruned_steps(zero, 20, step_range(0, 30), Direction::Minimize, "pp", nullptr, bumpy_curve) ==
      Steps{1, 5, 4, 2, 8, 5, 3, 7, 4, 4, 5, 5, 5, 9, 4, 3, 7, 5, 4, 6});
}

// A stalled trial is handed to the wrapped pruner, whose decision (and attributes) count.
TEST_CASE("patient pruner wrapping another matches Optuna", "[pruner][patient]") {
  hpt::PercentilePrunerOptions median;
  median.n_startup_trials = 2;
  PatientPruner over_median(PatientPrunerOptions{1, 0.0},
                            std::make_unique<hpt::PercentilePruner>(median));
  CHECK(pruned_steps(over_median, 30, step_range(0, 30), Direction::Minimize, "pp", nullptr,
                     bumpy_curve) == Steps{-1, -1, 14, -1, 18, -1, 8,  19, 16, 9,
                                           -1, 15, 10, 21, 16, -1, 22, 17, 12, 23,
                                           18, 13, 21, 17, 14, 20, 18, 13, 6,  19});
  PatientPruner over_sh(
      PatientPrunerOptions{2, 0.0},
      std::make_unique<hpt::SuccessiveHalvingPruner>(hpt::SuccessiveHalvingOptions{1, 3, 0, 0}));
  std::vector<hpt::FrozenTrial> history;
  CHECK(pruned_steps(over_sh, 30, step_range(0, 30), Direction::Minimize, "pp", &history,
                     bumpy_curve) == Steps{-1, 20, 15, 6,  19, 16, 9,  20, 17, 10,
                                           21, 16, 11, 22, 17, 12, 23, 18, 13, 24,
                                           19, 14, 25, 18, 15, 4,  19, 14, 7,  20});
  CHECK(history[1].system_attrs.count(hpt::completed_rung_key(0)) == 1);
}

// The best before the window is kept as steps arrive in order, and recomputed when a step comes
// out of order or the trial is re-run: decisions equal a fresh pruner's every time.
TEST_CASE("patient pruner: incremental equals recomputed", "[pruner][patient]") {
  PatientPruner kept(PatientPrunerOptions{3, 0.0}, nullptr);
  hpt::FrozenTrial t;
  t.id = 7;
  const std::vector<int64_t> order = {0, 1, 2, 3, 4, 5, 9, 10, 7, 8, 6, 11, 12, 13, 14, 15};
  for (int64_t s : order) {
    t.intermediate_values[s] = bumpy_curve(4, s);
    PatientPruner fresh(PatientPrunerOptions{3, 0.0}, nullptr);
    INFO("step " << s);
    CHECK(kept.prune(Direction::Minimize, {}, t) == fresh.prune(Direction::Minimize, {}, t));
  }
  // Steps reported backwards (a new first step each time), then forwards again.
  PatientPruner backwards(PatientPrunerOptions{2, 0.0}, nullptr);
  hpt::FrozenTrial r;
  r.id = 8;
  for (int64_t s = 40; s >= 0; --s) {
    r.intermediate_values[s] = bumpy_curve(13, s);
    PatientPruner fresh(PatientPrunerOptions{2, 0.0}, nullptr);
    INFO("backwards step " << s);
    CHECK(backwards.prune(Direction::Maximize, {}, r) == fresh.prune(Direction::Maximize, {}, r));
    CHECK(backwards.prune(Direction::Maximize, {}, r) == fresh.prune(Direction::Maximize, {}, r));
  }
  for (int64_t s = 41; s < 60; ++s) {
    r.intermediate_values[s] = bumpy_curve(13, s);
    PatientPruner fresh(PatientPrunerOptions{2, 0.0}, nullptr);
    INFO("forwards step " << s);
    CHECK(backwards.prune(Direction::Maximize, {}, r) == fresh.prune(Direction::Maximize, {}, r));
  }
  // A re-run (new start) with lower values before the window: not the old best.
  t.intermediate_values.clear();
  t.datetime_start = hpt::Clock::now();
  for (int64_t s = 0; s < 8; ++s) {
    t.intermediate_values[s] = s == 0 ? -10.0 : 1.0 - 0.01 * static_cast<double>(s);
    PatientPruner fresh(PatientPrunerOptions{3, 0.0}, nullptr);
    CHECK(kept.prune(Direction::Minimize, {}, t) == fresh.prune(Direction::Minimize, {}, t));
  }
  CHECK(kept.prune(Direction::Minimize, {}, t));  // -10 at step 0 was never beaten.
}

TEST_CASE("patient pruner options", "[pruner][patient]") {
  CHECK(dynamic_cast<PatientPruner*>(hpt::make_pruner("patient", Json{{"patience", 2}}).get()));
  CHECK(dynamic_cast<PatientPruner*>(
      hpt::make_pruner(
          "patient",
          Json{{"patience", 2}, {"wrapped_pruner", {{"type", "median"}, {"n_startup_trials", 3}}}})
          .get()));
  CHECK_THROWS_WITH(hpt::make_pruner("patient", Json()),
                    Catch::StartsWith("patient pruner needs option 'patience'"));
  CHECK_THROWS_WITH(hpt::make_pruner("patient", Json{{"patience", -1}}),
                    Catch::StartsWith("patient pruner option 'patience' must be"));
  CHECK_THROWS_WITH(hpt::make_pruner("patient", Json{{"patience", 1}, {"min_delta", -0.1}}),
                    Catch::StartsWith("patient pruner option 'min_delta' must be"));
  CHECK_THROWS_WITH(
      hpt::make_pruner("patient", Json{{"patience", 1}, {"wrapped_pruner", {{"type", "medain"}}}}),
      "patient pruner option 'wrapped_pruner': unknown pruner type 'medain' (did you mean "
      "'median'?); expected median, percentile, successive_halving, hyperband, threshold, "
      "patient or none");
  CHECK_THROWS_WITH(
      hpt::make_pruner("patient",
                       Json{{"patience", 1}, {"wrapped_pruner", {{"type", "median"}, {"x", 1}}}}),
      "patient pruner option 'wrapped_pruner': unknown median pruner option 'x'");
  CHECK_THROWS_WITH(
      hpt::make_pruner("patient", Json{{"patience", 1}, {"wrapped_pruner", "median"}}),
      "patient pruner option 'wrapped_pruner': expected a pruner, e.g. {type: "
      "median}, but got \"median\"");
  CHECK_THROWS_WITH(hpt::make_pruner("patient", Json{{"patience", 1}, {"wraped_pruner", 1}}),
                    "unknown patient pruner option 'wraped_pruner' (did you mean "
                    "'wrapped_pruner'?)");
}
