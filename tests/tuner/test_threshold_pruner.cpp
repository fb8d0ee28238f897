#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/threshold_pruner.hpp"
#include "pruning_simulation.hpp"

using hpt::Direction;
using hpt::Json;
using hpt::ThresholdPruner;
using hpt::test::bumpy_curve;
using hpt::test::pruned_steps;
using hpt::test::step_range;
using Steps = std::vector<int64_t>;

// Expected decisions were generated once with Optuna 3.1
// (/usr/bin/python3 tests/tuner/optuna_pruner_decisions.py) on the same curves.

TEST_CASE("threshold pruner matches Optuna", "[pruner][threshold]") {
  ThresholdPruner upper(hpt::threshold_options_from_json(
      Json{{"upper", 0.9}, {"n_warmup_steps", 2}, {"interval_steps", 3}}));
  CHECK(pruned_steps(upper, 30, step_range(0, 30), Direction::Minimize, "th", nullptr,
                     bumpy_curve) == Steps{-1, 2, 2, -1, 2, -1, -1, 2, -1, -1, -1, -1, 2, 2,  2,
                                           -1, 2, 2, -1, 2, -1, -1, 2, -1, 2,  -1, 2,  2, -1, 2});
  ThresholdPruner lower(hpt::threshold_options_from_json(Json{{"lower", -0.6}}));
  CHECK(pruned_steps(lower, 30, step_range(0, 30), Direction::Maximize, "th", nullptr,
                     bumpy_curve) == Steps{-1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0,  0,
                                           -1, 0, 0, 0,  0, 0, 0, 0, 0, 0, -1, 0, 0, -1, 0});
  // Sparse steps: a check postponed to the first step reported in its interval.
  ThresholdPruner both(hpt::threshold_options_from_json(
      Json{{"lower", 0.2}, {"upper", 1.2}, {"interval_steps", 4}}));
  CHECK(pruned_steps(both, 30, step_range(0, 100, 5), Direction::Minimize, "th", nullptr,
                     bumpy_curve) == Steps{0, 0, 0, -1, 0, 10, -1, 0, -1, -1, 0, 0, 0, 0,  0,
                                           5, 0, 0, -1, 0, 0,  -1, 0, 0,  0,  5, 0, 0, -1, 0});
}

TEST_CASE("threshold pruner: NaN, bounds, warm-up", "[pruner][threshold]") {
  ThresholdPruner p(hpt::threshold_options_from_json(Json{{"upper", 1.0}, {"n_warmup_steps", 1}}));
  hpt::FrozenTrial t;
  t.intermediate_values[0] = NAN;
  CHECK_FALSE(p.prune(Direction::Minimize, {}, t));  // Warm-up.
  t.intermediate_values[1] = NAN;
  CHECK(p.prune(Direction::Minimize, {}, t));
  t.intermediate_values.erase(1);
  t.intermediate_values[2] = 1.0;
  CHECK_FALSE(p.prune(Direction::Minimize, {}, t));  // At the bound: kept.
  t.intermediate_values[3] = 1.5;
  CHECK(p.prune(Direction::Maximize, {}, t));  // The direction does not matter.
  CHECK_FALSE(p.prune(Direction::Minimize, {}, hpt::FrozenTrial{}));  // No step yet.
}

TEST_CASE("threshold pruner options", "[pruner][threshold]") {
  CHECK_THROWS_WITH(hpt::make_pruner("threshold", Json()),
                    Catch::StartsWith("threshold pruner needs option 'lower', 'upper' or both"));
  CHECK_THROWS_WITH(hpt::make_pruner("threshold", Json{{"lower", 2}, {"upper", 1}}),
                    "threshold pruner needs lower <= upper, but got 2 > 1");
  CHECK_THROWS_WITH(hpt::make_pruner("threshold", Json{{"upper", "1"}}),
                    Catch::StartsWith("threshold pruner option 'upper' must be a number"));
  CHECK_THROWS_WITH(hpt::make_pruner("threshold", Json{{"upper", 1}, {"interval_steps", 0}}),
                    Catch::StartsWith("threshold pruner option 'interval_steps' must be"));
  CHECK_THROWS_WITH(hpt::make_pruner("threshold", Json{{"uper", 1}, {"lower", 0}}),
                    "unknown threshold pruner option 'uper' (did you mean 'upper'?)");
  const auto o = hpt::threshold_options_from_json(Json{{"lower", 0.5}});
  CHECK(o.lower == 0.5);
  CHECK(std::isinf(o.upper));
}
