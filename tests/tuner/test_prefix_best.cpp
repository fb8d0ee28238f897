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
