#pragma once
// Constrained optimisation (Optuna's constraints_func): a trial's constraint values, stored as
// Optuna stores them, and the one feasibility rule every sampler, best trial and report uses.

#include <optional>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// The trial system attribute holding a trial's constraint values, a JSON list of numbers
// (Optuna's _CONSTRAINTS_KEY; null where Optuna's constraints_func failed).
inline constexpr const char* k_constraints_attr = "constraints";

// The trial's constraint values: a non-empty list of numbers, none NaN; std::nullopt for
// none (absent, null, or anything else, which Optuna could not have written).
std::optional<std::vector<double>> trial_constraints(const FrozenTrial& t);

// The most constraint values a trial may report: every read of the study parses them, and
// every table shows them.
inline constexpr size_t k_max_constraints = 1000;

// Why a trial may not report count constraint values in a study whose trials are trials: more
// than k_max_constraints, or the first trial with constraints reported another count (Optuna's
// NSGA-II refuses to compare such trials: "Trials with different numbers of constraints cannot
// be compared"). Empty when it may.
std::string constraints_count_problem(size_t count, const std::vector<FrozenTrial>& trials);

// How much constraint values violate the constraints: the sum of the positive ones (Optuna's
// violation); 0 when every value is <= 0, i.e. feasible.
double violation_of(const std::vector<double>& constraints);

// Feasible constraint values: every one <= 0 (violation_of is 0).
inline bool constraints_met(const std::vector<double>& constraints) {
  return violation_of(constraints) <= 0.0;
}

// violation_of t's constraint values; std::nullopt for a trial without them.
std::optional<double> constraint_violation(const FrozenTrial& t);

// Feasible: no constraint values (none stored, null, or []), or every one <= 0 (Optuna 4's
// best_trial rule). Constraints stored as anything else (another tool's "0.5", [0.1, "x"],
// [NaN]: Optuna's rule raises on some and finds others infeasible) are infeasible, so that such
// a trial is never taken for the best.
bool is_feasible(const FrozenTrial& t);

// True if any of trials has constraint values: the study is then a constrained one, and the
// samplers that use constraints (tpe, nsga2) rank infeasible trials below feasible ones.
bool constraints_reported(const std::vector<FrozenTrial>& trials);

// Optuna's constrained domination (NSGA-II's _constrained_dominates): a trial with
// constraint values dominates one without; a feasible one an infeasible one; of two
// infeasible ones the smaller violation wins; two feasible ones (or two without) compare
// by dominates() on their values. requires: values of directions.size() in both.
bool constrained_dominates(const FrozenTrial& a, const FrozenTrial& b,
                           const std::vector<Direction>& directions);

}  // namespace hpt
