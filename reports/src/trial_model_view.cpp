#include "hpt/reports/trial_model_view.hpp"

#include <limits.h>

#include <algorithm>
#include <filesystem>

#include "hpt/io/folder.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/reports/model_view.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt::reports {

std::optional<std::string> trial_log_path(const FrozenTrial& trial) {
  auto it = trial.system_attrs.find(k_log_attr);
  if (it == trial.system_attrs.end() || !it->second.is_string()) {
    return std::nullopt;
  }
  const std::string& log = it->second.get_ref<const std::string&>();
  if (log.size() > PATH_MAX || log.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  const std::string name = std::to_string(trial.number) + ".log";
  if (log.size() < name.size() || log.compare(log.size() - name.size(), name.size(), name) != 0 ||
      (log.size() > name.size() && log[log.size() - name.size() - 1] != '/')) {
    return std::nullopt;
  }
  return log;
}

std::optional<std::string> model_view_path(const FrozenTrial& trial) {
  const auto log = trial_log_path(trial);
  if (!log) {
    return std::nullopt;
  }
  return model_view_path_of_log(*log);
}

std::string trial_dir_of_log(const std::string& log) { return log.substr(0, log.size() - 4); }

std::string model_view_path_of_log(const std::string& log) {
  return trial_dir_of_log(log) + "/model_view.json";
}

std::vector<std::string> log_folders(const std::string& storage_url,
                                     const std::vector<std::string>& extra) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  if (auto db = sqlite_file_of(storage_url)) {
    const fs::path folder = fs::path(*db).parent_path();
    out.push_back(fs::absolute(folder.empty() ? fs::path(".") : folder, ec).string());
  } else {
    out.push_back(fs::absolute("hpt_trials", ec).string());
  }
  for (const auto& folder : extra) {
    out.push_back(fs::absolute(folder, ec).string());
  }
  return out;
}

bool in_trusted_folder(const std::string& path, const std::vector<std::string>& folders) {
  return path_within_any(path, folders);
}

std::optional<std::string> located_log(const std::string& recorded,
                                       const std::vector<std::string>& folders) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A quiet worker leaves no log, only maybe its artifact folder <n>/.
  auto exists = [&ec](const fs::path& log) {
    return fs::exists(log, ec) || fs::is_directory(fs::path(log).replace_extension(), ec);
  };
  // The recorded place when it is trusted; else the study's copy in a trusted folder (a
  // study folder copied with its database: the original may still exist elsewhere).
  const bool recorded_exists = exists(recorded);
  if (recorded_exists && in_trusted_folder(recorded, folders)) {
    return recorded;
  }
  const fs::path path(recorded);
  const fs::path two = path.parent_path().filename() / path.filename();
  const fs::path three = path.parent_path().parent_path().filename() / two;
  for (const auto& folder : folders) {
    for (const fs::path& tail : {three, two}) {
      const fs::path candidate = fs::path(folder) / tail;
      if (exists(candidate)) {
        return candidate.string();
      }
    }
  }
  if (recorded_exists) {
    return recorded;
  }
  return std::nullopt;
}

std::optional<std::string> trial_model_dir(const FrozenTrial& trial,
                                           const std::vector<std::string>& folders) {
  const auto recorded = trial_log_path(trial);
  const auto log = recorded ? located_log(*recorded, folders) : std::nullopt;
  if (!log) {
    return std::nullopt;
  }
  const std::string dir = trial_dir_of_log(*log);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / "model.json", ec)) {
    return std::nullopt;
  }
  return dir;
}

std::optional<std::string> trial_model_text(const FrozenTrial& trial,
                                            const std::vector<std::string>& folders) {
  const auto dir = trial_model_dir(trial, folders);
  if (!dir) {
    return std::nullopt;
  }
  return *dir + " (hpt match --model " + shell_word(*dir) + " IMAGE1 IMAGE2)";
}

std::optional<Json> load_trial_model_view(const FrozenTrial& trial, const TrialFolders& where) {
  const auto recorded = trial_log_path(trial);
  const auto log = recorded ? located_log(*recorded, where.folders) : std::nullopt;
  if (!log) {
    return std::nullopt;
  }
  return where.trusted_only ? trusted_model_view(*log, where.folders)
                            : read_model_view(model_view_path_of_log(*log));
}

std::optional<Json> trusted_model_view(const std::string& log,
                                       const std::vector<std::string>& folders) {
  const std::string path = model_view_path_of_log(log);
  return in_trusted_folder(path, folders) ? read_model_view(path, folders) : std::nullopt;
}

}  // namespace hpt::reports
