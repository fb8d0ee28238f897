#include "hpt/tuner/pruner.hpp"

#include <iterator>

namespace hpt {

bool first_in_interval(int64_t step, const StepValues& values, int64_t warmup, int64_t interval) {
  const int64_t nearest_lower = (step - warmup) / interval * interval + warmup;
  const int64_t second_last = values.size() >= 2 ? std::prev(values.end(), 2)->first : -1;
  return second_last < nearest_lower;
}

}  // namespace hpt
