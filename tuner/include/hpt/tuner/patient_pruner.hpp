#pragma once
// Optuna 3.1's PatientPruner: a trial whose best intermediate value of its last patience + 1
// steps is no better (by more than min_delta) than its best before them has stalled; a stalled
// trial is pruned, or, with a wrapped pruner, handed to it to decide. A trial that has not
// stalled is never pruned.

#include <cstdint>
#include <memory>
#include <optional>

#include "hpt/tuner/prefix_best.hpp"
#include "hpt/tuner/pruner.hpp"

namespace hpt {

struct PatientPrunerOptions {
  int64_t patience = 0;    // >= 0: steps without improvement a trial is given.
  double min_delta = 0.0;  // >= 0: what counts as an improvement.
};

class PatientPruner : public Pruner {
 public:
  // wrapped may be null (a stalled trial is pruned). Throws std::invalid_argument on a
  // negative patience or min_delta (as Optuna's constructor).
  PatientPruner(PatientPrunerOptions options, std::unique_ptr<Pruner> wrapped);
  // The wrapped pruner's decision, attributes included, when stalled. Costs O(patience) when a
  // stored trial (id >= 0) reports its steps in increasing or in decreasing order, O(steps)
  // when a step arrives elsewhere (PrefixBest).
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;

 private:
  PatientPrunerOptions m_options;
  std::unique_ptr<Pruner> m_wrapped;
  PrefixBest m_before;  // The best before each trial's window.
};

}  // namespace hpt
