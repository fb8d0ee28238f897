#include "hpt/tuner/successive_halving_pruner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "hpt/tuner/options.hpp"

namespace hpt {

namespace {

// Optuna's _estimate_min_resource: max(largest COMPLETE last step // 100, 1).
std::optional<int64_t> estimate_min_resource(
    const std::vector<FrozenTrial>& trials,
    const std::function<bool(const FrozenTrial&)>& in_study) {
  std::optional<int64_t> last;
  for (const FrozenTrial& t : trials) {
    const auto step =
        t.state == TrialState::Complete && in_study(t) ? t.last_step() : std::nullopt;
    if (step && (!last || *step > *last)) {
      last = *step;
    }
  }
  if (!last) {
    return std::nullopt;
  }
  return std::max<int64_t>(*last / 100, 1);
}

// The first rung without a recorded value (Optuna's _get_current_rung).
int64_t current_rung(const FrozenTrial& trial) {
  int64_t rung = 0;
  while (trial.system_attrs.count(completed_rung_key(rung))) {
    ++rung;
  }
  return rung;
}

// min_resource * reduction_factor^rung_index, or std::nullopt when that exceeds INT64_MAX (no
// step reaches the rung). At most 63 multiplications: reduction_factor >= 2.
std::optional<int64_t> promotion_step(int64_t min_resource, int64_t reduction_factor,
                                      int64_t rung_index) {
  int64_t step = min_resource;
  for (int64_t i = 0; i < rung_index; ++i) {
    if (step > std::numeric_limits<int64_t>::max() / reduction_factor) {
      return std::nullopt;
    }
    step *= reduction_factor;
  }
  return step;
}

// Optuna's _is_trial_promotable_to_next_rung: value is within the best
// max(len / reduction_factor, 1) of competing (which includes value).
bool promotable(double value, std::vector<double> competing, int64_t reduction_factor,
                Direction direction) {
  int64_t idx = static_cast<int64_t>(competing.size()) / reduction_factor - 1;
  idx = std::max<int64_t>(idx, 0);
  std::sort(competing.begin(), competing.end(),
            [direction](double a, double b) { return is_better(a, b, direction); });
  return !is_better(competing[static_cast<size_t>(idx)], value, direction);
}

}  // namespace

std::string completed_rung_key(int64_t rung) {
  return fmt::format("{}{}", k_rung_attr_prefix, rung);
}

SuccessiveHalvingOptions successive_halving_options_from_json(const Json& options) {
  OptionReader r("successive_halving pruner", options);
  SuccessiveHalvingOptions o;
  o.min_resource = r.get_int_or_auto("min_resource", std::nullopt, 1);
  o.reduction_factor = r.get_int("reduction_factor", o.reduction_factor, 2);
  o.min_early_stopping_rate = r.get_int("min_early_stopping_rate", o.min_early_stopping_rate, 0);
  o.bootstrap_count = r.get_int("bootstrap_count", o.bootstrap_count, 0);
  r.finish();
  if (o.bootstrap_count > 0 && !o.min_resource) {
    throw std::invalid_argument(
        "successive_halving pruner option 'bootstrap_count' needs an integer 'min_resource' "
        "(not \"auto\")");
  }
  return o;
}

SuccessiveHalvingPruner::SuccessiveHalvingPruner(SuccessiveHalvingOptions options)
    : m_options(options) {
  if (m_options.min_resource && *m_options.min_resource < 1) {
    throw std::invalid_argument(
        fmt::format("min_resource must be >= 1 or \"auto\", but got {}", *m_options.min_resource));
  }
  if (m_options.reduction_factor < 2) {
    throw std::invalid_argument(
        fmt::format("reduction_factor must be >= 2, but got {}", m_options.reduction_factor));
  }
  if (m_options.min_early_stopping_rate < 0 || m_options.bootstrap_count < 0) {
    throw std::invalid_argument(
        fmt::format("min_early_stopping_rate and bootstrap_count must be >= 0, but got {}, {}",
                    m_options.min_early_stopping_rate, m_options.bootstrap_count));
  }
  if (m_options.bootstrap_count > 0 && !m_options.min_resource) {
    throw std::invalid_argument("bootstrap_count > 0 needs an integer min_resource");
  }
}

PruneDecision SuccessiveHalvingPruner::decide(const PruneContext& ctx, const FrozenTrial& trial) {
  return decide_among(ctx, trial, [](const FrozenTrial&) { return true; });
}

PruneDecision SuccessiveHalvingPruner::decide_among(
    const PruneContext& ctx, const FrozenTrial& trial,
    const std::function<bool(const FrozenTrial&)>& in_study) {
  PruneDecision decision;
  const std::optional<int64_t> step = trial.last_step();
  if (!step) {
    return decision;
  }
  if (!m_options.min_resource) {
    m_options.min_resource = estimate_min_resource(*ctx.trials, in_study);
    if (!m_options.min_resource) {
      return decision;
    }
  }
  const double value = trial.intermediate_values.at(*step);
  // Each pass reaches a higher rung step: at most 63 passes before the step exceeds INT64_MAX.
  for (int64_t rung = current_rung(trial);; ++rung) {
    const std::optional<int64_t> rung_step =
        rung > std::numeric_limits<int64_t>::max() - m_options.min_early_stopping_rate
            ? std::nullopt
            : promotion_step(*m_options.min_resource, m_options.reduction_factor,
                             m_options.min_early_stopping_rate + rung);
    if (!rung_step || *step < *rung_step) {
      return decision;
    }
    if (std::isnan(value)) {
      decision.prune = true;
      return decision;
    }
    const std::string key = completed_rung_key(rung);
    decision.system_attrs[key] = value;
    std::vector<double> competing;
    for (const FrozenTrial& t : *ctx.trials) {
      auto it = t.number == trial.number || !in_study(t) ? t.system_attrs.end()
                                                         : t.system_attrs.find(key);
      if (it != t.system_attrs.end() && it->second.is_number()) {
        competing.push_back(it->second.get<double>());
      }
    }
    competing.push_back(value);
    if (static_cast<int64_t>(competing.size()) <= m_options.bootstrap_count ||
        !promotable(value, competing, m_options.reduction_factor, ctx.direction)) {
      decision.prune = true;
      return decision;
    }
  }
}

}  // namespace hpt
