#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "hpt/tuner/prefix_best.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::PrefixBest;

namespace {

// The best of the first count values, by a plain pass.
double brute_best(const FrozenTrial& t, Direction d, size_t count) {
  double best = NAN;
  size_t i = 0;
  for (auto it = t.intermediate_values.begin(); i < count; ++it, ++i) {
    best = hpt::better_of(it->second, best, d);
  }
  return best;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

// Kept as steps arrive forwards, backwards and out of order, with NaNs, for every window
// (count = all values, all but the last 3): always what a plain pass gives.
TEST_CASE("PrefixBest equals a plain pass in any arrival order", "[pruner][prefix_best]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-1, 1);
  for (const Direction d : {Direction::Minimize, Direction::Maximize}) {
    for (size_t tail : {size_t{0}, size_t{3}}) {
      std::vector<int64_t> order;
      for (int64_t s = 0; s < 50; ++s) order.push_back(s);         // Forwards.
      for (int64_t s = -1; s > -50; --s) order.push_back(s);       // Backwards.
      for (int64_t s : {100, 75, 60, 90, 51}) order.push_back(s);  // Out of order.
      PrefixBest kept;
      FrozenTrial t;
      t.id = 3;
      for (int64_t s : order) {
        t.intermediate_values[s] = s % 11 == 0 ? NAN : value(rng);
        if (t.intermediate_values.size() <= tail) continue;
        const size_t count = t.intermediate_values.size() - tail;
        INFO("step " << s << " tail " << tail);
        CHECK(same(kept.best(t, d, count), brute_best(t, d, count)));
        CHECK(same(kept.best(t, d, count), brute_best(t, d, count)));  // Asked again.
      }
      // A re-run (a new start) starts anew, however its values compare.
      t.intermediate_values.clear();
      t.datetime_start = hpt::Clock::now();
      t.intermediate_values[0] = 5;
      CHECK(kept.best(t, d, 1) == 5);
    }
  }
}

// Steps interleaved (0, 2, 4, ... then 1, 3, 5, ...: each odd one lands inside the counted
// values) with the step named as it comes: the best is kept without a pass over the values.
TEST_CASE("PrefixBest keeps every value's best with new_step in any order", "[pruner][prefix_best]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> value(-1, 1);
  for (const Direction d : {Direction::Minimize, Direction::Maximize}) {
    PrefixBest kept;
    FrozenTrial t;
    t.id = 5;
    std::vector<int64_t> order;
    for (int64_t s = 0; s < 400; s += 2) order.push_back(s);
    for (int64_t s = 399; s > 0; s -= 2) order.push_back(s);
    for (int64_t s : order) {
      t.intermediate_values[s] = s % 37 == 0 ? NAN : value(rng);
      const size_t n = t.intermediate_values.size();
      INFO("step " << s);
      REQUIRE(same(kept.best(t, d, n, s), brute_best(t, d, n)));
    }
    // The kept best is used, not a new pass: a value changed behind its back (which the
    // contract rules out) stays unseen until a call that cannot use it (two steps added) counts
    // again.
    t.intermediate_values[1000] = 0.0;
    const double before = kept.best(t, d, t.intermediate_values.size(), 1000);
    t.intermediate_values[0] = d == Direction::Minimize ? -5.0 : 5.0;
    t.intermediate_values[1001] = 0.0;
    CHECK(kept.best(t, d, t.intermediate_values.size(), 1001) == before);
    t.intermediate_values[1002] = 0.0;
    t.intermediate_values[1003] = 0.0;
    CHECK(kept.best(t, d, t.intermediate_values.size()) == t.intermediate_values.at(0));
  }
}
