#include "hpt/trainer/experiment_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "hpt/schema/config_error.hpp"

namespace hpt::trainer {

namespace {

const std::vector<std::string> k_dataset_keys = {"format", "path", "image_size", "val_fraction",
                                                 "test_fraction"};

void check_range(bool ok, const YAML::Node& node, const ConfigPath& at, const std::string& rule,
                 const std::string& got) {
  if (!ok) {
    config_fail(at, node, fmt::format("must be {}, got {}", rule, got));
  }
}

int64_t read_int_min(const YAML::Node& node, const ConfigPath& at, int64_t low) {
  int64_t v = read_int(node, at);
  check_range(v >= low, node, at, fmt::format(">= {}", low), std::to_string(v));
  return v;
}

DatasetConfig parse_dataset(const YAML::Node& node, const ConfigPath& at) {
  check_keys(node, at, k_dataset_keys);
  DatasetConfig d;
  for (const char* key : {"format", "path"}) {
    if (!node[key]) {
      config_fail(at, node, fmt::format("missing required key '{}'", key));
    }
  }
  d.format = read_string(node["format"], at.child("format"));
  if (d.format != "idx" && d.format != "tiny-imagenet" && d.format != "folder") {
    config_fail(at.child("format"), node["format"],
                fmt::format("expected idx, tiny-imagenet or folder, got \"{}\"", d.format));
  }
  d.path = read_string(node["path"], at.child("path"));
  if (d.path.empty()) {
    config_fail(at.child("path"), node["path"], "must not be empty");
  }
  if (node["image_size"]) {
    d.image_size = read_int(node["image_size"], at.child("image_size"));
    check_range(d.image_size == 0 || d.image_size >= 16, node["image_size"], at.child("image_size"),
                "0 (native) or >= 16", std::to_string(d.image_size));
  }
  for (auto [key, field] :
       {std::pair{"val_fraction", &d.val_fraction}, std::pair{"test_fraction", &d.test_fraction}}) {
    if (node[key]) {
      *field = read_double(node[key], at.child(key));
      check_range(*field >= 0 && *field < 1, node[key], at.child(key), "in [0, 1)",
                  fmt::format("{}", *field));
    }
  }
  if (d.val_fraction + d.test_fraction >= 1) {
    config_fail(at, node,
                fmt::format("val_fraction + test_fraction must be < 1, got {}",
                            d.val_fraction + d.test_fraction));
  }
  return d;
}

// "auto", "cpu", "cuda" or "cuda:N" with N a small non-negative integer.
bool valid_device(const std::string& d) {
  if (d == "auto" || d == "cpu" || d == "cuda") {
    return true;
  }
  const std::string digits = d.rfind("cuda:", 0) == 0 ? d.substr(5) : "";
  return !digits.empty() && digits.size() <= 4 &&
         digits.find_first_not_of("0123456789") == std::string::npos;
}

// "file:line: key", the prefix config_fail would write for (at, node).
std::string location(const ConfigPath& at, const YAML::Node& node) {
  try {
    config_fail(at, node, "");
  } catch (const ConfigError& e) {
    const std::string s = e.what();
    return s.substr(0, s.size() - 2);  // Drops the ": " before the empty message.
  }
  return at.key;
}

// node[key] as one of choices (fallback when absent); fails listing the choices.
std::string read_choice(const YAML::Node& node, const ConfigPath& root, const char* key,
                        const std::vector<std::string>& choices, const std::string& fallback) {
  if (!node[key]) {
    return fallback;
  }
  std::string v = read_string(node[key], root.child(key));
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    config_fail(root.child(key), node[key],
                fmt::format("expected {}, got \"{}\"", fmt::join(choices, " | "), v));
  }
  return v;
}

// JSON -> YAML scalars/sequences/maps (no marks: errors then name only the origin).
YAML::Node json_to_yaml(const nlohmann::json& j) {
  if (j.is_object()) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [key, value] : j.items()) {
      map[key] = json_to_yaml(value);
    }
    return map;
  }
  if (j.is_array()) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& item : j) {
      seq.push_back(json_to_yaml(item));
    }
    return seq;
  }
  if (j.is_null()) {
    return YAML::Node(YAML::NodeType::Null);
  }
  if (j.is_string()) {
    return YAML::Node(j.get<std::string>());
  }
  return YAML::Node(j.dump());  // Numbers and booleans keep their exact text.
}

}  // namespace

std::string origin_of(const ExperimentConfig& config, const std::string& key) {
  const auto it = config.origins.find(key);
  return it == config.origins.end() ? key : it->second;
}

std::vector<std::string> experiment_keys() {
  return {"experiment_name",
          "seed",
          "image_augmentation",
          "feature_extractor",
          "embedding_dim",
          "intermediate_ff_block_units",
          "dropout",
          "epochs",
          "early_stopping_patience",
          "dataset",
          "learning_rate",
          "margin",
          "loss",
          "classes_per_batch",
          "images_per_class",
          "steps_per_epoch",
          "trainable_extractor",
          "pretrain_epochs",
          "eval_pairs",
          "threads",
          "device",
          "precision",
          "distance",
          "lr_schedule",
          "warmup_steps"};
}

ExperimentConfig parse_experiment(const YAML::Node& node, const std::string& file) {
  const ConfigPath root{file, ""};
  check_keys(node, root, experiment_keys());
  ExperimentConfig c;
  auto at = [&](const char* key) { return root.child(key); };
  if (node["experiment_name"]) {
    c.experiment_name = read_string(node["experiment_name"], at("experiment_name"));
  }
  if (node["seed"]) {
    c.seed = static_cast<uint64_t>(read_int_min(node["seed"], at("seed"), 0));
  }
  if (node["image_augmentation"]) {
    c.image_augmentation = read_bool(node["image_augmentation"], at("image_augmentation"));
  }
  if (node["feature_extractor"]) {
    c.feature_extractor = read_string(node["feature_extractor"], at("feature_extractor"));
    const std::string& f = c.feature_extractor;
    bool is_pt = f.size() > 3 && f.compare(f.size() - 3, 3, ".pt") == 0;
    if (f != "builtin-cnn" && !is_pt) {
      config_fail(at("feature_extractor"), node["feature_extractor"],
                  fmt::format("expected builtin-cnn or a TorchScript .pt file, got \"{}\"", f));
    }
  }
  if (node["embedding_dim"]) {
    c.embedding_dim = read_int_min(node["embedding_dim"], at("embedding_dim"), 1);
  }
  if (const YAML::Node units = node["intermediate_ff_block_units"]; units) {
    const ConfigPath p = at("intermediate_ff_block_units");
    if (!units.IsSequence() && !units.IsNull()) {
      config_fail(p, units, "expected a list of integers");
    }
    for (size_t i = 0; units.IsSequence() && i < units.size(); ++i) {
      c.intermediate_ff_block_units.push_back(read_int_min(units[i], p.index(i), 1));
    }
  }
  if (node["dropout"]) {
    c.dropout = read_double(node["dropout"], at("dropout"));
    check_range(c.dropout >= 0 && c.dropout < 1, node["dropout"], at("dropout"), "in [0, 1)",
                fmt::format("{}", c.dropout));
  }
  if (node["epochs"]) {
    c.epochs = read_int_min(node["epochs"], at("epochs"), 1);
  }
  if (node["early_stopping_patience"]) {
    c.early_stopping_patience =
        read_int_min(node["early_stopping_patience"], at("early_stopping_patience"), 0);
  }
  if (!node["dataset"]) {
    config_fail(root, node, "missing required key 'dataset'");
  }
  c.dataset = parse_dataset(node["dataset"], at("dataset"));
  if (node["learning_rate"]) {
    c.learning_rate = read_double(node["learning_rate"], at("learning_rate"));
    check_range(c.learning_rate > 0 && c.learning_rate < 10, node["learning_rate"],
                at("learning_rate"), "in (0, 10)", fmt::format("{}", c.learning_rate));
  }
  if (node["margin"]) {
    c.margin = read_double(node["margin"], at("margin"));
    check_range(c.margin > 0, node["margin"], at("margin"), "> 0", fmt::format("{}", c.margin));
  }
  if (node["loss"]) {
    c.loss = read_string(node["loss"], at("loss"));
    if (c.loss != "semi-hard" && c.loss != "batch-hard") {
      config_fail(at("loss"), node["loss"],
                  fmt::format("expected semi-hard or batch-hard, got \"{}\"", c.loss));
    }
  }
  if (node["classes_per_batch"]) {
    c.classes_per_batch = read_int_min(node["classes_per_batch"], at("classes_per_batch"), 2);
  }
  if (node["images_per_class"]) {
    c.images_per_class = read_int_min(node["images_per_class"], at("images_per_class"), 2);
  }
  if (node["steps_per_epoch"]) {
    c.steps_per_epoch = read_int_min(node["steps_per_epoch"], at("steps_per_epoch"), 0);
  }
  if (node["trainable_extractor"]) {
    c.trainable_extractor = read_bool(node["trainable_extractor"], at("trainable_extractor"));
  }
  if (node["pretrain_epochs"]) {
    c.pretrain_epochs = read_int_min(node["pretrain_epochs"], at("pretrain_epochs"), 0);
  }
  if (node["eval_pairs"]) {
    c.eval_pairs = read_int_min(node["eval_pairs"], at("eval_pairs"), 10);
  }
  if (node["threads"]) {
    c.threads = read_int_min(node["threads"], at("threads"), 0);
  }
  if (node["device"]) {
    c.device = read_string(node["device"], at("device"));
    if (!valid_device(c.device)) {
      config_fail(at("device"), node["device"],
                  fmt::format("expected auto, cpu, cuda or cuda:N, got \"{}\"", c.device));
    }
  }
  c.precision = read_choice(node, root, "precision", {"fp32", "bf16", "fp16"}, c.precision);
  for (const char* key : {"device", "precision"}) {
    if (node[key]) {
      c.origins[key] = location(at(key), node[key]);
    }
  }
  c.distance = read_choice(node, root, "distance", {"euclidean", "squared"}, c.distance);
  c.lr_schedule = read_choice(node, root, "lr_schedule", {"constant", "cosine"}, c.lr_schedule);
  if (node["warmup_steps"]) {
    c.warmup_steps = read_int_min(node["warmup_steps"], at("warmup_steps"), 0);
  }
  return c;
}

ExperimentConfig experiment_from_json(const nlohmann::json& json, const std::string& origin) {
  if (!json.is_object()) {
    throw ConfigError(fmt::format("{}: expected a JSON object, got {}", origin, json.dump()));
  }
  return parse_experiment(json_to_yaml(json), origin);
}

nlohmann::json to_json(const ExperimentConfig& c) {
  return {{"experiment_name", c.experiment_name},
          {"seed", c.seed},
          {"image_augmentation", c.image_augmentation},
          {"feature_extractor", c.feature_extractor},
          {"embedding_dim", c.embedding_dim},
          {"intermediate_ff_block_units", c.intermediate_ff_block_units},
          {"dropout", c.dropout},
          {"epochs", c.epochs},
          {"early_stopping_patience", c.early_stopping_patience},
          {"dataset",
           {{"format", c.dataset.format},
            {"path", c.dataset.path},
            {"image_size", c.dataset.image_size},
            {"val_fraction", c.dataset.val_fraction},
            {"test_fraction", c.dataset.test_fraction}}},
          {"learning_rate", c.learning_rate},
          {"margin", c.margin},
          {"loss", c.loss},
          {"classes_per_batch", c.classes_per_batch},
          {"images_per_class", c.images_per_class},
          {"steps_per_epoch", c.steps_per_epoch},
          {"trainable_extractor", c.trainable_extractor},
          {"pretrain_epochs", c.pretrain_epochs},
          {"eval_pairs", c.eval_pairs},
          {"threads", c.threads},
          {"device", c.device},
          {"precision", c.precision},
          {"distance", c.distance},
          {"lr_schedule", c.lr_schedule},
          {"warmup_steps", c.warmup_steps}};
}

}  // namespace hpt::trainer
