#pragma once
// The checks of a study that need no database: run_study makes them first, and `hpt` before
// it opens (maybe creates) the database, so that a refused study leaves no database behind.

#include <cstddef>
#include <string>
#include <utility>

#include "hpt/engine/run_options.hpp"
#include "hpt/engine/study_config.hpp"

namespace hpt {

// Returns the study's trials folder (<trials_dir>/<study folder>, not created); throws
// std::runtime_error naming the problem (a study name that is empty or too long, a trials
// folder that cannot be made or lies in the study's folder dataset, a built-in trainer that
// cannot start). new_study: the study is not in its database yet (the database file does not
// exist), so a trials_dir folder holding another study's trials is refused too.
std::string check_study(const StudyConfig& config, const RunOptions& options,
                        bool new_study = false);

// The longest HPT_PARAMS string a trial of config can give its worker (fixed, with each
// parameter at its longest value: a categorical's longest choice, a number printed at its
// longest), and the parameter whose longest value is longest.
std::pair<size_t, std::string> longest_params_env(const StudyConfig& config);

}  // namespace hpt
