#pragma once
// Optuna 3.1's SuccessiveHalvingPruner (asynchronous successive halving, ASHA): a trial
// that reaches rung k's step min_resource * reduction_factor^(min_early_stopping_rate + k)
// records its value there as system attribute "completed_rung_<k>" and continues only if
// it is among the best 1/reduction_factor of the values recorded at that rung so far.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/pruner.hpp"

namespace hpt {

struct SuccessiveHalvingOptions {
  // Steps of the first rung; std::nullopt = "auto": (largest last step of a COMPLETE
  // trial) / 100, at least 1, fixed once known (no pruning before).
  std::optional<int64_t> min_resource;
  int64_t reduction_factor = 4;         // >= 2.
  int64_t min_early_stopping_rate = 0;  // >= 0: the first rung is this many rungs up.
  int64_t bootstrap_count = 0;          // Values a rung needs before anyone is promoted.
};

// Reads a "successive_halving" pruner's options; throws std::invalid_argument naming an
// unknown, wrongly typed or out-of-range option.
SuccessiveHalvingOptions successive_halving_options_from_json(const Json& options);

// The name of rung k's system attribute: "completed_rung_<k>" (Optuna's), k_rung_attr_prefix
// and k. They hold values of the trial's steps: a trial run again from step 0 drops them.
inline constexpr const char* k_rung_attr_prefix = "completed_rung_";
std::string completed_rung_key(int64_t rung);

class SuccessiveHalvingPruner : public Pruner {
 public:
  // Throws std::invalid_argument on out-of-range options (Optuna's constructor checks).
  explicit SuccessiveHalvingPruner(SuccessiveHalvingOptions options);
  // Walks the trial's rungs from its first uncompleted one (Optuna's loop): each rung its
  // last step reaches is recorded in the decision's attributes; pruned at the first rung
  // where it is not promotable, or when its last value is NaN at a rung.
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;
  // decide among the trials of ctx that in_study accepts (Hyperband's bracket), reading them in
  // place: no copy of their steps.
  PruneDecision decide_among(const PruneContext& ctx, const FrozenTrial& trial,
                             const std::function<bool(const FrozenTrial&)>& in_study);

  const SuccessiveHalvingOptions& options() const { return m_options; }

 private:
  SuccessiveHalvingOptions m_options;
};

}  // namespace hpt
