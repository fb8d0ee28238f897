#include "hpt/trainer/run_outputs.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "hpt/io/folder.hpp"

namespace hpt::trainer {

namespace fs = std::filesystem;

const std::vector<std::string>& run_output_files() {
  static const std::vector<std::string> k_files = {"metrics.json",
                                                   "model.json",
                                                   "head.pt",
                                                   "cnn.pt",
                                                   "extractor.pt",
                                                   "vectors.tsv",
                                                   "metadata.tsv",
                                                   "sprite.png",
                                                   "projector_config.pbtxt",
                                                   "projector_config.json",
                                                   "model_view.json",
                                                   "model_report.html"};
  return k_files;
}

std::string run_output_problem(const std::string& dir, const ExperimentConfig& config,
                               const std::string& config_file) {
  if (std::string problem = folder_problem(dir); !problem.empty()) {
    return problem;
  }
  const fs::path out = resolved_path(dir);
  if (std::string problem = dataset_holds_problem(dir, config); !problem.empty()) {
    return problem;
  }
  const bool torchscript = config.feature_extractor != "builtin-cnn";
  const std::string extractor = torchscript ? resolved_path(config.feature_extractor) : "";
  const std::string config_path = config_file.empty() ? "" : resolved_path(config_file);
  for (const std::string& name : run_output_files()) {
    const fs::path file = out / name;
    if (torchscript && resolved_path(file.string()) == extractor) {
      return fmt::format("writing '{}/{}' would replace the feature_extractor '{}'", dir, name,
                         config.feature_extractor);
    }
    if (!config_path.empty() && resolved_path(file.string()) == config_path) {
      return fmt::format("writing '{}/{}' would replace the config '{}'", dir, name, config_file);
    }
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(file, ec);
    if (fs::exists(st) && !fs::is_regular_file(st) && !fs::is_symlink(st)) {
      return fmt::format("'{}/{}' exists and is not a file: the run could not write it", dir, name);
    }
  }
  return "";
}

std::string trial_shared_dir(const std::string& trial_dir) {
  std::filesystem::path trial = std::filesystem::path(trial_dir).lexically_normal();
  if (!trial.has_filename()) {
    trial = trial.parent_path();  // "runs/3/" names runs/3.
  }
  return (trial.parent_path() / ".shared").string();
}

}  // namespace hpt::trainer
