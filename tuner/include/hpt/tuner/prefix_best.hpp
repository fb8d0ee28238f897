#pragma once
// The best of a trial's first intermediate values, kept per trial as its steps arrive, for the
// pruners that judge a trial by it (percentile: all its values; patient: those before its
// window).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "hpt/tuner/trial.hpp"

namespace hpt {

class PrefixBest {
 public:
  // The best (is_better under direction; NaN only if all are NaN) of the first count
  // intermediate values of trial, in step order. Costs O(size - count) when a stored trial
  // (id >= 0) added one step after the counted ones or one before them since the last call (a
  // worker reporting forwards or backwards; a reported step's value is assumed never to change,
  // as in Optuna), O(log size) when the last call and this one count every value and new_step
  // is the one step added between them (anywhere: steps out of order), O(count) otherwise.
  // requires: 1 <= count <= the trial's number of values.
  double best(const FrozenTrial& trial, Direction direction, size_t count,
              std::optional<int64_t> new_step = std::nullopt);

 private:
  // What best() last computed for a trial, and from which values.
  struct Entry {
    size_t count = 0;
    size_t size = 0;    // The trial's number of values then.
    int64_t first = 0;  // The first value's step, and the value.
    double first_value = 0.0;
    int64_t last = 0;  // The last counted value's step, and the value.
    double last_value = 0.0;
    std::optional<Clock::time_point> start;  // A re-run of the trial starts anew.
    Direction direction = Direction::Minimize;
    double best = 0.0;
  };
  std::unordered_map<int64_t, Entry> m_entries;  // By trial id.
};

}  // namespace hpt
