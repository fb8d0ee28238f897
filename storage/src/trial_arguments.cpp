#include "trial_arguments.hpp"

#include <fmt/format.h>

#include <cmath>

#include "hpt/io/utf8.hpp"

namespace hpt {

std::optional<std::string> name_problem(const char* what, const std::string& name) {
  const size_t chars = utf8_length(name);
  if (chars <= k_max_name_chars) {
    return std::nullopt;
  }
  return fmt::format("{} '{}...' has {} characters; Optuna's schema holds at most {}", what,
                     utf8_prefix(name, 40), chars, k_max_name_chars);
}

std::optional<std::string> new_trial_problem(const FrozenTrial& templ) {
  for (const auto& entry : templ.params) {
    if (templ.distributions.count(entry.first) == 0) {
      return "cannot create a trial: parameter '" + entry.first + "' has no distribution";
    }
    if (auto problem = name_problem("parameter name", entry.first)) {
      return "cannot create a trial: " + *problem;
    }
  }
  for (const auto* attrs : {&templ.user_attrs, &templ.system_attrs}) {
    for (const auto& entry : *attrs) {
      if (auto problem = name_problem("attribute key", entry.first)) {
        return "cannot create a trial: " + *problem;
      }
    }
  }
  for (double v : templ.objective_values()) {
    if (std::isnan(v)) {
      return std::string("cannot create a trial: its value is NaN");
    }
  }
  return std::nullopt;
}

std::optional<std::string> state_values_problem(int64_t trial_id, TrialState state,
                                                const std::vector<double>& values,
                                                const Json* system_attrs) {
  for (double v : values) {
    if (std::isnan(v)) {
      return fmt::format("trial id {}: a NaN value cannot be stored (make the trial FAIL)",
                         trial_id);
    }
  }
  if (state == TrialState::Complete && values.empty()) {
    return fmt::format("trial id {}: COMPLETE needs a value", trial_id);
  }
  if (system_attrs != nullptr) {
    if (!system_attrs->is_object()) {
      return fmt::format("trial id {}: system attributes must be an object, not {}", trial_id,
                         system_attrs->type_name());
    }
    for (const auto& entry : system_attrs->items()) {
      if (auto problem = name_problem("attribute key", entry.key())) {
        return fmt::format("trial id {}: {}", trial_id, *problem);
      }
    }
  }
  return std::nullopt;
}

TrialTimes new_trial_times(const FrozenTrial& templ) {
  TrialTimes times{templ.datetime_start, templ.datetime_complete};
  if (!times.start && templ.state != TrialState::Waiting) {
    times.start = Clock::now();
  }
  if (!times.complete && is_finished(templ.state)) {
    times.complete = Clock::now();
  }
  return times;
}

}  // namespace hpt
