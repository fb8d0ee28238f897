#include "hpt/tuner/patient_pruner.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace hpt {

PatientPruner::PatientPruner(PatientPrunerOptions options, std::unique_ptr<Pruner> wrapped)
    : m_options(options), m_wrapped(std::move(wrapped)) {
  if (m_options.patience < 0 || !(m_options.min_delta >= 0)) {
    throw std::invalid_argument(
        fmt::format("patient pruner needs patience >= 0 and min_delta >= 0, but got {} and {}",
                    m_options.patience, m_options.min_delta));
  }
}

PruneDecision PatientPruner::decide(const PruneContext& ctx, const FrozenTrial& trial) {
  const auto& values = trial.intermediate_values;
  if (values.size() <= static_cast<size_t>(m_options.patience) + 1) {
    return {};  // Too few steps to tell.
  }
  const Direction direction = ctx.direction;
  // The best before the last patience + 1 values (kept as steps arrive).
  const double before =
      m_before.best(trial, direction, values.size() - static_cast<size_t>(m_options.patience) - 1);
  double after = std::numeric_limits<double>::quiet_NaN();
  auto v = values.rbegin();
  for (int64_t i = 0; i <= m_options.patience; ++i, ++v) {
    after = better_of(v->second, after, direction);
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
