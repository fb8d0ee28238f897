#pragma once
// Internal to the engine: the study command (`hpt --config FILE --trials N ...`): a study
// opened from its config and flags (hpt ask opens one the same way), and run.

#include <memory>
#include <optional>
#include <string>

#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt {

// A study command's config with its --storage / --study overrides, checked as far as it can be
// without a database, and its database opened (made, with its folder, if missing).
struct OpenedStudy {
  StudyConfig config;
  RunOptions options;
  std::unique_ptr<Storage> storage;
};

// The study of config_file with its flags (jobs > 0, a non-empty storage_url or study override
// the config); a bad flag throws ConfigError naming it, a database that cannot be made or
// opened StorageError naming where it was given. run_study_command passes check_data: a run
// has the built-in trainer's dataset loaded and checked once before the database is made (an
// ask does not: it trains nothing).
OpenedStudy open_study_for(const std::string& config_file, int jobs, const std::string& storage_url,
                           const std::string& study, bool check_data = false);

// Opens the study and runs it until it has trials finished trials (more_trials: that many more
// than it has), or time_budget seconds have passed; returns run_study's exit code, or 130 when a
// stop signal came while the study opened.
int run_study_command(const std::string& config_file, int trials, bool more_trials,
                      std::optional<double> time_budget, int jobs, const std::string& storage_url,
                      const std::string& study);

}  // namespace hpt
