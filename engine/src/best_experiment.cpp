#include "hpt/engine/best_experiment.hpp"

#include <fmt/format.h>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/model_file.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/schema/yaml_text.hpp"
#include "hpt/storage/attribute_names.hpp"

namespace hpt {

namespace {

// The keys of config whose values differ from base's (a section: its differing keys), as a
// user writes an experiment file: giving a key that has no effect (dataset.val_fraction for a
// dataset split by its files) is refused there.
Json differing(const Json& config, const Json& base) {
  Json out = Json::object();
  for (const auto& [key, value] : config.items()) {
    const auto it = base.find(key);
    if (it != base.end() && value.is_object() && it->is_object()) {
      if (Json section = differing(value, *it); !section.empty()) {
        out[key] = std::move(section);
      }
    } else if (it == base.end() || *it != value) {
      out[key] = value;
    }
  }
  return out;
}

// The experiment config in dir's model.json, checked as the trainer checks it.
Json model_json_config(const std::string& dir) {
  const std::string path = dir + "/" + trainer::k_model_file;
  Json model;
  try {
    model = trainer::read_model_file(dir);
  } catch (const std::invalid_argument& e) {  // Nested too deep.
    throw std::runtime_error(path + ": " + e.what());
  }
  if (!model.is_object() || !model.contains("config")) {
    throw std::runtime_error(path + ": no config");
  }
  return trainer::to_json(trainer::experiment_from_json(model.at("config"), path + ": config"));
}

}  // namespace

std::string best_experiment_yaml(Storage& storage, const StudyInfo& study, const FrozenTrial& trial,
                                 const std::vector<std::string>& model_folders) {
  const auto attrs = storage.study_system_attrs(study.id);
  const auto it = attrs.find(k_run_settings_attr);
  const Json settings = it != attrs.end() && it->second.is_object() ? it->second : Json();
  const Json command = settings.is_object() ? settings.value("command", Json::array()) : Json();
  if (command.is_array() && !command.empty()) {
    throw std::runtime_error(fmt::format(
        "study '{}' runs a command objective, not the built-in trainer: its trials' settings are "
        "their params (hpt best --format json)",
        study.name));
  }
  // Study names, paths and messages go into comments JSON-quoted: a line break in one cannot
  // end its comment.
  const auto quoted = [](const std::string& s) {
    return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);  // Any bytes.
  };
  std::string header =
      fmt::format("# trial {} of study {}{}\n", trial.number, quoted(study.name),
                  trial.value ? fmt::format(" (value {})", *trial.value) : std::string());
  Json config;
  std::string unread;
  if (const auto dir = reports::trial_model_dir(trial, model_folders)) {
    try {
      config = model_json_config(*dir);
      header +=
          "# the config its model was trained with: " + quoted(*dir + "/" + trainer::k_model_file) +
          "\n";
    } catch (const std::exception& e) {
      unread = e.what();
    }
  }
  if (config.is_null()) {
    if (!settings.is_object() || !settings.value("fixed", Json()).is_object()) {
      throw std::runtime_error(fmt::format(
          "trial {} of study '{}' has no model.json{} and the study records no fixed settings "
          "(was it run by hpt?)",
          trial.number, study.name, unread.empty() ? "" : " that hpt can read (" + unread + ")"));
    }
    const std::string origin = fmt::format("trial {}", trial.number);
    config = trainer::to_json(trainer::experiment_from_json(
        trainer::merge_settings(settings.at("fixed"), trial.external_params(), origin), origin));
    header +=
        "# the study's fixed settings (as its last run recorded them) with the trial's "
        "params merged over them" +
        (unread.empty() ? std::string(": its model.json is gone")
                        : ": its model.json is unreadable (" + quoted(unread) + ")") +
        "\n";
  }
  const trainer::ExperimentConfig defaults;
  std::string body;
  try {
    body = yaml_text(differing(config, trainer::to_json(defaults)));
  } catch (const Json::type_error&) {  // Bytes that are not UTF-8 (a path): YAML holds text only.
    throw std::runtime_error(fmt::format(
        "trial {}'s experiment config holds text that is not valid UTF-8, which YAML cannot "
        "carry (a path?)",
        trial.number));
  }
  return header +
         "# what differs from hpt's defaults; train it again: hpt train --config THIS_FILE --out "
         "DIR\n" +
         body;
}

}  // namespace hpt
