#pragma once
// One trial's settings for the built-in trainer: a study's fixed settings with the trial's
// sampled parameters on top. The one rule both sides use: the engine, validating a study
// before anything runs, and the worker, reading HPT_FIXED and HPT_PARAMS.

#include <nlohmann/json.hpp>
#include <string>

namespace hpt::trainer {

// "" when name can be searched: a top-level key of the experiment config ("epochs") or a key
// of a section ("dataset.image_size"), but not objectives or constraints (fixed only);
// otherwise the problem, e.g. "'lerning_rate' is not a setting of the built-in trainer (did
// you mean 'learning_rate'?)".
std::string setting_problem(const std::string& name);

// Whether settings (a fixed section, nested) sets name, dotted names looking into sections.
bool sets_setting(const nlohmann::json& settings, const std::string& name);

// params (name -> value) merged over fixed: a dotted name sets the key inside its section,
// keeping the section's other keys; intermediate_ff_block_units also reads a string
// ("512-256", "512x256", "[512, 256]"; "none" or "" for no block), since categorical choices
// are scalars. Throws hpt::ConfigError "origin: name: problem" for a section that is not a
// mapping or an unreadable units string; the values themselves are checked by
// experiment_from_json.
nlohmann::json merge_settings(const nlohmann::json& fixed, const nlohmann::json& params,
                              const std::string& origin);

}  // namespace hpt::trainer
