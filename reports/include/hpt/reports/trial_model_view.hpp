#pragma once
// Which files belong to a trial of a study: its worker log and its model view (model_view.hpp
// reads and renders the view).

#include <optional>
#include <string>
#include <vector>

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

// Whether path (symbolic links resolved) lies inside one of folders: the one rule for every
// file a database row names that a server shows (trial logs, model views).
bool in_trusted_folder(const std::string& path, const std::vector<std::string>& folders);

// Where a trial's log is now: recorded (an absolute path written when the trial ran) if it
// exists, else the same last two or three path parts ("<study>_trials/<study folder>/<n>.log")
// under one of folders, for a study folder moved or copied with its database. std::nullopt
// when neither exists.
std::optional<std::string> located_log(const std::string& recorded,
                                       const std::vector<std::string>& folders);

// The model view beside a trial's log found at log (model_view_path_of_log), read only if it
// lies inside one of folders (a server's trusted folders).
std::optional<Json> trusted_model_view(const std::string& log,
                                       const std::vector<std::string>& folders);

// The model view of a trial (model_view_path, then read_model_view), if any. With folders (a
// server's trusted folders), the log is found by located_log and only a view inside one of
// the folders is read (trusted_model_view).
std::optional<Json> load_trial_model_view(const FrozenTrial& trial,
                                          const std::vector<std::string>* folders = nullptr);

}  // namespace hpt::reports
