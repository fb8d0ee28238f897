#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

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

// One best-trial rule: a COMPLETE trial with an infinite value is a valid best (-inf
// minimises, +inf maximises); NaN and other states never are; ties go to the lowest number.
TEST_CASE("best_trial_index and best_trials agree on infinite values", "[multi_objective]") {
  using hpt::Direction;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<hpt::FrozenTrial> trials{
      trial(0, {-inf}), trial(1, {1}),    trial(2, {inf}),
      trial(3, {NAN}),  trial(4, {-inf}), trial(5, {-inf}, hpt::TrialState::Pruned)};
  CHECK(hpt::best_trial_index(trials, Direction::Minimize) == size_t{0});
  CHECK(hpt::best_trial_index(trials, Direction::Maximize) == size_t{2});
  CHECK(numbers(hpt::best_trials(trials, {Direction::Minimize})) == std::vector<int>{0, 4});
  CHECK(numbers(hpt::best_trials(trials, {Direction::Maximize})) == std::vector<int>{2});
  // Only infinite values: still a best trial.
  const std::vector<hpt::FrozenTrial> all_inf{trial(0, {-inf}), trial(1, {-inf})};
  CHECK(hpt::best_trial_index(all_inf, Direction::Minimize) == size_t{0});
  CHECK(numbers(hpt::best_trials(all_inf, {Direction::Minimize})) == std::vector<int>{0, 1});
  // Several objectives: an infinite value takes part in dominance.
  const std::vector<hpt::FrozenTrial> mo{trial(0, {-inf, 5}), trial(1, {1, 1}), trial(2, {2, 2})};
  CHECK(numbers(hpt::best_trials(mo, {Direction::Minimize, Direction::Minimize})) ==
        std::vector<int>{0, 1});
  // Nothing COMPLETE with a number: none.
  CHECK_FALSE(hpt::best_trial_index({trial(0, {NAN}), trial(1, {1}, hpt::TrialState::Fail)},
                                    Direction::Minimize));
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
