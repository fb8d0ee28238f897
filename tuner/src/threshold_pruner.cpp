#include "hpt/tuner/threshold_pruner.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "hpt/tuner/options.hpp"

namespace hpt {

ThresholdPrunerOptions threshold_options_from_json(const Json& options) {
  OptionReader r("threshold pruner", options);
  constexpr double k_inf = std::numeric_limits<double>::infinity();
  ThresholdPrunerOptions o;
  if (!r.has("lower") && !r.has("upper")) {
    throw std::invalid_argument(
        "threshold pruner needs option 'lower', 'upper' or both (the bounds an intermediate "
        "value must stay within)");
  }
  o.lower = r.get_double("lower", o.lower, -k_inf, k_inf);
  o.upper = r.get_double("upper", o.upper, -k_inf, k_inf);
  o.n_warmup_steps = r.get_int("n_warmup_steps", o.n_warmup_steps, 0);
  o.interval_steps = r.get_int("interval_steps", o.interval_steps, 1);
  r.finish();
  return o;
}

ThresholdPruner::ThresholdPruner(ThresholdPrunerOptions options) : m_options(options) {
  if (!(m_options.lower <= m_options.upper)) {
    throw std::invalid_argument(
        fmt::format("threshold pruner needs lower <= upper, but got {} > {}", m_options.lower,
                    m_options.upper));
  }
  if (m_options.n_warmup_steps < 0 || m_options.interval_steps < 1) {
    throw std::invalid_argument(
        fmt::format("threshold pruner needs n_warmup_steps >= 0 and interval_steps >= 1, but got "
                    "{} and {}",
                    m_options.n_warmup_steps, m_options.interval_steps));
  }
}

PruneDecision ThresholdPruner::decide(const PruneContext&, const FrozenTrial& trial) {
  const std::optional<int64_t> step = trial.last_step();
  if (!step || *step < m_options.n_warmup_steps ||
      !first_in_interval(*step, trial.intermediate_values, m_options.n_warmup_steps,
                         m_options.interval_steps)) {
    return {};
  }
  const double v = trial.intermediate_values.rbegin()->second;
  return PruneDecision{std::isnan(v) || v < m_options.lower || v > m_options.upper, {}};
}

}  // namespace hpt
