#include "hpt/trainer/commands.hpp"

#include <fmt/format.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/schema/number_text.hpp"
#include "hpt/trainer/experiment_run.hpp"
#include "hpt/trainer/run_outputs.hpp"
#include "hpt/trainer/saved_model.hpp"

namespace hpt::trainer {

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

nlohmann::json parse_object(const std::optional<std::string>& text, const char* name) {
  if (!text || text->empty()) {
    return nlohmann::json::object();
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {  // A syntax error, "number overflow ...".
    const std::string what = e.what();
    throw ConfigError(fmt::format("{}: not valid JSON ({}): '{}'", name,
                                  what.substr(what.find(']') + 2), hpt::utf8_prefix(*text, 80)));
  }
  if (!j.is_object()) {
    throw ConfigError(
        fmt::format("{}: expected a JSON object, got '{}'", name, hpt::utf8_prefix(*text, 80)));
  }
  return j;
}

void print_line(std::ostream& out, const nlohmann::json& j) {
  out << j.dump() << "\n";
  out.flush();
}

}  // namespace

WorkerEnv worker_env_from_environment() {
  return {env("HPT_FIXED"), env("HPT_PARAMS"), env("HPT_TRIAL_NUMBER"), env("HPT_SEED"),
          env("HPT_TRIAL_DIR")};
}

int run_worker(const WorkerEnv& e, std::ostream& out, std::ostream& err) {
  const nlohmann::json merged = merge_settings(parse_object(e.fixed, "HPT_FIXED"),
                                               parse_object(e.params, "HPT_PARAMS"), "HPT_PARAMS");
  const ExperimentConfig config = experiment_from_json(merged, "HPT_FIXED+HPT_PARAMS");
  RunOptions options;
  options.run_seed = config.seed;
  if (e.seed && !e.seed->empty()) {
    int64_t seed = 0;
    if (parse_decimal_int(*e.seed, seed) != IntText::ok || seed < 0) {
      throw ConfigError(fmt::format("HPT_SEED: expected an integer >= 0, got \"{}\"", *e.seed));
    }
    options.run_seed = static_cast<uint64_t>(seed);
  }
  options.out_dir = e.trial_dir.value_or("");
  if (!options.out_dir.empty()) {
    options.shared_dir = trial_shared_dir(options.out_dir);  // One frozen extractor per study.
    if (const std::string problem = run_output_problem(options.out_dir, config); !problem.empty()) {
      throw ConfigError("HPT_TRIAL_DIR: " + problem);
    }
  }
  options.log = &err;
  // Steps report the validation AUC of each epoch: an intermediate value of the first
  // objective when that is val_roc_auc, else nothing (no other metric exists per epoch).
  const bool epoch_lines = config.objectives.front() == "val_roc_auc";
  options.on_epoch = [&](const EpochReport& r) {
    if (epoch_lines) {
      print_line(out, {{"step", r.epoch}, {"value", r.val_auc}});
    }
  };
  err << fmt::format("hpt worker: trial {} seed {}\n", e.trial_number.value_or("?"),
                     options.run_seed);
  const ExperimentResult r = run_experiment(config, options);
  nlohmann::json last;
  if (r.objective_values.size() == 1) {
    last["value"] = r.objective_values.front();
  } else {
    last["values"] = r.objective_values;  // A multi-objective trial (engine protocol).
  }
  if (!r.constraint_values.empty()) {
    last["constraints"] = r.constraint_values;  // Met when <= 0 (engine protocol).
  }
  last.update({{"user_attrs",
                {{"test_roc_auc", r.test_roc_auc},
                 {"test_recall_at_1", r.test_recall_at_1},
                 {"val_recall_at_1", r.val_recall_at_1},
                 {"threshold", r.threshold},
                 {"confusion_matrix", r.confusion_matrix},
                 {"roc_curve",
                  {{"fpr", r.roc_curve.fpr},
                   {"tpr", r.roc_curve.tpr},
                   {"auc", r.test_roc_auc}}},  // Test pairs.
                 {"epochs", r.loop.epochs_run},
                 {"best_epoch", r.loop.best_epoch}}}});
  print_line(out, last);
  return 0;
}

void add_trainer_commands(CLI::App& app) {
  {
    auto config = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("train", "Train the embedding model from an experiment YAML");
    sub->add_option("--config", *config, "Experiment YAML file")->required();
    sub->add_option("--out", *out, "Output folder (model, metrics.json, projector files)")
        ->required()
        ->check(CLI::Validator([](const std::string& v) { return folder_problem(v); }, "FOLDER"));
    sub->callback([config, out] {
      const ExperimentConfig c = parse_experiment(load_yaml_file(*config), *config);
      if (const std::string problem = run_output_problem(*out, c, *config); !problem.empty()) {
        throw ConfigError("--out: " + problem);  // Before any work, not after the training.
      }
      RunOptions options;
      options.run_seed = c.seed;
      options.out_dir = *out;
      std::cout << std::unitbuf;  // Progress lines appear as they happen, also in a log file.
      options.log = &std::cout;
      run_experiment(c, options);
      std::cout << terminal_text(
                       fmt::format("wrote {0}/metrics.json, the model, the projector files and "
                                   "{0}/model_report.html (what the model learned)",
                                   *out))
                << "\n";
    });
  }
  {
    auto model = std::make_shared<std::string>();
    auto images = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("match", "Decide whether two images show the same class");
    sub->add_option("--model", *model, "Model folder written by hpt train")->required();
    sub->add_option("images", *images, "IMAGE1 IMAGE2")->required()->expected(2);
    sub->callback([model, images] {
      SavedModel m = load_model(*model);
      auto e = embed_files(m, *images);
      const auto pair = e.to(torch::kFloat64);  // As training's pair_distances.
      std::cout << match_line((pair[0] - pair[1]).norm().item<double>(), m.threshold) << "\n";
    });
  }
  {
    auto model = std::make_shared<std::string>();
    auto images = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("embed", "Print image embeddings as JSON lines");
    sub->add_option("--model", *model, "Model folder written by hpt train")->required();
    sub->add_option("images", *images, "Image files")->required();
    sub->callback([model, images] {
      SavedModel m = load_model(*model);
      auto e = embed_files(m, *images).contiguous();
      for (size_t i = 0; i < images->size(); ++i) {
        auto row = e[static_cast<int64_t>(i)];
        std::vector<float> v(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
        // A file name that is not UTF-8 is shown with U+FFFD (JSON holds only UTF-8 text).
        std::cout
            << nlohmann::json{{"image", hpt::valid_utf8((*images)[i])}, {"embedding", v}}.dump()
            << "\n";
      }
    });
  }
  {
    auto* sub = app.add_subcommand(
        "worker", "Built-in trial worker (reads HPT_FIXED, HPT_PARAMS, HPT_SEED, HPT_TRIAL_DIR)");
    sub->callback([] { run_worker(worker_env_from_environment(), std::cout, std::cerr); });
  }
  {
    auto* sub = app.add_subcommand(
        "check-data",
        "Load, split and check the dataset HPT_FIXED names, as a trial would, filling the image "
        "cache, and probe its TorchScript feature_extractor (hpt runs it once before a study's "
        "first trial)");
    sub->callback([] {
      // As a trial's settings (run_worker's merge); the dataset's come from HPT_FIXED alone.
      const nlohmann::json merged =
          merge_settings(parse_object(env("HPT_FIXED"), "HPT_FIXED"),
                         parse_object(env("HPT_PARAMS"), "HPT_PARAMS"), "HPT_PARAMS");
      check_experiment_dataset(experiment_from_json(merged, "HPT_FIXED"), std::cout);
    });
  }
  {
    auto* sub = app.add_subcommand(
        "devices",
        "Print what this LibTorch offers as JSON: {\"cuda_available\": b, \"cuda_devices\": n}");
    sub->callback([] {
      const bool available = torch::cuda::is_available();
      std::cout << nlohmann::json{{"cuda_available", available},
                                  {"cuda_devices", available ? torch::cuda::device_count() : 0}}
                       .dump()
                << "\n";
    });
  }
}

}  // namespace hpt::trainer
