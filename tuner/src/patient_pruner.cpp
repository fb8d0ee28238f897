#include "hpt/tuner/patient_pruner.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace hpt {

namespace {

// The better of a and b under direction, NaN only when both are (numpy's nanmin / nanmax).
double nan_best(double a, double b, Direction direction) {
  return is_better(a, b, direction) ? a : b;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

PatientPruner::PatientPruner(PatientPrunerOptions options, std::unique_ptr<Pruner> wrapped)
    : m_options(options), m_wrapped(std::move(wrapped)) {
  if (m_options.patience < 0 || !(m_options.min_delta >= 0)) {
    throw std::invalid_argument(
        fmt::format("patient pruner needs patience >= 0 and min_delta >= 0, but got {} and {}",
                    m_options.patience, m_options.min_delta));
  }
}

double PatientPruner::best_before(const FrozenTrial& trial, Direction direction) {
  const auto& values = trial.intermediate_values;
  const size_t count = values.size() - static_cast<size_t>(m_options.patience) - 1;
  // The last entry before the last patience + 1: patience + 1 entries from the end.
  const auto last = std::prev(values.end(), m_options.patience + 2);
  const auto& first = *values.begin();
  auto it = trial.id >= 0 ? m_before.find(trial.id) : m_before.end();
  if (it != m_before.end() && it->second.direction == direction &&
      it->second.start == trial.datetime_start) {
    Before& b = it->second;
    const bool same_first = first.first == b.first && same(first.second, b.first_value);
    const bool same_last = last->first == b.last && same(last->second, b.last_value);
    if (count == b.count && same_first && same_last) {
      return b.best;  // Asked again with nothing new before the window.
    }
    if (count == b.count + 1 && same_first) {  // count >= 2: the entry before last counted too.
      const auto previous = std::prev(last);
      if (previous->first == b.last && same(previous->second, b.last_value)) {
        b.best = nan_best(last->second, b.best, direction);  // One entry left the window.
        b.count = count;
        b.last = last->first;
        b.last_value = last->second;
        return b.best;
      }
    }
    if (count == b.count + 1 && same_last && first.first < b.first) {  // Reported backwards.
      const auto second = std::next(values.begin());
      if (second->first == b.first && same(second->second, b.first_value)) {
        b.best = nan_best(first.second, b.best, direction);  // One new first entry.
        b.count = count;
        b.first = first.first;
        b.first_value = first.second;
        return b.best;
      }
    }
  }
  double best = std::numeric_limits<double>::quiet_NaN();
  for (auto v = values.begin(); v != std::next(last); ++v) {
    best = nan_best(v->second, best, direction);
  }
  if (trial.id >= 0) {
    m_before[trial.id] = Before{count,        first.first,          first.second, last->first,
                                last->second, trial.datetime_start, direction,    best};
  }
  return best;
}

PruneDecision PatientPruner::decide(const PruneContext& ctx, const FrozenTrial& trial) {
  const auto& values = trial.intermediate_values;
  if (values.size() <= static_cast<size_t>(m_options.patience) + 1) {
    return {};  // Too few steps to tell.
  }
  const Direction direction = ctx.direction;
  const double before = best_before(trial, direction);
  double after = std::numeric_limits<double>::quiet_NaN();
  auto v = values.rbegin();
  for (int64_t i = 0; i <= m_options.patience; ++i, ++v) {
    after = nan_best(v->second, after, direction);
  }
  // NaN on either side compares false: not stalled (numpy's nanmin of all-NaN is NaN).
  const bool stalled = direction == Direction::Maximize ? before - m_options.min_delta > after
                                                        : before + m_options.min_delta < after;
  if (!stalled) {
    return {};
  }
  return m_wrapped ? m_wrapped->decide(ctx, trial) : PruneDecision{true, {}};
}

}  // namespace hpt
