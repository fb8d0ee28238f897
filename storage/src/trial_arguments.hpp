#pragma once
// Internal to the storage backends: the argument checks and defaults of create_trial and
// set_trial_state_values, made before any SQL runs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hpt/storage/storage.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

// Why create_trial cannot store templ (a parameter without a distribution, a NaN value, a
// name or key longer than k_max_name_chars); std::nullopt when it can.
std::optional<std::string> new_trial_problem(const FrozenTrial& templ);

// Why `what` (a study name, attribute key or parameter name) cannot be stored: longer than
// k_max_name_chars characters (UTF-8 code points); std::nullopt when it can.
std::optional<std::string> name_problem(const char* what, const std::string& name);

// Why set_trial_state_values cannot store (state, values, system_attrs) (a NaN value,
// COMPLETE without a value, attributes that are no object or have too long a key);
// std::nullopt when it can.
std::optional<std::string> state_values_problem(int64_t trial_id, TrialState state,
                                                const std::vector<double>& values,
                                                const Json* system_attrs = nullptr);

// templ's datetime_start and datetime_complete, now where missing: start unless WAITING,
// complete for finished states.
struct TrialTimes {
  std::optional<Clock::time_point> start;
  std::optional<Clock::time_point> complete;
};
TrialTimes new_trial_times(const FrozenTrial& templ);

}  // namespace hpt
