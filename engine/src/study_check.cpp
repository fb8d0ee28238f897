#include "hpt/engine/study_check.hpp"

#include <fmt/format.h>
#include <limits.h>

#include <cstring>
#include <stdexcept>
#include <variant>

#include "hpt/engine/device_check.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

// A built-in trainer study's trials folder dir must not lie in its folder dataset: every
// trial's files would land in it (and each trial would fail on it).
void check_outside_dataset(const StudyConfig& config, const std::string& dir) {
  const std::string origin = config.file + ": fixed";
  const auto fixed = trainer::experiment_from_json(
      trainer::merge_settings(config.fixed, probe_params(config), origin), origin);
  if (const std::string problem = trainer::dataset_holds_problem(dir, fixed); !problem.empty()) {
    throw std::runtime_error(fmt::format(
        "the study's trials folder {}; give study.trials_dir outside it, or keep the database "
        "elsewhere",
        problem));
  }
}

// Every worker gets the fixed section in HPT_FIXED, and with the trial's parameters in
// HPT_PARAMS: both must fit in one environment variable, at the longest values the search
// space can give (a choice of 200 KB failed every trial drawing it).
void check_worker_environment(const StudyConfig& config) {
  if (const size_t n = std::strlen("HPT_FIXED=") + config.fixed.dump().size();
      n + 1 > k_max_arg_string) {
    throw std::runtime_error(fmt::format(
        "{}: fixed: {} bytes as JSON, but workers get it in HPT_FIXED and Linux passes at most {} "
        "bytes in one environment variable",
        config.file, n, k_max_arg_string - 1));
  }
  if (const auto [n, widest] = longest_params_env(config); n + 1 > k_max_arg_string) {
    throw std::runtime_error(fmt::format(
        "{}: search_space.{}: its longest value makes HPT_PARAMS {} bytes, but workers get their "
        "parameters in HPT_PARAMS and Linux passes at most {} bytes in one environment variable",
        config.file, widest, n, k_max_arg_string - 1));
  }
}

// The trials folder dir can be made, and is not another database's or (new_study) another
// study's.
void check_trials_folder(const StudyConfig& config, const std::string& dir, bool new_study) {
  if (const std::string problem = folder_problem(dir); !problem.empty()) {
    // It names the path; and the key that chose it, when one did.
    throw std::runtime_error(
        config.trials_dir.empty() ? problem : config.origin("study.trials_dir") + ": " + problem);
  }
  if (const std::string problem = trials_base_problem(config); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  // A folder chosen by study.trials_dir (or a server's) that holds another study's trials is
  // refused for a new study (open_study: a database's own default folder is moved aside).
  if (const std::string problem = folder_owner_problem(dir, config.name, std::nullopt);
      new_study && !default_trials_base(config) && !problem.empty()) {
    throw std::runtime_error(problem);
  }
}

// The built-in trainer's executable can start, and has the devices config asks for.
void check_trainer(const StudyConfig& config, const std::string& trainer_exe) {
  try {
    resolve_executable(trainer_exe);
  } catch (const StartError& e) {
    throw std::runtime_error(fmt::format("the built-in trainer: {}", e.what()));
  }
  check_trainer_devices(config, [&] { return trainer_device_support(trainer_exe); });
}

}  // namespace

std::pair<size_t, std::string> longest_params_env(const StudyConfig& config) {
  Json values = config.fixed;
  std::string widest;
  size_t widest_bytes = 0;
  for (const auto& [name, dist] : config.search_space) {
    Json value = -1.2345678901234567e+308;
    size_t bytes = value.dump().size();
    if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
      for (const auto& choice : c->choices) {
        if (const size_t n = choice.dump().size(); n > bytes) {
          value = choice;
          bytes = n;
        }
      }
    }
    if (bytes >= widest_bytes) {
      widest = name;
      widest_bytes = bytes;
    }
    values[name] = std::move(value);
  }
  return {std::strlen("HPT_PARAMS=") + values.dump().size(), widest};
}

std::string check_study(const StudyConfig& config, const RunOptions& options, bool new_study) {
  // The YAML and --study were checked by the same rule; a config built in code was not.
  if (const std::string problem = study_name_problem(config.name); !problem.empty()) {
    throw std::runtime_error("study name: " + problem);
  }
  const std::string dir = study_trials_dir(config.storage, config.name, config.trials_dir);
  if (dir.size() + 64 > PATH_MAX) {
    throw std::runtime_error(
        fmt::format("trials folder '{}...' is too long a path", utf8_prefix(dir, 80)));
  }
  if (config.builtin_trainer()) {
    check_outside_dataset(config, dir);
  }
  check_worker_environment(config);
  check_trials_folder(config, dir, new_study);
  if (config.builtin_trainer() && !options.trainer_exe.empty()) {
    check_trainer(config, options.trainer_exe);
  }
  return dir;
}

}  // namespace hpt
