#include "hpt/engine/dataset_check.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <iterator>
#include <regex>

#include "hpt/cli/run_app.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/schema/config_error.hpp"
#include "trainer_verb.hpp"

namespace hpt {

void check_trainer_dataset(const StudyConfig& config, const std::string& trainer_exe) {
  if (!config.builtin_trainer() ||
      std::any_of(config.search_space.begin(), config.search_space.end(), [](const auto& p) {
        // The seed splits the dataset: another seed, another split.
        return p.first.rfind("dataset.", 0) == 0 || p.first == "feature_extractor" ||
               p.first == "seed";
      })) {
    return;
  }
  TrainerVerbRun run;
  try {
    run = run_trainer_verb(trainer_exe, "check-data", config.fixed.dump(),
                           probe_params(config).dump());
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("the built-in trainer: cannot run `{} check-data` to check the dataset: {}",
                    trainer_exe, e.what()));
  }
  int status = run.wait_status;
  const std::string& output = run.out;
  const std::string& errors = run.err;
  if (WIFSIGNALED(status)) {  // Killed (out of memory, Ctrl-C): not the dataset's fault.
    throw std::runtime_error(fmt::format(
        "the built-in trainer's check of the dataset (`{} check-data`) was killed by signal {} "
        "({})",
        trainer_exe, WTERMSIG(status), signal_name(WTERMSIG(status))));
  }
  status = WIFEXITED(status) ? WEXITSTATUS(status) : status;
  // Its warnings (what the dataset leaves out, an image cache it cannot write) are the study's
  // to show, once, before any trial; a setting's under fixed.
  for (size_t at = 0; at < output.size();) {
    const size_t end = std::min(output.find('\n', at), output.size());
    const std::string line = output.substr(at, end - at);
    const std::string warning = "warning: ";
    const std::string setting = "warning: HPT_FIXED: ";
    if (line.rfind(setting, 0) == 0) {
      print_warning(fmt::format("{}: fixed.{}", config.file, line.substr(setting.size())));
    } else if (line.rfind(warning, 0) == 0) {
      print_warning(line.substr(warning.size()));
    }
    at = end + 1;
  }
  if (status == 0) {
    return;
  }
  // The trainer names the setting, "HPT_FIXED: dataset.path: ..." (or "dataset.val_fraction:
  // ..." for one left at its default): in the study it is under fixed.
  std::string problem(last_nonblank_line(errors));
  for (const std::string prefix : {"hpt: error: ", "HPT_FIXED: "}) {
    if (problem.rfind(prefix, 0) == 0) {
      problem = problem.substr(prefix.size());
    }
  }
  static const std::regex k_setting("[a-z_]+(\\.[a-z_0-9]+)*: .*");
  if (std::regex_match(problem, k_setting)) {
    throw ConfigError(fmt::format("{}: fixed.{}", config.file, problem));
  }
  // Not a setting's fault (the cache folder, a full disk): said as the trainer says it.
  throw std::runtime_error(fmt::format(
      "the built-in trainer cannot load the dataset: {}",
      problem.empty() ? fmt::format("`{} check-data` exited with status {}", trainer_exe, status)
                      : problem));
}

}  // namespace hpt
