#pragma once
// Optuna 3.1's ThresholdPruner: prune a trial whose latest intermediate value is NaN, below
// lower or above upper, checked after the warm-up once per interval (a diverged loss, an AUC
// stuck at chance).

#include <cstdint>
#include <limits>

#include "hpt/tuner/pruner.hpp"

namespace hpt {

struct ThresholdPrunerOptions {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  int64_t n_warmup_steps = 0;  // No pruning before this step.
  int64_t interval_steps = 1;  // Checks every interval_steps after the warm-up.
};

// Reads a "threshold" pruner's options: lower, upper (one of them at least, lower <= upper),
// n_warmup_steps, interval_steps. Throws std::invalid_argument naming the option.
ThresholdPrunerOptions threshold_options_from_json(const Json& options);

class ThresholdPruner : public Pruner {
 public:
  // Throws std::invalid_argument on out-of-range options (as Optuna's constructor).
  explicit ThresholdPruner(ThresholdPrunerOptions options);
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;

 private:
  ThresholdPrunerOptions m_options;
};

}  // namespace hpt
