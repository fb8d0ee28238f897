#pragma once
// Pruners decide, after each reported step, whether a running trial should stop
// (Optuna's BasePruner: one method).

#include <memory>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

class Pruner {
 public:
  virtual ~Pruner() = default;
  // True if trial (RUNNING, with its intermediate values so far) should be pruned,
  // given all the study's trials.
  virtual bool prune(Direction direction, const std::vector<FrozenTrial>& trials,
                     const FrozenTrial& trial) const = 0;
};

// Builds a pruner: type "median", "percentile" or "none" with its options (JSON
// object). Throws std::invalid_argument naming an unknown type or bad option.
std::unique_ptr<Pruner> make_pruner(const std::string& type, const Json& options);

}  // namespace hpt
