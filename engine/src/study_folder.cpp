#include "hpt/engine/study_folder.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>

#include "hpt/engine/study_config.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt {

namespace {

bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string study_folder_name(const std::string& study) {
  std::string readable;
  bool changed = study.empty() || study.size() > k_max_readable_folder;
  for (size_t i = 0; i < study.size() && readable.size() < k_max_readable_folder; ++i) {
    const char c = study[i];
    const bool ok = is_safe(c) && !(i == 0 && (c == '.' || c == '-'));
    readable += ok ? c : '_';
    changed = changed || !ok;
  }
  if (!changed) {
    return readable;
  }
  return fmt::format("{}~{:012x}", readable, fnv1a(study) >> 16);
}

std::optional<std::string> study_database_file(const std::string& storage) {
  const auto file = sqlite_file_of(storage);
  return file && *file != ":memory:" ? std::optional(link_target(*file)) : file;
}

std::string study_trials_dir(const std::string& storage, const std::string& study,
                             const std::string& trials_dir) {
  std::filesystem::path base = trials_dir;
  if (base.empty()) {
    base = "hpt_trials";
    if (auto file = study_database_file(storage)) {  // Next to it: study.db -> study_trials/.
      const std::filesystem::path db = *file;
      base = (db.has_parent_path() ? db.parent_path() : ".") / (db.stem().string() + "_trials");
    }
  }
  return (base / study_folder_name(study)).string();
}

std::string new_study_key() {
  std::random_device random;
  std::string key;
  for (int i = 0; i < 4; ++i) {
    key += fmt::format("{:08x}", random());
  }
  return key;
}

std::optional<std::string> folder_study_key(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / k_folder_key_file);
  char line[65] = {};
  in.getline(line, sizeof line);  // A longer line is cut: it still differs from every key.
  return line[0] != '\0' ? std::optional<std::string>(line) : std::nullopt;
}

void record_folder_study_key(const std::string& dir, const std::string& key) {
  const std::string path = (std::filesystem::path(dir) / k_folder_key_file).string();
  try {
    write_file_atomically(path, key + "\n");
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("cannot record the study in its trials folder: {}", e.what()));
  }
}

std::string folder_owner_problem(const std::string& dir, const std::string& study,
                                 const std::optional<std::string>& key) {
  const auto recorded = folder_study_key(dir);
  if (!recorded || recorded == key) {
    return "";
  }
  return fmt::format(
      "trials folder '{}' holds the trials of another study named '{}' (in another database, or "
      "one deleted and made again: its {} differs); give study.trials_dir, or move that folder "
      "away",
      dir, study, k_folder_key_file);
}

std::optional<std::pair<std::filesystem::path, std::string>> default_trials_base(
    const StudyConfig& config) {
  const auto file = config.trials_dir.empty() ? study_database_file(config.storage) : std::nullopt;
  if (!file) {
    return std::nullopt;
  }
  return std::make_pair(
      std::filesystem::path(study_trials_dir(config.storage, config.name, config.trials_dir))
          .parent_path(),
      std::filesystem::path(*file).filename().string());
}

std::string trials_base_problem(const StudyConfig& config) {
  const auto base = default_trials_base(config);
  std::string recorded;
  if (base && std::getline(std::ifstream(base->first / k_folder_database_file), recorded) &&
      recorded != base->second) {
    return fmt::format(
        "trials folder '{}' holds the trials of the database '{}', not '{}'; give "
        "study.trials_dir",
        base->first.string(), recorded, base->second);
  }
  return "";
}

void record_trials_base(const StudyConfig& config) {
  if (const auto base = default_trials_base(config);
      base && !std::filesystem::exists(base->first / k_folder_database_file)) {
    std::ofstream(base->first / k_folder_database_file) << base->second << "\n";
  }
}

std::string move_folder_aside(const std::string& dir) {
  const std::string base =
      fmt::format("{}~old-{}", dir, folder_study_key(dir).value_or("").substr(0, 8));
  std::string aside = base;
  std::error_code ec;
  for (int n = 2; std::filesystem::exists(aside, ec); ++n) {
    if (n > 1000) {
      throw std::runtime_error(
          fmt::format("cannot move the trials folder '{}' aside: '{}' and "
                      "999 more names are taken",
                      dir, base));
    }
    aside = fmt::format("{}-{}", base, n);
  }
  std::filesystem::rename(dir, aside, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot move the trials folder '{}' aside to '{}': {}",
                                         dir, aside, ec.message()));
  }
  return aside;
}

}  // namespace hpt
