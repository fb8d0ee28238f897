#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "hpt/tuner/percentile_pruner.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::PercentilePruner;
using hpt::PercentilePrunerOptions;
using hpt::TrialState;

namespace {

// n COMPLETE trials whose value at every step 0..9 is their index i (0, 1, ..., n-1).
std::vector<FrozenTrial> history(int n) {
  std::vector<FrozenTrial> out;
  for (int i = 0; i < n; ++i) {
    hpt::StepValues iv;
    for (int s = 0; s < 10; ++s) {
      iv[s] = i;
    }
    out.push_back(hpt::test::make_trial(i, TrialState::Complete, i, {}, iv));
  }
  return out;
}

FrozenTrial running(hpt::StepValues iv) {
  return hpt::test::make_trial(99, TrialState::Running, {}, {}, std::move(iv));
}

PercentilePruner median() { return PercentilePruner(PercentilePrunerOptions{}); }

}  // namespace

// numpy.nanpercentile, linear interpolation (hand-computed).
TEST_CASE("nan_percentile interpolates and skips NaN", "[pruner]") {
  CHECK(hpt::nan_percentile({1, 2, 3, 4}, 50) == 2.5);
  CHECK(hpt::nan_percentile({4, NAN, 1, 3}, 50) == 3.0);
  CHECK(hpt::nan_percentile({1, 2, 3, 4, 5}, 25) == 2.0);
  CHECK(hpt::nan_percentile({0, 10}, 30) == Approx(3.0));
  CHECK(std::isnan(hpt::nan_percentile({NAN}, 50)));
  // The same doubles as numpy 1.24's np.nanpercentile (Optuna's), infinities included.
  CHECK(hpt::nan_percentile({0.1, 0.7}, 50) == 0.39999999999999997);  // a + d / 2 gives 0.4
  CHECK(hpt::nan_percentile({0.3, 0.1, 0.7, 1.9}, 10) == 0.16);
  CHECK(hpt::nan_percentile({0.3, 0.1, 0.7, 1.9}, 90) == 1.54);
  CHECK(hpt::nan_percentile({1.0, 2.0}, 100) == 2.0);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(std::isnan(hpt::nan_percentile({1.32, inf}, 50)));
  CHECK(std::isnan(hpt::nan_percentile({1.32, inf, 5.0}, 50)));
  CHECK(std::isnan(hpt::nan_percentile({1.0, inf}, 75)));
  CHECK(std::isnan(hpt::nan_percentile({1.0, inf}, 100)));
  CHECK(std::isnan(hpt::nan_percentile({-inf, inf}, 50)));
  CHECK(hpt::nan_percentile({1.0, inf}, 25) == inf);
  CHECK(hpt::nan_percentile({-inf, 1.0}, 50) == -inf);
}

// Median of 0..4 is 2 at each step: 2.5 is pruned, 1.5 is not; minimisation.
TEST_CASE("median pruner compares with the median at the step", "[pruner]") {
  auto trials = history(5);
  CHECK(median().prune(Direction::Minimize, trials, running({{0, 2.5}})));
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({{0, 1.5}})));
  // The trial's best value over its steps counts: 1.0 at step 0 keeps it alive at step 1.
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({{0, 1.0}, {1, 3.0}})));
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({})));
}

// Fewer COMPLETE trials than n_startup_trials (pruned ones do not count): no pruning.
TEST_CASE("pruner waits for startup trials", "[pruner]") {
  auto trials = history(4);
  trials.push_back(hpt::test::make_trial(50, TrialState::Pruned, {}, {}, {{0, 0.0}}));
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({{0, 100.0}})));
  PercentilePrunerOptions o;
  o.n_startup_trials = 4;
  CHECK(PercentilePruner(o).prune(Direction::Minimize, trials, running({{0, 100.0}})));
}

// Warm-up steps and the interval: pruning only at warmup + k * interval (first report in it).
TEST_CASE("pruner honours warm-up and interval steps", "[pruner]") {
  auto trials = history(5);
  PercentilePrunerOptions o;
  o.n_warmup_steps = 3;
  o.interval_steps = 3;
  PercentilePruner p(o);
  CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{2, 9.0}})));
  CHECK(p.prune(Direction::Minimize, trials, running({{2, 9.0}, {3, 9.0}})));
  CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{3, 9.0}, {4, 9.0}})));
  CHECK(p.prune(Direction::Minimize, trials, running({{3, 9.0}, {4, 9.0}, {6, 9.0}})));
  // Step 7 is the first report in the interval starting at 6 (the previous one was step 4).
  CHECK(p.prune(Direction::Minimize, trials, running({{4, 9.0}, {7, 9.0}})));
}

// n_min_trials: too few COMPLETE trials reported the step -> no pruning.
TEST_CASE("pruner needs n_min_trials values at the step", "[pruner]") {
  auto trials = history(5);
  for (auto& t : trials) {
    t.intermediate_values.erase(5);
  }
  trials[0].intermediate_values[5] = 0.0;
  PercentilePrunerOptions o;
  o.n_min_trials = 2;
  CHECK_FALSE(PercentilePruner(o).prune(Direction::Minimize, trials, running({{5, 9.0}})));
  CHECK(median().prune(Direction::Minimize, trials, running({{5, 9.0}})));
}

// Maximize: the 25th percentile keeps the top 75%; with values 0..4, p(75) = 3:
// 2.5 is pruned, 3.5 is not.
TEST_CASE("percentile pruner in maximisation", "[pruner]") {
  auto trials = history(5);
  PercentilePrunerOptions o;
  o.percentile = 25;
  PercentilePruner p(o);
  CHECK(p.prune(Direction::Maximize, trials, running({{0, 2.5}})));
  CHECK_FALSE(p.prune(Direction::Maximize, trials, running({{0, 3.5}})));
  CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{0, 0.5}})));  // p25 = 1
}

// NaN: a trial whose every value is NaN is pruned; NaN values of other trials are ignored.
TEST_CASE("pruner NaN handling", "[pruner]") {
  auto trials = history(5);
  CHECK(median().prune(Direction::Minimize, trials, running({{0, NAN}})));
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({{0, NAN}, {1, 0.5}})));
  for (auto& t : trials) {
    t.intermediate_values[0] = NAN;
  }
  CHECK_FALSE(median().prune(Direction::Minimize, trials, running({{0, 100.0}})));
}

// Out-of-range options are rejected with the value received.
TEST_CASE("percentile pruner validates its options", "[pruner]") {
  PercentilePrunerOptions o;
  o.percentile = 120;
  CHECK_THROWS_WITH(PercentilePruner(o),
                    "percentile must be between 0 and 100 inclusive, but got 120");
  o.percentile = 50;
  o.interval_steps = 0;
  CHECK_THROWS_AS(PercentilePruner(o), std::invalid_argument);
}

// One pruner asked after every step of a stored trial (its incremental best value) decides
// exactly as a fresh pruner that recomputes everything, whatever order the steps come in.
TEST_CASE("percentile pruner: incremental best equals recomputation", "[pruner]") {
  auto trials = history(5);
  for (int s = 0; s < 200; ++s) {  // Complete trials have values at every step.
    for (int i = 0; i < 5; ++i) {
      trials[i].intermediate_values[s] = i;
    }
  }
  std::mt19937 rng(11);
  for (const auto direction : {Direction::Minimize, Direction::Maximize}) {
    PercentilePruner memo(PercentilePrunerOptions{});
    FrozenTrial t = running({});
    for (int k = 0; k < 300; ++k) {
      // Mostly increasing steps, sometimes one below the last, sometimes a NaN.
      const int64_t step = rng() % 5 == 0 ? static_cast<int64_t>(rng() % 200)
                                          : (t.last_step() ? *t.last_step() + 1 : 0);
      const double value = rng() % 7 == 0 ? NAN : static_cast<double>(rng() % 1000) / 200.0;
      t.intermediate_values.emplace(step, value);  // A repeated step keeps its first value.
      INFO(k);
      CHECK(memo.prune(direction, trials, t) ==
            PercentilePruner(PercentilePrunerOptions{}).prune(direction, trials, t));
    }
  }
}

// Steps at the ends of int64 (with warm-up and interval near them too) decide without
// overflow: no other trial reported there, so nothing is pruned.
TEST_CASE("percentile pruner at extreme steps", "[pruner]") {
  constexpr int64_t k_max = std::numeric_limits<int64_t>::max();
  constexpr int64_t k_min = std::numeric_limits<int64_t>::min();
  const auto trials = history(5);
  for (int64_t warmup : {int64_t{0}, k_max}) {
    for (int64_t interval : {int64_t{1}, int64_t{7}, k_max}) {
      PercentilePruner p(PercentilePrunerOptions{50.0, 0, warmup, interval, 1});
      CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{k_max, 1e9}})));
      CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{k_min, 1e9}})));
      CHECK_FALSE(p.prune(Direction::Minimize, trials, running({{k_min, 1e9}, {k_max, 1e9}})));
    }
  }
}
