#pragma once
// Best trials of single- and multi-objective studies (Optuna's study.best_trials).

#include <optional>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// True if values a dominate b under directions (Optuna's _dominates): no worse in every
// objective and better in one. Requires a.size() == b.size() == directions.size().
bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& directions);

// The one rule for which trials can be best (Optuna 4's): COMPLETE, with one value per
// objective and no NaN among them, and feasible (is_feasible: no constraint values, or all
// <= 0; Optuna 3.1 counted infeasible ones too). Infinite values count (-inf is the best
// minimum).
bool is_best_candidate(const FrozenTrial& t, size_t n_objectives);

// The index in trials of the single-objective best trial: the best value by is_better among
// is_best_candidate(t, 1) trials, the lowest number among equal values; std::nullopt if none.
// Every "best trial" (hpt best, the run's summary, reports, dashboard) is this one.
std::optional<size_t> best_trial_index(const std::vector<FrozenTrial>& trials, Direction direction);

// The is_best_candidate trials that no other such trial
// dominates (the Pareto front; for one direction the best trials, ties included), ordered by
// number. Throws std::invalid_argument if a direction is NotSet.
std::vector<FrozenTrial> best_trials(const std::vector<FrozenTrial>& trials,
                                     const std::vector<Direction>& directions);

// Each row's non-domination rank among rows of minimised values (Optuna's
// _calculate_nondomination_rank): 0 for the Pareto front, 1 for the front once those are
// removed, and so on. requires: rows of equal length.
std::vector<int> nondomination_ranks(const std::vector<std::vector<double>>& rows);

}  // namespace hpt
