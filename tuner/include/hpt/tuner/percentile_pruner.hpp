#pragma once
// Optuna 3.1's PercentilePruner (MedianPruner is percentile 50): prune a trial whose
// best intermediate value so far is worse than the given percentile of the COMPLETE
// trials' values at the same step.

#include <cstdint>
#include <optional>

#include "hpt/tuner/prefix_best.hpp"
#include "hpt/tuner/pruner.hpp"

namespace hpt {

struct PercentilePrunerOptions {
  double percentile = 50.0;    // In [0, 100].
  int n_startup_trials = 5;    // No pruning before this many COMPLETE trials.
  int64_t n_warmup_steps = 0;  // No pruning before this step.
  int64_t interval_steps = 1;  // Prune-checks every interval_steps after the warm-up.
  int n_min_trials = 1;        // COMPLETE trials needed with a value at the step.
};

// Reads a "median" (fixed_percentile = 50, no 'percentile' option) or "percentile"
// (fixed_percentile < 0: 'percentile' required) pruner's options. Throws
// std::invalid_argument naming an unknown, missing or out-of-range option.
PercentilePrunerOptions percentile_options_from_json(const std::string& type, const Json& options,
                                                     double fixed_percentile);

class PercentilePruner : public Pruner {
 public:
  // Throws std::invalid_argument on out-of-range options (as Optuna's constructor).
  explicit PercentilePruner(PercentilePrunerOptions options);
  // Costs O(1) in the trial's number of steps when a stored trial (id >= 0) reports its
  // steps in increasing or decreasing order, O(log steps) in any order when ctx.new_step
  // names each step as it comes (PrefixBest); O(steps) otherwise.
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;

 private:
  bool should_prune(Direction direction, const std::vector<FrozenTrial>& trials,
                    const FrozenTrial& trial, std::optional<int64_t> new_step);
  PercentilePrunerOptions m_options;
  PrefixBest m_best;  // Each trial's best value so far.
};

// numpy.nanpercentile with linear interpolation; NaN if values has no number.
// requires: 0 <= percentile <= 100.
double nan_percentile(std::vector<double> values, double percentile);

}  // namespace hpt
