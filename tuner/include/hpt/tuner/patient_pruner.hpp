#pragma once
// Optuna 3.1's PatientPruner: a trial whose best intermediate value of its last patience + 1
// steps is no better (by more than min_delta) than its best before them has stalled; a stalled
// trial is pruned, or, with a wrapped pruner, handed to it to decide. A trial that has not
// stalled is never pruned.

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

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
  // Costs O(patience) when a stored trial (id >= 0) reports its steps in increasing or in
  // decreasing order, O(steps) when a step arrives elsewhere. The wrapped pruner's decision, attributes included, when stalled.
  PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) override;

 private:
  // The best (nan-aware) of trial's values before its last patience + 1 steps.
  double best_before(const FrozenTrial& trial, Direction direction);

  // What best_before last computed for a trial, and from which steps.
  struct Before {
    size_t count = 0;  // Entries before the last patience + 1.
    int64_t first = 0;  // The first entry, and its value.
    double first_value = 0.0;
    int64_t last = 0;  // The last entry counted, and its value.
    double last_value = 0.0;
    std::optional<Clock::time_point> start;  // A re-run of the trial starts anew.
    Direction direction = Direction::Minimize;
    double best = 0.0;
  };

  PatientPrunerOptions m_options;
  std::unique_ptr<Pruner> m_wrapped;
  std::unordered_map<int64_t, Before> m_before;  // By trial id.
};

}  // namespace hpt
