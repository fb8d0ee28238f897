#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/tuner/observation_split.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::TrialState;
using hpt::test::complete;
using hpt::test::make_trial;

namespace {

std::vector<int> numbers(const std::vector<const FrozenTrial*>& ts) {
  std::vector<int> out;
  for (const auto* t : ts) {
    out.push_back(t->number);
  }
  return out;
}

}  // namespace

// gamma(n) = min(ceil(0.1 n), 25), by hand.
TEST_CASE("default gamma", "[split]") {
  CHECK(hpt::default_gamma(0) == 0);
  CHECK(hpt::default_gamma(1) == 1);
  CHECK(hpt::default_gamma(10) == 1);
  CHECK(hpt::default_gamma(11) == 2);
  CHECK(hpt::default_gamma(1000) == 25);
}

// Gamma options by hand: hyperopt's min(ceil(0.25 sqrt(n)), 25) and a capped factor;
// the split keeps gamma(n) trials below.
TEST_CASE("gamma options", "[split]") {
  const hpt::Gamma hyperopt{0.25, 25, true};
  CHECK(hyperopt(100) == 3);
  CHECK(hyperopt(101) == 3);
  CHECK(hyperopt(10000) == 25);
  const hpt::Gamma wide{0.2, 4, false};
  CHECK(wide(10) == 2);
  CHECK(wide(100) == 4);
  CHECK(hpt::Gamma{}(55) == hpt::default_gamma(55));
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < 20; ++i) {
    trials.push_back(hpt::test::complete(i, 20 - i, {}));
  }
  auto split = hpt::split_observations(trials, Direction::Minimize, -1, false, wide);
  CHECK(split.below.size() == 4);
  CHECK(split.below.front()->number == 16);
}

// The gamma(n) best COMPLETE trials go below (by direction), both halves in number order.
TEST_CASE("complete trials split by value and direction", "[split]") {
  std::vector<FrozenTrial> trials;
  const double values[] = {5, 3, 9, 1, 7, 8, 6, 4, 2, 0.5, 10, 11, 12};  // n = 13 -> gamma 2
  for (int i = 0; i < 13; ++i) {
    trials.push_back(complete(i, values[i]));
  }
  auto split = hpt::split_observations(trials, Direction::Minimize, -1, true);
  CHECK(split.n_finished == 13);
  CHECK(numbers(split.below) == std::vector<int>{3, 9});
  CHECK(split.above.size() == 11);
  CHECK(split.above.front()->number == 0);
  auto max_split = hpt::split_observations(trials, Direction::Maximize, -1, true);
  CHECK(numbers(max_split.below) == std::vector<int>{11, 12});
}

// Pruned trials rank after COMPLETE ones, by later last step, then value there (NaN worst);
// pruned trials without steps rank last; FAIL trials are ignored.
TEST_CASE("pruned trials ranked by last step then value", "[split]") {
  auto build = [](int n_fillers) {
    std::vector<FrozenTrial> t;
    t.push_back(complete(0, 3.0));
    t.push_back(complete(1, 1.0));
    t.push_back(make_trial(2, TrialState::Pruned, {}, {}, {{0, 0.0}, {5, 10.0}}));
    t.push_back(make_trial(3, TrialState::Pruned, {}, {}, {{3, 1.0}}));
    t.push_back(make_trial(4, TrialState::Pruned, {}, {}, {{5, 2.0}}));
    t.push_back(make_trial(5, TrialState::Pruned, {}, {}, {{5, NAN}}));
    t.push_back(make_trial(6, TrialState::Pruned, {}, {}, {}));
    t.push_back(make_trial(7, TrialState::Fail, {}, {}, {{9, -1e9}}));
    for (int i = 0; i < n_fillers; ++i) {
      t.push_back(make_trial(8 + i, TrialState::Pruned, {}, {}, {{1, -100.0}}));
    }
    return t;
  };
  auto t41 = build(34);  // n = 2 + 5 + 34 = 41 -> gamma 5
  auto s41 = hpt::split_observations(t41, Direction::Minimize, -1, false);
  CHECK(s41.n_finished == 41);
  CHECK(numbers(s41.below) == std::vector<int>{0, 1, 2, 4, 5});
  auto t51 = build(44);  // n = 51 -> gamma 6: trial 3 (step 3) beats step-1 fillers
  auto s51 = hpt::split_observations(t51, Direction::Minimize, -1, false);
  CHECK(numbers(s51.below) == std::vector<int>{0, 1, 2, 3, 4, 5});
  for (const auto* t : s51.above) {
    CHECK(t->number != 7);
  }
}

// Constant liar: RUNNING trials (not the one being sampled) join the bad group only,
// and do not count towards n; without it they are left out.
TEST_CASE("constant liar puts running trials above", "[split]") {
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < 3; ++i) {
    trials.push_back(complete(i, static_cast<double>(i)));
  }
  for (int i = 3; i < 8; ++i) {
    trials.push_back(make_trial(i, TrialState::Running, {}));
  }
  auto liar = hpt::split_observations(trials, Direction::Minimize, 7, true);
  CHECK(liar.n_finished == 3);
  CHECK(numbers(liar.below) == std::vector<int>{0});
  CHECK(numbers(liar.above) == std::vector<int>{1, 2, 3, 4, 5, 6});
  auto honest = hpt::split_observations(trials, Direction::Minimize, 7, false);
  CHECK(numbers(honest.above) == std::vector<int>{1, 2});
}
