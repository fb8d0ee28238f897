#pragma once
// Where a study's trial logs and artifacts go. Study names may hold any text (they are
// only data in the database), but a folder name must stay inside trials_dir.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace hpt {

struct StudyConfig;

constexpr size_t k_max_study_name_chars = 512;  // Optuna's studies.study_name VARCHAR(512).
constexpr size_t k_max_readable_folder = 100;   // Bytes of the readable part of a folder name.

// The folder name of study under trials_dir: the name itself when it is 1 to 100 bytes of
// [A-Za-z0-9._-] not starting with '.' or '-'; otherwise the name's safe characters
// (others as '_', cut at 100 bytes), '~' and 12 hex digits of a hash of the whole name.
// Never empty, never "." or "..", never holds a '/', at most 113 bytes (any file system
// takes it); two different names never share a folder ('~' only appears in changed names,
// whose whole name is hashed).
std::string study_folder_name(const std::string& study);

// An SQLite storage's database file, through a symbolic link the file it names (so that a study
// reached by a link and by its target has one trials folder); std::nullopt for a server.
std::optional<std::string> study_database_file(const std::string& storage);

// <trials_dir>/<study_folder_name(study)>, trials_dir defaulting to <stem>_trials/ beside an
// SQLite database (through a symbolic link, beside the file it names) or ./hpt_trials for a
// server: where a study's trial logs <n>.log and artifact folders <n>/ go.
std::string study_trials_dir(const std::string& storage, const std::string& study,
                             const std::string& trials_dir = "");

// A study's trials folder belongs to one study: <dir>/.hpt-study holds the study's key
// (k_study_key_attr). Two studies of one name in two databases (or one deleted and made
// again) would otherwise write their trials' logs and models over each other's.
inline constexpr const char* k_folder_key_file = ".hpt-study";

// 32 random hex digits.
std::string new_study_key();
// The key recorded in dir, std::nullopt when none is (an empty or unreadable file too).
std::optional<std::string> folder_study_key(const std::string& dir);
// Records key in dir (replacing the file atomically); throws std::runtime_error naming it.
void record_folder_study_key(const std::string& dir, const std::string& key);
// Why dir cannot take the trials of the study named study whose key is key (std::nullopt:
// the study has none, or is not made yet), or "": dir records another key.
std::string folder_owner_problem(const std::string& dir, const std::string& study,
                                 const std::optional<std::string>& key);
// The default trials folder <stem>_trials/ is named after the database's stem, so a.db and
// a.sqlite beside it would share it (and overwrite each other's trial folders). The folder
// records its database's file name in this file; another database is refused.
inline constexpr const char* k_folder_database_file = ".hpt-database";

// The default trials folder of an SQLite study and its database's file name; std::nullopt when
// the study sets trials_dir or uses a server.
std::optional<std::pair<std::filesystem::path, std::string>> default_trials_base(
    const StudyConfig& config);
// Why the default trials folder belongs to another database, or "".
std::string trials_base_problem(const StudyConfig& config);
// Records the database in its default trials folder (made by now), once.
void record_trials_base(const StudyConfig& config);

// Renames dir to "<dir>~old-<its recorded key's first 8 digits>" (then "-2", "-3", ... if
// taken) and returns the new path; throws std::runtime_error naming both on failure.
std::string move_folder_aside(const std::string& dir);

}  // namespace hpt
