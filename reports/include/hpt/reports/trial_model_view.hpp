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
// from the working directory); std::nullopt when the attribute names anything else, or holds a
// NUL byte or more than PATH_MAX bytes (no file has such a path).
std::optional<std::string> trial_log_path(const FrozenTrial& trial);

// Where a trial's model view is: <study dir>/<N>/model_view.json next to trial_log_path;
// std::nullopt when the trial has no such log.
std::optional<std::string> model_view_path(const FrozenTrial& trial);
// The trial's artifact folder beside its log: "<dir>/<N>.log" -> "<dir>/<N>".
std::string trial_dir_of_log(const std::string& log);
// The same beside a log found elsewhere: "<dir>/<N>.log" -> "<dir>/<N>/model_view.json".
std::string model_view_path_of_log(const std::string& log);

// Whether path (symbolic links resolved) lies inside one of folders: the one rule for every
// file a database row names that a server shows (trial logs, model views).
bool in_trusted_folder(const std::string& path, const std::vector<std::string>& folders);

// The folders a study's trial files are looked in: an SQLite database's own folder (its
// study's trials folder is made there unless the study set trials_dir), else ./hpt_trials (a
// server URL's default), plus extra (hpt dashboard --trials-dir); absolute. A log path comes
// from a database row, which anyone who can write to the study sets: it alone never decides
// what a server shows.
std::vector<std::string> log_folders(const std::string& storage_url,
                                     const std::vector<std::string>& extra);

// Where a trial's log and model view are looked for: under folders (log_folders) when the
// recorded path is gone (a moved study folder, located_log). trusted_only, a server's rule:
// nothing outside folders is read. Without it (hpt report, run by whoever has the database)
// the recorded path is read wherever it is. The default: the recorded path only.
struct TrialFolders {
  std::vector<std::string> folders;
  bool trusted_only = false;
};

// Where a trial's log is now: recorded (an absolute path written when the trial ran) if it or
// the trial's artifact folder <n>/ beside it exists (a quiet worker writes no log) inside one
// of folders; else the same last two or three path parts ("<study>_trials/<study folder>/
// <n>.log") under one of folders, for a study folder moved or copied with its database; else
// recorded if it exists anywhere. std::nullopt when none exists.
std::optional<std::string> located_log(const std::string& recorded,
                                       const std::vector<std::string>& folders);

// The folder of the trial's saved model, <study dir>/<N>/ beside its log as located_log finds
// it in folders, when it holds a regular model.json (what hpt match --model and hpt embed
// --model take); std::nullopt otherwise.
std::optional<std::string> trial_model_dir(const FrozenTrial& trial,
                                           const std::vector<std::string>& folders);

// "DIR (hpt match --model DIR IMAGE1 IMAGE2)" for the trial's saved model (trial_model_dir),
// the command's path quoted for the shell, or std::nullopt when it has none.
std::optional<std::string> trial_model_text(const FrozenTrial& trial,
                                            const std::vector<std::string>& folders);

// The model view beside a trial's log found at log (model_view_path_of_log), read only if it
// lies inside one of folders (a server's trusted folders).
std::optional<Json> trusted_model_view(const std::string& log,
                                       const std::vector<std::string>& folders);

// The model view of a trial, if any: beside its log as located_log finds it in where.folders,
// and with where.trusted_only only a view inside them (trusted_model_view).
std::optional<Json> load_trial_model_view(const FrozenTrial& trial,
                                          const TrialFolders& where = {});

}  // namespace hpt::reports
