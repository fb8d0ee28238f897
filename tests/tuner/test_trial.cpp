#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "hpt/tuner/trial.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::is_better;

namespace {
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
}

// Smaller wins when minimising, larger when maximising; equal values are not better.
TEST_CASE("is_better follows the direction", "[trial]") {
  CHECK(is_better(1.0, 2.0, Direction::Minimize));
  CHECK_FALSE(is_better(2.0, 1.0, Direction::Minimize));
  CHECK(is_better(2.0, 1.0, Direction::Maximize));
  CHECK_FALSE(is_better(1.0, 2.0, Direction::Maximize));
  CHECK_FALSE(is_better(1.0, 1.0, Direction::Minimize));
  CHECK_FALSE(is_better(1.0, 1.0, Direction::Maximize));
  CHECK(is_better(-INFINITY, 0.0, Direction::Minimize));
}

// NaN is never better, every number beats NaN, in either direction.
TEST_CASE("is_better: NaN is never better", "[trial]") {
  for (Direction d : {Direction::Minimize, Direction::Maximize, Direction::NotSet}) {
    CHECK_FALSE(is_better(k_nan, 1.0, d));
    CHECK_FALSE(is_better(k_nan, k_nan, d));
    CHECK(is_better(1.0, k_nan, d));
    CHECK(is_better(INFINITY, k_nan, d));
  }
}

// A NOT_SET direction (only from old databases) compares as minimise, as Optuna's best_trial.
TEST_CASE("is_better: NotSet compares as Minimize", "[trial]") {
  CHECK(is_better(1.0, 2.0, Direction::NotSet));
  CHECK_FALSE(is_better(2.0, 1.0, Direction::NotSet));
}

// As a sort comparator it orders best first with NaNs last (a strict weak order).
TEST_CASE("is_better sorts best first, NaN last", "[trial]") {
  std::vector<double> v{3.0, k_nan, 1.0, 2.0, k_nan, 1.0};
  std::sort(v.begin(), v.end(),
            [](double a, double b) { return is_better(a, b, Direction::Maximize); });
  CHECK(v[0] == 3.0);
  CHECK(v[1] == 2.0);
  CHECK(v[2] == 1.0);
  CHECK(v[3] == 1.0);
  CHECK(std::isnan(v[4]));
  CHECK(std::isnan(v[5]));
}

TEST_CASE("objective_values: values, else the single value, else none", "[trial]") {
  FrozenTrial t;
  CHECK(t.objective_values().empty());
  t.value = 0.25;
  CHECK(t.objective_values() == std::vector<double>{0.25});
  t.values = {1.0, -2.0};  // As a storage reads a multi-objective trial (value unset there).
  CHECK(t.objective_values() == std::vector<double>{1.0, -2.0});
}
