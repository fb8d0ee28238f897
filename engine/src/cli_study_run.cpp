#include "cli_study_run.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "hpt/engine/cli.hpp"
#include "hpt/engine/dataset_check.hpp"
#include "hpt/engine/signal_guard.hpp"
#include "hpt/engine/study_check.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/schema/config_error.hpp"

namespace hpt {

OpenedStudy open_study_for(const std::string& config_file, int jobs, const std::string& storage_url,
                           const std::string& study, bool check_data) {
  OpenedStudy out{load_study_config(config_file), {}, nullptr};
  StudyConfig& config = out.config;
  if (jobs > 0) {
    config.jobs = jobs;
  }
  if (!storage_url.empty()) {
    if (const std::string problem = study_storage_problem(storage_url); !problem.empty()) {
      throw ConfigError("--storage: " + problem);
    }
    config.storage = storage_url;
  }
  if (!study.empty()) {
    if (const std::string problem = study_name_problem(study); !problem.empty()) {
      throw ConfigError("--study: " + problem);
    }
    config.name = study;
  }
  out.options.trainer_exe = trainer_executable();
  // The place an error names: the flag, or the config's key.
  const std::string where = storage_url.empty() ? config.origin("study.storage") : "--storage";
  // A study may start a new database in a new folder (e.g. storage: out/study.db); one that
  // cannot be made is named first (the trials folder beside it would fail for the same reason).
  std::filesystem::path db_folder;
  bool new_database = false;
  if (auto db = sqlite_file_of(config.storage)) {
    // "new.db/" names a folder: its parent_path() is new.db itself, which create_folder would
    // make before the database was refused as a folder.
    const auto name = std::filesystem::path(*db).filename();
    if (*db != ":memory:" && (name.empty() || name == "." || name == "..")) {
      throw StorageError(fmt::format("{}: {}: names a folder, not a database file", where, *db));
    }
    db_folder = std::filesystem::path(*db).parent_path();
    if (const std::string problem = db_folder.empty() ? "" : folder_problem(db_folder.string());
        !problem.empty()) {
      throw StorageError(where + ": " + problem);
    }
    std::error_code ec;
    new_database =
        *db != ":memory:" && !std::filesystem::exists(std::filesystem::symlink_status(*db, ec));
  }
  // Before a database (or its folder) is made: refused, none is.
  check_study(config, out.options, new_database);
  if (check_data) {
    check_trainer_dataset(config, out.options.trainer_exe);
  }
  try {
    if (!db_folder.empty()) {
      create_folder(db_folder.string());
    }
    out.storage = open_storage(config.storage);
  } catch (const std::exception& e) {
    throw StorageError(where + ": " + e.what());
  }
  return out;
}

int run_study_command(const std::string& config_file, int trials, bool more_trials,
                      std::optional<double> time_budget, int jobs, const std::string& storage_url,
                      const std::string& study) {
  const StopSignals signals;  // From the start: a signal while the study opens stops it too.
  std::optional<OpenedStudy> opened;
  try {
    opened.emplace(open_study_for(config_file, jobs, storage_url, study, true));
  } catch (const std::exception&) {
    if (!signals.caught()) {
      throw;
    }
    // What failed was cut short by the signal (the dataset check's process got Ctrl-C too).
  }
  if (signals.caught()) {
    std::cerr << "hpt: stopped by a signal before the study started; no trial ran\n";
    return k_exit_interrupted;
  }
  OpenedStudy& s = *opened;
  s.options.trials = trials;
  s.options.more_trials = more_trials;
  s.options.time_budget = time_budget;
  s.options.interactive = ::isatty(STDOUT_FILENO) != 0;
  return run_study(s.config, *s.storage, s.options, std::cout);
}

}  // namespace hpt
