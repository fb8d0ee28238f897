#include <catch2/catch.hpp>

#include "hpt/tuner/pruner.hpp"

using hpt::first_in_interval;
using hpt::StepValues;

// Optuna's _is_first_in_interval_step: the checks fall at warmup + k * interval, or at the first
// step reported past one of them.
TEST_CASE("first_in_interval", "[pruner]") {
  CHECK(first_in_interval(0, StepValues{{0, 1.0}}, 0, 1));
  CHECK(first_in_interval(3, StepValues{{0, 1.0}, {3, 1.0}}, 2, 3));        // 2 passed, unchecked.
  CHECK_FALSE(first_in_interval(4, StepValues{{2, 1.0}, {4, 1.0}}, 2, 3));  // 2 was checked.
  CHECK(first_in_interval(5, StepValues{{2, 1.0}, {4, 1.0}, {5, 1.0}}, 2, 3));
  CHECK(first_in_interval(10, StepValues{{5, 1.0}, {10, 1.0}}, 0, 4));  // 8 was skipped.
  CHECK_FALSE(first_in_interval(9, StepValues{{8, 1.0}, {9, 1.0}}, 0, 4));
}
