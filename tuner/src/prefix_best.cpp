#include "hpt/tuner/prefix_best.hpp"

#include <cmath>
#include <iterator>
#include <limits>

namespace hpt {

namespace {

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

double PrefixBest::best(const FrozenTrial& trial, Direction direction, size_t count,
                        std::optional<int64_t> new_step) {
  const auto& values = trial.intermediate_values;
  const auto& first = *values.begin();
  const auto last = std::prev(values.end(), static_cast<std::ptrdiff_t>(values.size() - count + 1));
  auto it = trial.id >= 0 ? m_entries.find(trial.id) : m_entries.end();
  if (it != m_entries.end() && it->second.direction == direction &&
      it->second.start == trial.datetime_start) {
    Entry& e = it->second;
    const bool same_first = first.first == e.first && same(first.second, e.first_value);
    const bool same_last = last->first == e.last && same(last->second, e.last_value);
    if (count == e.count && same_first && same_last) {
      return e.best;  // Asked again with nothing new among the counted values.
    }
    const auto added = new_step ? values.find(*new_step) : values.end();
    if (added != values.end() && e.count == e.size && count == values.size() &&
        count == e.count + 1) {  // Every value counted, then and now; one added anywhere.
      e.best = better_of(added->second, e.best, direction);
      e.count = e.size = count;
      e.first = first.first;
      e.first_value = first.second;
      e.last = last->first;
      e.last_value = last->second;
      return e.best;
    }
    if (count == e.count + 1 && same_first) {  // count >= 2: the value before last counted too.
      const auto previous = std::prev(last);
      if (previous->first == e.last && same(previous->second, e.last_value)) {
        e.best = better_of(last->second, e.best, direction);  // One new last counted value.
        e.count = count;
        e.size = values.size();
        e.last = last->first;
        e.last_value = last->second;
        return e.best;
      }
    }
    if (count == e.count + 1 && same_last && first.first < e.first) {  // Reported backwards.
      const auto second = std::next(values.begin());
      if (second->first == e.first && same(second->second, e.first_value)) {
        e.best = better_of(first.second, e.best, direction);  // One new first value.
        e.count = count;
        e.size = values.size();
        e.first = first.first;
        e.first_value = first.second;
        return e.best;
      }
    }
  }
  double best = std::numeric_limits<double>::quiet_NaN();
  for (auto v = values.begin(); v != std::next(last); ++v) {
    best = better_of(v->second, best, direction);
  }
  if (trial.id >= 0) {
    m_entries[trial.id] = Entry{count,        values.size(), first.first,          first.second,
                                last->first,  last->second,  trial.datetime_start, direction,
                                best};
  }
  return best;
}

}  // namespace hpt
