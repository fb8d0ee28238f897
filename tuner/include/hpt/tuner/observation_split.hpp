#pragma once
// TPE's split of the study's history into "good" (below) and "bad" (above) trials,
// as Optuna 3.1's _get_observation_pairs / _split_observation_pairs.

#include <cstddef>
#include <functional>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// Optuna's default_gamma: min(ceil(0.1 n), 25).
int default_gamma(int n);

// TPE's size of the "good" set: min(ceil(factor * n), max), or with sqrt (hyperopt's rule)
// min(ceil(factor * sqrt(n)), max). The default is default_gamma.
struct Gamma {
  double factor = 0.1;
  int max = 25;
  bool sqrt = false;
  int operator()(int n) const;
};

struct ObservationSplit {
  // The gamma(n) best trials, in trial-number order (several objectives: in the order MOTPE
  // selects them, see split_observations_multi_objective).
  std::vector<const FrozenTrial*> below;
  std::vector<const FrozenTrial*> above;  // The others, in trial-number order.
  int n_finished = 0;                     // n: COMPLETE (with a value) + PRUNED trials used.
  // Several objectives only: the weight of each below trial in l(x) (its hypervolume
  // contribution); empty for one objective (Optuna's default_weights apply).
  std::vector<double> below_weights;
};

// Ranks COMPLETE trials by value (direction-aware, NaN worst), then PRUNED trials by
// their last step (later is better) and the value there (NaN worst), then PRUNED trials
// without intermediate values, then (constant_liar) RUNNING trials; FAIL and WAITING
// trials and trial number exclude_number are ignored. Ties keep trial-number order.
// In a constrained study (constraints_reported) feasible trials come first, as
// constrained_below says.
// ensures: below.size() == min(gamma(n_finished), candidates); RUNNING trials
// are only ever above.
ObservationSplit split_observations(const std::vector<FrozenTrial>& trials, Direction direction,
                                    int exclude_number, bool constant_liar,
                                    const Gamma& gamma = {});

// Optuna's split of a constrained study's candidates (_split_observation_pairs with
// violations): the positions in violations (one per candidate, in trial-number order;
// +inf for a RUNNING trial or one without constraint values) of the n_below best. By
// violation, stably, when fewer than n_below candidates are feasible; otherwise the
// feasible ones that rank(feasible positions, n_below) picks by their objective values.
// ensures: the result's size is min(n_below, violations.size()), in increasing order.
std::vector<size_t> constrained_below(
    const std::vector<double>& violations, size_t n_below,
    const std::function<std::vector<size_t>(const std::vector<size_t>&, size_t)>& rank);

}  // namespace hpt
