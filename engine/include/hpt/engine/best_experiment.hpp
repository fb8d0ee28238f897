#pragma once
// hpt best --format experiment: a built-in-trainer trial's experiment config as YAML, so that
// `hpt train --config` trains it again (longer, on other data, as the final model).

#include <string>
#include <vector>

#include "hpt/storage/storage.hpp"

namespace hpt {

// The experiment config trial ran with, as YAML (schema/yaml_text.hpp) of the keys that differ
// from hpt's defaults, under comment lines saying where it comes from: the config its model was
// trained with (model.json in its trial folder, looked for in model_folders as
// reports::trial_model_dir does), else the study's fixed settings as its last run recorded them
// (k_run_settings_attr) with the trial's params merged over them (merge_settings, as the worker
// merges them). Throws std::runtime_error for a study of a command objective, or one with neither.
std::string best_experiment_yaml(Storage& storage, const StudyInfo& study, const FrozenTrial& trial,
                                 const std::vector<std::string>& model_folders);

}  // namespace hpt
