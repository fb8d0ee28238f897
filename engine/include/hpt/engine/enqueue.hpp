#pragma once
// study.enqueue: trials the config asks to run first, with some parameters given (Optuna's
// study.enqueue_trial(params, skip_if_exists=True)), stored as Optuna stores them: a WAITING
// trial whose system attribute "fixed_params" holds the given values.

#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// Optuna's name for an enqueued trial's given parameters (a trial system attribute).
inline constexpr const char* k_fixed_params_attr = "fixed_params";

// The entries of enqueue (each {name: external value} over names of space) that no trial of
// trials holds yet, in order. A trial holds an entry when the names it was given
// (fixed_params), or else the names it has parameters for, are exactly the entry's and every
// value equals the entry's under space's distribution (Optuna's _should_skip_enqueue, exact).
std::vector<Json> entries_not_enqueued(const std::vector<Json>& enqueue,
                                       const std::vector<FrozenTrial>& trials,
                                       const SearchSpace& space);

}  // namespace hpt
