#pragma once
// Which files belong to a trial of a study: its worker log and its model view (model_view.hpp
// reads and renders the view).

#include <optional>
#include <string>

#include "hpt/tuner/trial.hpp"

namespace hpt::reports {

// The trial's worker log as the orchestrator names it, <study dir>/<N>.log with N the trial's
// number (system attr "hpt:log", absolute since hpt records it so; an older relative one is taken
// from the working directory); std::nullopt when the attribute names anything else.
std::optional<std::string> trial_log_path(const FrozenTrial& trial);

// Where a trial's model view is: <study dir>/<N>/model_view.json next to trial_log_path;
// std::nullopt when the trial has no such log.
std::optional<std::string> model_view_path(const FrozenTrial& trial);
// The same beside a log found elsewhere: "<dir>/<N>.log" -> "<dir>/<N>/model_view.json".
std::string model_view_path_of_log(const std::string& log);

// The model view of a trial (model_view_path, then read_model_view), if any.
std::optional<Json> load_trial_model_view(const FrozenTrial& trial);

}  // namespace hpt::reports
