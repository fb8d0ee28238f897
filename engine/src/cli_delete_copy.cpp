#include "cli_delete_copy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "cli_write.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/engine/study_copy.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"

namespace hpt {

namespace {

// The folder of the trials' worker logs, if any trial wrote one and it is there.
std::optional<std::string> logs_folder(const std::vector<FrozenTrial>& trials) {
  for (const auto& t : trials) {
    if (const auto log = reports::trial_log_path(t)) {
      const auto folder = std::filesystem::path(*log).parent_path().string();
      std::error_code ec;
      return std::filesystem::is_directory(folder, ec) ? std::optional(folder) : std::nullopt;
    }
  }
  return std::nullopt;
}

// The study's own trials folder: its default folder or its logs' folder, whichever records the
// study's key (a copied study's logs are in its source's folder; a study whose trials wrote no
// log has only the default one); a study without a key (older hpt), its logs' folder.
std::optional<std::string> own_trials_folder(Storage& storage, const std::string& db,
                                             const StudyInfo& info,
                                             const std::vector<FrozenTrial>& trials) {
  const auto attrs = storage.study_system_attrs(info.id);
  const auto key = attrs.find(k_study_key_attr);
  if (key == attrs.end() || !key->second.is_string()) {
    return logs_folder(trials);
  }
  for (const auto& folder : {std::optional(study_trials_dir(db, info.name)), logs_folder(trials)}) {
    std::error_code ec;
    if (folder && std::filesystem::is_directory(*folder, ec) &&
        folder_study_key(*folder) == key->second.get<std::string>()) {
      return folder;
    }
  }
  return std::nullopt;
}

}  // namespace

int delete_study_command(const std::string& db, const std::string& name, bool force) {
  require_database_file(db);
  const std::string nothing_done = fmt::format("study '{}' was not deleted", shortened(name, 200));
  return write_once(nothing_done, [&](const std::function<bool()>& stop) {
    auto storage = open_storage(db);  // Opened to write first: a read-only one leaves no -wal.
    const StudyInfo info = resolve_study(*storage, name);
    const auto trials = storage->get_all_trials(info.id);
    const auto running = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Running;
    });
    if (running > 0 && !force) {
      throw std::runtime_error(fmt::format(
          "study '{}' has {} RUNNING trial{}: a run may be going on (or was killed); stop it "
          "first, or give --force",
          info.name, running, running == 1 ? "" : "s"));
    }
    const auto folder = own_trials_folder(*storage, db, info, trials);
    if (stop()) {
      return false;
    }
    storage->delete_study(info.id);
    std::cout << terminal_text(fmt::format(
                     "deleted study '{}' and its {} trial{} from {}{}", info.name, trials.size(),
                     trials.size() == 1 ? "" : "s", redact_credentials(db),
                     folder ? fmt::format("; its trials folder is left as it is: {}", *folder)
                            : ""))
              << std::endl;
    return true;
  });
}

int copy_study_command(const std::string& from_db, const std::string& to_db,
                       const std::string& study, std::optional<std::string> to_study) {
  if (const std::string problem = to_study ? study_name_problem(*to_study) : ""; !problem.empty()) {
    throw ConfigError("--to-study: " + problem);  // Before anything is read or made.
  }
  require_database_file(from_db);
  const std::string nothing_done =
      fmt::format("study '{}' was not copied", shortened(to_study.value_or(study), 200));
  return write_once(nothing_done, [&](const std::function<bool()>& stop) {
    auto from = open_storage(from_db, true);
    const StudyInfo info = resolve_study(*from, study);
    const std::string name = to_study.value_or(info.name);
    const auto copy = copy_study_to(*from, info, to_db, name, stop);
    if (!copy) {
      return false;
    }
    std::cout << terminal_text(fmt::format("copied study '{}' and its {} trial{} from {} to {}{}",
                                           info.name, copy->trials, copy->trials == 1 ? "" : "s",
                                           redact_credentials(from_db), redact_credentials(to_db),
                                           name == info.name ? "" : " as '" + name + "'"))
              << "\n";
    if (copy->handed_back > 0) {
      std::cout << fmt::format(
          "{} trial{} RUNNING in the source {} WAITING in the copy, to run again when it "
          "resumes\n",
          copy->handed_back, copy->handed_back == 1 ? "" : "s",
          copy->handed_back == 1 ? "is" : "are");
    }
    if (const auto folder = logs_folder(*from->trials_snapshot(info.id))) {
      std::cout << terminal_text("the copied trials' logs stay in " + *folder) << "\n";
    }
    return true;
  });
}

}  // namespace hpt
