#pragma once
// Finding a study by name, written once on top of the Storage interface.

#include <string>

#include "hpt/storage/storage.hpp"

namespace hpt {

// The study named study_name, or the only study when the name is empty. Throws
// std::invalid_argument naming the available studies if it is unknown or ambiguous.
StudyInfo resolve_study(Storage& storage, const std::string& study_name);

}  // namespace hpt
