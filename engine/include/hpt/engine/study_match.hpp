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

// "MINIMIZE" or, for several objectives, "[MINIMIZE, MAXIMIZE]".
std::string directions_text(const std::vector<Direction>& directions);

}  // namespace hpt
