#include "hpt/tuner/percentile_pruner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "hpt/tuner/options.hpp"

namespace hpt {

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double nan_percentile(std::vector<double> values, double percentile) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) {
    return k_nan;
  }
  std::sort(values.begin(), values.end());
  // numpy's 'linear' method step by step (_quantile, _get_indexes, _get_gamma, _lerp), so that
  // the result is the same double, ±inf neighbours included (inf * 0 is NaN there too).
  const double last = static_cast<double>(values.size() - 1);
  const double virtual_index = last * (percentile / 100.0);
  const bool above = virtual_index >= last;  // numpy then takes index -1 for both neighbours.
  const double previous = above ? -1.0 : std::floor(virtual_index);
  const double a = values[above ? values.size() - 1 : static_cast<size_t>(previous)];
  const double b = values[above ? values.size() - 1 : static_cast<size_t>(previous) + 1];
  const double gamma = virtual_index - previous;
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

PercentilePrunerOptions percentile_options_from_json(const std::string& type, const Json& options,
                                                     double fixed_percentile) {
  OptionReader r(type + " pruner", options);
  PercentilePrunerOptions o;
  if (fixed_percentile >= 0.0) {
    o.percentile = fixed_percentile;
  } else {
    if (!r.has("percentile")) {
      throw std::invalid_argument(
          fmt::format("{} pruner needs option 'percentile' (a number in [0, 100])", type));
    }
    o.percentile = r.get_double("percentile", 50.0, 0.0, 100.0);
  }
  constexpr int64_t k_int_max = std::numeric_limits<int>::max();
  o.n_startup_trials =
      static_cast<int>(r.get_int("n_startup_trials", o.n_startup_trials, 0, k_int_max));
  o.n_warmup_steps = r.get_int("n_warmup_steps", o.n_warmup_steps, 0);
  o.interval_steps = r.get_int("interval_steps", o.interval_steps, 1);
  o.n_min_trials = static_cast<int>(r.get_int("n_min_trials", o.n_min_trials, 1, k_int_max));
  r.finish();
  return o;
}

PercentilePruner::PercentilePruner(PercentilePrunerOptions options) : m_options(options) {
  if (!(m_options.percentile >= 0.0 && m_options.percentile <= 100.0)) {
    throw std::invalid_argument(fmt::format(
        "percentile must be between 0 and 100 inclusive, but got {}", m_options.percentile));
  }
  if (m_options.n_startup_trials < 0 || m_options.n_warmup_steps < 0 ||
      m_options.interval_steps < 1 || m_options.n_min_trials < 1) {
    throw std::invalid_argument(
        fmt::format("pruner needs n_startup_trials >= 0, n_warmup_steps >= 0, interval_steps >= 1, "
                    "n_min_trials >= 1, but got {}, {}, {}, {}",
                    m_options.n_startup_trials, m_options.n_warmup_steps, m_options.interval_steps,
                    m_options.n_min_trials));
  }
}

PruneDecision PercentilePruner::decide(const PruneContext& ctx, const FrozenTrial& trial) {
  return PruneDecision{should_prune(ctx.direction, *ctx.trials, trial, ctx.new_step), {}};
}

bool PercentilePruner::should_prune(Direction direction, const std::vector<FrozenTrial>& trials,
                                    const FrozenTrial& trial, std::optional<int64_t> new_step) {
  std::vector<const FrozenTrial*> completed;
  for (const FrozenTrial& t : trials) {
    if (t.state == TrialState::Complete) {
      completed.push_back(&t);
    }
  }
  if (completed.empty() || static_cast<int>(completed.size()) < m_options.n_startup_trials) {
    return false;
  }
  const std::optional<int64_t> step = trial.last_step();
  if (!step || *step < m_options.n_warmup_steps) {
    return false;
  }
  // Every step, so that the best is kept as steps arrive.
  const double best = m_best.best(trial, direction, trial.intermediate_values.size(), new_step);
  if (!first_in_interval(*step, trial.intermediate_values, m_options.n_warmup_steps,
                         m_options.interval_steps)) {
    return false;
  }
  if (std::isnan(best)) {
    return true;  // Every reported value is NaN.
  }
  std::vector<double> at_step;
  for (const FrozenTrial* t : completed) {
    auto it = t->intermediate_values.find(*step);
    if (it != t->intermediate_values.end()) {
      at_step.push_back(it->second);
    }
  }
  if (static_cast<int>(at_step.size()) < m_options.n_min_trials) {
    return false;
  }
  const double p =
      nan_percentile(at_step, direction == Direction::Maximize ? 100.0 - m_options.percentile
                                                               : m_options.percentile);
  if (std::isnan(p)) {
    return false;
  }
  return is_better(p, best, direction);
}

}  // namespace hpt
