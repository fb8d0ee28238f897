#pragma once
// Internal to the engine: the read-only verbs `hpt studies` and `hpt best` (`hpt trials` is
// format_trials, in hpt/engine/cli.hpp).

#include <string>

namespace hpt {

// hpt studies DB: one line per study (name, directions, trial counts), or as Optuna's
// `optuna studies -f json` when format is "json". Returns the exit code.
int print_studies(const std::string& db, const std::string& format);

// hpt best DB: the best trial of study (or of the only study) as "table", "json" or
// "experiment" (a built-in-trainer trial's experiment YAML), or a multi-objective study's
// Pareto front. A study without a best trial is said on one error line; returns 1 then.
int print_best(const std::string& db, const std::string& study, const std::string& format);

}  // namespace hpt
