#pragma once
// study.enqueue: trials the config asks to run first, with some parameters given (Optuna's
// study.enqueue_trial(params, skip_if_exists=True)), stored as Optuna stores them: a WAITING
// trial whose system attribute "fixed_params" holds the given values.

#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// Optuna's name for an enqueued trial's given parameters (a trial system attribute).
inline constexpr const char* k_fixed_params_attr = "fixed_params";

// The most trials a config's enqueue may list (each is a trial made when the study starts).
inline constexpr size_t k_max_enqueued = 10000;

// given ({name: external value}) as a text that two such sets share exactly when they name the
// same parameters of space with equal values (Optuna's _should_skip_enqueue, exact);
// std::nullopt when a name is not in space or a value is not one its distribution takes
// (another tool's), which no entry of a config's enqueue can equal.
std::optional<std::string> enqueue_key(const Json& given, const SearchSpace& space);

// The entries of enqueue (each {name: external value} over names of space) that no trial of
// trials holds yet, in order: a trial holds an entry when the values it was given
// (fixed_params), or else its parameters, have the entry's enqueue_key.
std::vector<Json> entries_not_enqueued(const std::vector<Json>& enqueue,
                                       const std::vector<FrozenTrial>& trials,
                                       const SearchSpace& space);

}  // namespace hpt
