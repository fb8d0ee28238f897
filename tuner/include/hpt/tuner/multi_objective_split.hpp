#pragma once
// Multi-objective TPE's split of the history (Optuna 3.1's _split_observation_pairs and
// _calculate_weights_below_for_multi_objective, the MOTPE of Ozaki et al.).

#include <vector>

#include "hpt/tuner/observation_split.hpp"

namespace hpt {

// Uses the COMPLETE trials with one value per direction, none NaN (as Optuna, PRUNED and
// RUNNING trials are left out: no constant liar, no pruning), except exclude_number; n is
// their count. below: the whole non-domination ranks 0, 1, ... that fit in default_gamma(n),
// then from the next rank the points chosen greedily for hypervolume (reference point
// max(1.1 w, 0.9 w) of the rank's worst point w). below_weights: each below trial's
// hypervolume contribution among below (+1e-12) divided by the largest, a single one 1; all 1
// where infinite values make that undefined (Optuna's NaN). A constrained study
// (constraints_reported) picks below as constrained_below says, in trial-number order, and
// weighs only its feasible trials so (an infeasible one: 1e-12, Optuna's EPS).
// ensures: below.size() == default_gamma(n); below_weights.size() == below.size(), all in
// (0, 1]; above in trial-number order. requires: directions.size() >= 2, none NotSet.
ObservationSplit split_observations_multi_objective(const std::vector<FrozenTrial>& trials,
                                                    const std::vector<Direction>& directions,
                                                    int exclude_number);

}  // namespace hpt
