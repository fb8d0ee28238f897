#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/successive_halving_pruner.hpp"
#include "pruning_simulation.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::Json;
using hpt::SuccessiveHalvingOptions;
using hpt::SuccessiveHalvingPruner;
using hpt::test::pruned_steps;
using hpt::test::step_range;
using Steps = std::vector<int64_t>;

// Expected decisions below were generated once with Optuna 3.1
// (/usr/bin/python3 tests/tuner/optuna_pruner_decisions.py) on the same curves.

// min_resource 1, eta 3: rungs at steps 1, 3, 9, ...; Optuna's decisions, minimising.
TEST_CASE("successive halving matches Optuna on learning curves", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, 3, 0, 0});
  CHECK(pruned_steps(p, 30, step_range(0, 30), Direction::Minimize, "sh") ==
        Steps{-1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              3,  1, 1, 3, 1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 1});
}

// Defaults ("auto" min_resource from the first COMPLETE trial: 299 // 100 = 2, eta 4), maximising.
TEST_CASE("successive halving defaults and auto min_resource match Optuna", "[pruner][sh]") {
  SuccessiveHalvingPruner p(hpt::successive_halving_options_from_json(Json()));
  CHECK_FALSE(p.options().min_resource);
  CHECK(pruned_steps(p, 30, step_range(0, 300), Direction::Maximize, "sh") ==
        Steps{-1, -1, 2, -1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
              -1, 2,  2, 8,  2, 2, 2, 2, 2, 2, 8, 2, 2, 8, 2});
  CHECK(p.options().min_resource == 2);
}

// min_early_stopping_rate shifts the first rung up (2 * 2^1 = 4), eta 2.
TEST_CASE("successive halving min_early_stopping_rate matches Optuna", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{2, 2, 1, 0});
  CHECK(pruned_steps(p, 25, step_range(0, 40), Direction::Minimize, "sh") ==
        Steps{-1, 4, 4, 8, 4, 8, 4, 4, 8, 4, 8, 4, 4, 8, 4, 16, 4, 4, 8, 4, 8, 8, 4, 8, 4});
}

// bootstrap_count 2: a rung with at most 2 values prunes everyone, the first trial too.
TEST_CASE("successive halving bootstrap_count matches Optuna", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, 3, 0, 2});
  CHECK(pruned_steps(p, 20, step_range(0, 30), Direction::Minimize, "sh") ==
        Steps{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 1});
}

// Sparse steps (0, 5, 10, ...): one report passes several rungs at once, each recorded.
TEST_CASE("successive halving on sparse steps matches Optuna", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, 2, 0, 0});
  std::vector<hpt::FrozenTrial> history;
  CHECK(pruned_steps(p, 20, step_range(0, 100, 5), Direction::Minimize, "sh", &history) ==
        Steps{-1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5});
  // Trial 0 passed rungs 1, 2, 4, ..., 64 (7 rungs, the last at step 95) with its value there.
  CHECK(history[0].system_attrs.size() == 7);
  CHECK(history[0].system_attrs.at("completed_rung_6").get<double>() ==
        history[0].intermediate_values.at(95));
  CHECK(history[1].system_attrs.count("completed_rung_0") == 1);
}

// A NaN at a rung step prunes without recording; before the first rung nothing happens.
TEST_CASE("successive halving prunes NaN at a rung", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{2, 2, 0, 0});
  std::vector<hpt::FrozenTrial> trials{
      hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{1, NAN}})};
  auto d = p.decide({Direction::Minimize, &trials, "s"}, trials[0]);
  CHECK_FALSE(d.prune);
  trials[0].intermediate_values[2] = NAN;
  d = p.decide({Direction::Minimize, &trials, "s"}, trials[0]);
  CHECK(d.prune);
  CHECK(d.system_attrs.empty());
}

// Stored rung values that are not numbers (a foreign database) are ignored, not compared.
TEST_CASE("successive halving ignores non-numeric rung values", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, 2, 0, 0});
  std::vector<hpt::FrozenTrial> trials(3);
  for (int i = 0; i < 3; ++i) {
    trials[i].number = i;
  }
  trials[0].system_attrs["completed_rung_0"] = "junk";
  trials[1].system_attrs["completed_rung_0"] = 0.5;
  trials[2].intermediate_values[1] = 0.7;
  // Competing {0.5, 0.7}: the best 2 // 2 = 1 is 0.5, so 0.7 is pruned.
  CHECK(p.decide({Direction::Minimize, &trials, "s"}, trials[2]).prune);
}

// Options: defaults, "auto", and one-line errors naming the option and value.
TEST_CASE("successive halving options", "[pruner][sh][factory]") {
  auto o = hpt::successive_halving_options_from_json(
      Json{{"min_resource", 5}, {"reduction_factor", 3}, {"min_early_stopping_rate", 1}});
  CHECK(o.min_resource == 5);
  CHECK(o.reduction_factor == 3);
  CHECK(o.min_early_stopping_rate == 1);
  CHECK_FALSE(hpt::successive_halving_options_from_json(Json{{"min_resource", "auto"}})
                  .min_resource.has_value());
  CHECK_THROWS_WITH(hpt::successive_halving_options_from_json(Json{{"min_resource", 0}}),
                    "successive_halving pruner option 'min_resource' must be an integer >= 1 or "
                    "\"auto\", but got 0");
  CHECK_THROWS_WITH(hpt::successive_halving_options_from_json(Json{{"min_resource", "often"}}),
                    "successive_halving pruner option 'min_resource' must be an integer >= 1 or "
                    "\"auto\", but got \"often\"");
  CHECK_THROWS_WITH(hpt::successive_halving_options_from_json(Json{{"reduction_factor", 1}}),
                    "successive_halving pruner option 'reduction_factor' must be an integer >= "
                    "2, but got 1");
  CHECK_THROWS_WITH(
      hpt::successive_halving_options_from_json(Json{{"min_early_stopping_rate", -1}}),
      "successive_halving pruner option 'min_early_stopping_rate' must be an integer >= 0, but "
      "got -1");
  CHECK_THROWS_WITH(hpt::successive_halving_options_from_json(Json{{"bootstrap_count", 1}}),
                    "successive_halving pruner option 'bootstrap_count' needs an integer "
                    "'min_resource' (not \"auto\")");
  CHECK_THROWS_WITH(hpt::successive_halving_options_from_json(Json{{"reduction_factr", 2}}),
                    "unknown successive_halving pruner option 'reduction_factr' (did you mean "
                    "'reduction_factor'?)");
  CHECK_THROWS_WITH(
      hpt::successive_halving_options_from_json(Json{{"min_resource", 1e30}}),
      "successive_halving pruner option 'min_resource' must be an integer >= 1 or \"auto\", but "
      "got 1e+30");
}

// Huge resources never overflow: the rung step saturates and nothing is pruned.
TEST_CASE("successive halving with huge resources", "[pruner][sh]") {
  SuccessiveHalvingPruner p(SuccessiveHalvingOptions{int64_t{1} << 62, 1000, 50, 0});
  std::vector<hpt::FrozenTrial> trials{hpt::test::make_trial(
      0, hpt::TrialState::Running, {}, {}, {{std::numeric_limits<int64_t>::max() - 1, 1.0}})};
  CHECK_FALSE(p.decide({Direction::Minimize, &trials, "s"}, trials[0]).prune);
}

// A step of INT64_MAX reaches every rung whose step fits in int64 (4^0 .. 4^31) and no more:
// the walk ends, each rung recorded once; negative and zero steps reach none.
TEST_CASE("successive halving decides in bounded time at any int64 step", "[pruner][sh]") {
  constexpr int64_t k_max = std::numeric_limits<int64_t>::max();
  for (int64_t eta : {2, 4, 1000}) {
    SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, eta, 0, 0});
    std::vector<hpt::FrozenTrial> trials{
        hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{k_max, 0.5}})};
    const hpt::PruneDecision d = p.decide({Direction::Minimize, &trials, "s"}, trials[0]);
    CHECK_FALSE(d.prune);
    size_t rungs = 0;  // floor(log_eta(INT64_MAX)) + 1, counted exactly.
    for (int64_t s = 1; s <= k_max; s *= eta) {
      ++rungs;
      if (s > k_max / eta) {
        break;
      }
    }
    CHECK(d.system_attrs.size() == rungs);
  }
  for (int64_t step : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0}}) {
    SuccessiveHalvingPruner p(SuccessiveHalvingOptions{1, 4, 0, 0});
    std::vector<hpt::FrozenTrial> trials{
        hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{step, 0.5}})};
    const hpt::PruneDecision d = p.decide({Direction::Minimize, &trials, "s"}, trials[0]);
    CHECK_FALSE(d.prune);
    CHECK(d.system_attrs.empty());
  }
  // A first rung beyond int64 (min_early_stopping_rate INT64_MAX) is never reached.
  SuccessiveHalvingPruner far(SuccessiveHalvingOptions{1, 2, k_max, 0});
  std::vector<hpt::FrozenTrial> trials{
      hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{k_max, 0.5}})};
  CHECK(far.decide({Direction::Minimize, &trials, "s"}, trials[0]).system_attrs.empty());
}
