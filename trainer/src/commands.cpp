#include "hpt/trainer/commands.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "hpt/schema/config_error.hpp"
#include "hpt/trainer/experiment_config.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "hpt/trainer/training.hpp"

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
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    throw ConfigError(
        fmt::format("{}: expected a JSON object, got '{}'", name, text->substr(0, 80)));
  }
  return j;
}

nlohmann::json parse_units(const std::string& text) {
  nlohmann::json out = nlohmann::json::array();
  if (text == "none" || text == "[]" || text.empty()) {
    return out;
  }
  std::string token;
  for (char ch : text + ",") {
    if (ch >= '0' && ch <= '9') {
      token += ch;
    } else if (ch == ',' || ch == '-' || ch == ' ' || ch == '[' || ch == ']' || ch == 'x') {
      if (!token.empty()) {
        out.push_back(std::stoll(token));
        token.clear();
      }
    } else {
      throw ConfigError(fmt::format(
          "HPT_PARAMS: intermediate_ff_block_units: expected e.g. \"512-256\", got \"{}\"", text));
    }
  }
  return out;
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

nlohmann::json merge_params(const nlohmann::json& fixed, const nlohmann::json& params) {
  nlohmann::json merged = fixed;
  for (const auto& [key, value] : params.items()) {
    nlohmann::json v = value;
    if (key == "intermediate_ff_block_units" && v.is_string()) {
      v = parse_units(v.get<std::string>());
    }
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      merged[key] = v;
    } else {
      merged[key.substr(0, dot)][key.substr(dot + 1)] = v;
    }
  }
  return merged;
}

int run_worker(const WorkerEnv& e, std::ostream& out, std::ostream& err) {
  const nlohmann::json merged =
      merge_params(parse_object(e.fixed, "HPT_FIXED"), parse_object(e.params, "HPT_PARAMS"));
  const ExperimentConfig config = experiment_from_json(merged, "HPT_FIXED+HPT_PARAMS");
  RunOptions options;
  options.run_seed = config.seed;
  if (e.seed && !e.seed->empty()) {
    try {
      options.run_seed = std::stoull(*e.seed);
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("HPT_SEED: expected an integer, got \"{}\"", *e.seed));
    }
  }
  options.out_dir = e.trial_dir.value_or("");
  options.log = &err;
  options.on_epoch = [&](const EpochReport& r) {
    print_line(out, {{"step", r.epoch}, {"value", r.val_auc}});
  };
  err << fmt::format("hpt worker: trial {} seed {}\n", e.trial_number.value_or("?"),
                     options.run_seed);
  const ExperimentResult r = run_experiment(config, options);
  print_line(out, {{"value", r.loop.best_val_auc},
                   {"user_attrs",
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
  return 0;
}

void add_trainer_commands(CLI::App& app) {
  {
    auto config = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("train", "Train the embedding model from an experiment YAML");
    sub->add_option("--config", *config, "Experiment YAML file")->required();
    sub->add_option("--out", *out, "Output folder (model, metrics.json, projector files)")
        ->required();
    sub->callback([config, out] {
      const ExperimentConfig c = parse_experiment(load_yaml_file(*config), *config);
      RunOptions options;
      options.run_seed = c.seed;
      options.out_dir = *out;
      options.log = &std::cout;
      run_experiment(c, options);
      std::cout << fmt::format("wrote {}/metrics.json, the model and the projector files\n", *out);
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
      const double d = (e[0] - e[1]).norm().item<double>();
      std::cout << fmt::format("distance {:.6f} threshold {:.6f}: {}\n", d, m.threshold,
                               d <= m.threshold ? "same" : "different");
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
        std::cout << nlohmann::json{{"image", (*images)[i]}, {"embedding", v}}.dump() << "\n";
      }
    });
  }
  {
    auto* sub = app.add_subcommand(
        "worker", "Built-in trial worker (reads HPT_FIXED, HPT_PARAMS, HPT_SEED, HPT_TRIAL_DIR)");
    sub->callback([] { run_worker(worker_env_from_environment(), std::cout, std::cerr); });
  }
}

}  // namespace hpt::trainer
