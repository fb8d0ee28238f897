#pragma once
// Finding a study by name, written once on top of the Storage interface.

#include <string>

#include "hpt/storage/storage.hpp"

namespace hpt {

// The study named study_name, or the only study when the name is empty. Throws
// std::invalid_argument naming the available studies if it is unknown or ambiguous.
StudyInfo resolve_study(Storage& storage, const std::string& study_name);

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
