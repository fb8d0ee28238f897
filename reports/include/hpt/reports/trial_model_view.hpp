#pragma once
// Which model view belongs to a trial of a study (model_view.hpp reads and renders it).

#include <optional>
#include <string>

#include "hpt/tuner/trial.hpp"

namespace hpt::reports {

// Where a trial's model view is: <study dir>/<N>/model_view.json next to the trial's log
// <study dir>/<N>.log (system attr "hpt:log"); std::nullopt when the trial has no such log.
std::optional<std::string> model_view_path(const FrozenTrial& trial);

// The model view of a trial (model_view_path, then read_model_view), if any.
std::optional<Json> load_trial_model_view(const FrozenTrial& trial);

}  // namespace hpt::reports
