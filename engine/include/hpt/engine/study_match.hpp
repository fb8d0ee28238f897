#pragma once
// Whether a study config may add trials to the study of that name already in the database:
// Optuna's rules for continuing a study (load_if_exists, distribution compatibility).

#include <string>
#include <vector>

#include "hpt/storage/storage.hpp"

namespace hpt {

// Before hpt adds trials to the study named study_name (if it exists): throws
// std::invalid_argument, one line naming the study and what differs, when its stored
// directions are not `directions` (another count, order, or NOT_SET) or a parameter of space
// was stored with a distribution that compatibility_problem refuses (Optuna's rules: another
// kind, log setting or categorical choices; a changed range is allowed). Writes nothing.
void check_study_matches(Storage& storage, const std::string& study_name,
                         const std::vector<Direction>& directions, const SearchSpace& space);

// check_study_matches for what no trial holds yet: records space's distributions in study_id's
// k_search_space_attr (the first run's under the study's lock, so racing hosts agree; later
// runs add the parameters it lacks) and throws std::invalid_argument, worded as
// check_study_matches, when a declared parameter is incompatible with the recorded one. Two
// hosts starting a new study at the same instant with conflicting configs both pass
// check_study_matches (no trial yet); the second is refused here. Recorded text hpt cannot
// read is ignored.
void claim_search_space(Storage& storage, int64_t study_id, const std::string& study_name,
                        const SearchSpace& space);

// What a run of a study gives its trials: the fixed section, the objective command (empty for
// the built-in trainer) and the search space's parameter names.
struct RunSettings {
  Json fixed = Json::object();
  std::vector<std::string> command;
  std::vector<std::string> parameters;
};

// Records settings as what study_id's trials run with from now (study system attributes
// k_run_settings_attr), and returns a warning line for each way they differ from what the
// study's last run recorded: trials that ran with other settings stay in the study, and best,
// report and the sampler compare them all. None for a new study or the same settings.
std::vector<std::string> record_run_settings(Storage& storage, int64_t study_id,
                                             const RunSettings& settings);

// "MINIMIZE" or, for several objectives, "[MINIMIZE, MAXIMIZE]".
std::string directions_text(const std::vector<Direction>& directions);

}  // namespace hpt
