#pragma once
// Where a study's trial logs and artifacts go. Study names may hold any text (they are
// only data in the database), but a folder name must stay inside trials_dir.
#include <cstddef>
#include <string>

namespace hpt {

constexpr size_t k_max_study_name_chars = 512;  // Optuna's studies.study_name VARCHAR(512).
constexpr size_t k_max_readable_folder = 100;   // Bytes of the readable part of a folder name.

// The folder name of study under trials_dir: the name itself when it is 1 to 100 bytes of
// [A-Za-z0-9._-] not starting with '.' or '-'; otherwise the name's safe characters
// (others as '_', cut at 100 bytes), '~' and 12 hex digits of a hash of the whole name.
// Never empty, never "." or "..", never holds a '/', at most 113 bytes (any file system
// takes it); two different names never share a folder ('~' only appears in changed names,
// whose whole name is hashed).
std::string study_folder_name(const std::string& study);

}  // namespace hpt
