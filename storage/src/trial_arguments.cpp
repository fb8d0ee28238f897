#include "trial_arguments.hpp"

#include <fmt/format.h>

#include <cmath>

namespace hpt {

std::optional<std::string> new_trial_problem(const FrozenTrial& templ) {
  for (const auto& entry : templ.params) {
    if (templ.distributions.count(entry.first) == 0) {
      return "cannot create a trial: parameter '" + entry.first + "' has no distribution";
    }
  }
  if (templ.value && std::isnan(*templ.value)) {
    return std::string("cannot create a trial: its value is NaN");
  }
  return std::nullopt;
}

std::optional<std::string> state_values_problem(int64_t trial_id, TrialState state,
                                                const std::optional<double>& value) {
  if (value && std::isnan(*value)) {
    return fmt::format("trial id {}: a NaN value cannot be stored (make the trial FAIL)", trial_id);
  }
  if (state == TrialState::Complete && !value) {
    return fmt::format("trial id {}: COMPLETE needs a value", trial_id);
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
