#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/multi_objective.hpp"

namespace {

hpt::FrozenTrial trial(int number, std::vector<double> values,
                       hpt::TrialState state = hpt::TrialState::Complete) {
  hpt::FrozenTrial t;
  t.number = number;
  t.state = state;
  t.values = std::move(values);
  t.value = t.values.size() == 1 ? std::optional<double>(t.values[0]) : std::nullopt;
  return t;
}

std::vector<int> numbers(const std::vector<hpt::FrozenTrial>& trials) {
  std::vector<int> out;
  for (const auto& t : trials) {
    out.push_back(t.number);
  }
  return out;
}

}  // namespace

// Domination follows each objective's direction and needs one strictly better value.
TEST_CASE("dominates follows the directions", "[multi_objective]") {
  using hpt::Direction;
  CHECK(hpt::dominates({1, 5}, {2, 4}, {Direction::Minimize, Direction::Maximize}));
  CHECK_FALSE(hpt::dominates({1, 5}, {2, 4}, {Direction::Minimize, Direction::Minimize}));
  CHECK_FALSE(hpt::dominates({1, 1}, {1, 1}, {Direction::Minimize, Direction::Minimize}));
}

// The Pareto front: non-dominated COMPLETE trials with finite values; NaN, PRUNED and
// trials with another number of values are left out.
TEST_CASE("best_trials is the Pareto front", "[multi_objective]") {
  using hpt::Direction;
  const std::vector<hpt::FrozenTrial> trials{trial(0, {1, 9}),
                                             trial(1, {2, 2}),
                                             trial(2, {3, 3}),
                                             trial(3, {9, 1}),
                                             trial(4, {0, 0}, hpt::TrialState::Pruned),
                                             trial(5, {NAN, 0}),
                                             trial(6, {0.5})};
  CHECK(numbers(hpt::best_trials(trials, {Direction::Minimize, Direction::Minimize})) ==
        std::vector<int>{0, 1, 3});
  CHECK(numbers(hpt::best_trials(trials, {Direction::Maximize, Direction::Maximize})) ==
        std::vector<int>{0, 2, 3});
}

// One direction: the best value, ties kept; a NOT_SET direction is refused.
TEST_CASE("best_trials of a single objective", "[multi_objective]") {
  const std::vector<hpt::FrozenTrial> trials{trial(0, {3}), trial(1, {1}), trial(2, {1}),
                                             trial(3, {NAN})};
  CHECK(numbers(hpt::best_trials(trials, {hpt::Direction::Minimize})) == std::vector<int>{1, 2});
  CHECK(numbers(hpt::best_trials(trials, {hpt::Direction::Maximize})) == std::vector<int>{0});
  CHECK_THROWS_WITH(hpt::best_trials(trials, {hpt::Direction::NotSet}), Catch::Contains("NOT_SET"));
}

// Non-domination ranks as Optuna's _calculate_nondomination_rank prints them for the
// 30-point reference set's first ten points.
TEST_CASE("nondomination_ranks peel Pareto fronts", "[multi_objective]") {
  CHECK(hpt::nondomination_ranks({{0.076, 0.78},
                                  {0.438, 0.723},
                                  {0.978, 0.538},
                                  {0.501, 0.072},
                                  {0.268, 0.5},
                                  {0.501, 0.072},
                                  {0.381, 0.066},
                                  {0.288, 0.91},
                                  {0.213, 0.452},
                                  {0.931, 0.025}}) ==
        std::vector<int>{0, 2, 2, 1, 1, 1, 0, 2, 0, 0});
  CHECK(hpt::nondomination_ranks({}).empty());
}
