#pragma once
// Optuna 3.1's PercentilePruner (MedianPruner is percentile 50): prune a trial whose
// best intermediate value so far is worse than the given percentile of the COMPLETE
// trials' values at the same step.

#include <cstdint>
#include <optional>
#include <unordered_map>

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
  // steps in increasing order (a reported step's value is assumed never to change, as in
  // Optuna, between the first and the last step); O(steps) otherwise.
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;

 private:
  // A trial's best intermediate value as last computed, and what it was computed from.
  struct BestSoFar {
    size_t count = 0;
    int64_t first = 0;
    double first_value = 0.0;
    int64_t last = 0;
    double last_value = 0.0;
    std::optional<Clock::time_point> start;  // A re-run of the trial starts anew.
    Direction direction = Direction::Minimize;
    double best = 0.0;
  };

  bool should_prune(Direction direction, const std::vector<FrozenTrial>& trials,
                    const FrozenTrial& trial);
  // The best non-NaN intermediate value of trial (NaN if none). requires: values non-empty.
  double best_value(const FrozenTrial& trial, Direction direction);

  PercentilePrunerOptions m_options;
  std::unordered_map<int64_t, BestSoFar> m_best;  // By trial id.
};

// numpy.nanpercentile with linear interpolation; NaN if values has no number.
// requires: 0 <= percentile <= 100.
double nan_percentile(std::vector<double> values, double percentile);

}  // namespace hpt
