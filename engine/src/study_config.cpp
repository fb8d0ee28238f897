#include "hpt/engine/study_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hpt/schema/config_error.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/sampler.hpp"
#ifdef HPT_HAVE_EXPERIMENT
#include "hpt/trainer/experiment_config.hpp"
#endif

namespace hpt {

namespace {

// Options are every key of a sampler/pruner mapping but type (and seed for samplers).
Json options_of(const YAML::Node& node, const ConfigPath& at,
                std::initializer_list<const char*> skip) {
  Json out = Json::object();
  for (const auto& kv : node) {
    const std::string key = key_name(kv.first, at);
    bool skipped = false;
    for (const char* s : skip) {
      skipped = skipped || key == s;
    }
    if (!skipped) {
      out[key] = yaml_to_json(kv.second);
    }
  }
  return out;
}

// A float or int parameter: low, high, optional log and step, read with read.
template <class D, class Read>
D parse_numeric(const YAML::Node& node, const ConfigPath& at, const std::string& type, Read read) {
  check_keys(node, at, {"type", "low", "high", "log", "step"});
  if (!node["low"] || !node["high"]) {
    config_fail(at, node, type + " parameters need 'low' and 'high'");
  }
  D d;
  d.low = read(node["low"], at.child("low"));
  d.high = read(node["high"], at.child("high"));
  if (node["log"]) {
    d.log = read_bool(node["log"], at.child("log"));
  }
  if (node["step"]) {
    d.step = read(node["step"], at.child("step"));
  }
  return d;
}

Distribution parse_param(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsSequence()) {  // Shorthand: a list of choices.
    CategoricalDistribution c;
    for (const auto& item : node) {
      c.choices.push_back(yaml_to_json(item));
    }
    if (c.choices.empty()) {
      config_fail(at, node, "choices must not be empty");
    }
    return c;
  }
  require_map(node, at);
  if (!node["type"]) {
    config_fail(at, node, "missing 'type' (float, int or categorical)");
  }
  const std::string type = read_string(node["type"], at.child("type"));
  Distribution d;
  if (type == "float") {
    d = parse_numeric<FloatDistribution>(node, at, type, read_double);
  } else if (type == "int") {
    d = parse_numeric<IntDistribution>(node, at, type, read_int);
  } else if (type == "categorical") {
    check_keys(node, at, {"type", "choices"});
    if (!node["choices"] || !node["choices"].IsSequence()) {
      config_fail(at, node, "categorical parameters need a 'choices' list");
    }
    CategoricalDistribution c;
    for (const auto& item : node["choices"]) {
      c.choices.push_back(yaml_to_json(item));
    }
    d = c;
  } else {
    std::string msg = fmt::format("unknown parameter type '{}'", type);
    if (auto m = near_miss(type, {"float", "int", "categorical"})) {
      msg += fmt::format(" (did you mean '{}'?)", *m);
    }
    config_fail(at.child("type"), node["type"], msg + "; expected float, int or categorical");
  }
  try {
    validate(d);
  } catch (const std::invalid_argument& e) {
    config_fail(at, node, e.what());
  }
  return d;
}

void parse_study_section(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  check_keys(node, at,
             {"name", "direction", "sampler", "pruner", "seed", "jobs", "storage", "max_failures",
              "heartbeat_grace", "trials_dir"});
  if (node["name"]) {
    c.name = read_string(node["name"], at.child("name"));
    if (c.name.empty()) {
      config_fail(at.child("name"), node["name"], "must not be empty");
    }
  }
  if (node["direction"]) {
    const std::string d = read_string(node["direction"], at.child("direction"));
    try {
      c.direction = direction_from_name(d);
    } catch (const std::invalid_argument& e) {
      config_fail(at.child("direction"), node["direction"], e.what());
    }
  }
  if (node["seed"]) {
    int64_t s = read_int(node["seed"], at.child("seed"));
    if (s < 0) {
      config_fail(at.child("seed"), node["seed"], fmt::format("must be >= 0, but got {}", s));
    }
    c.seed = static_cast<uint64_t>(s);
  }
  c.sampler_seed = c.seed;
  if (node["jobs"]) {
    int64_t j = read_int(node["jobs"], at.child("jobs"));
    if (j < 1 || j > 1024) {
      config_fail(at.child("jobs"), node["jobs"],
                  fmt::format("must be in [1, 1024], but got {}", j));
    }
    c.jobs = static_cast<int>(j);
  }
  if (node["storage"]) {
    c.storage = read_string(node["storage"], at.child("storage"));
  }
  if (node["trials_dir"]) {
    c.trials_dir = read_string(node["trials_dir"], at.child("trials_dir"));
  }
  if (node["max_failures"]) {
    int64_t m = read_int(node["max_failures"], at.child("max_failures"));
    if (m < 1) {
      config_fail(at.child("max_failures"), node["max_failures"],
                  fmt::format("must be >= 1, but got {}", m));
    }
    c.max_failures = static_cast<int>(m);
  }
  if (node["heartbeat_grace"]) {
    c.heartbeat_grace = read_double(node["heartbeat_grace"], at.child("heartbeat_grace"));
    if (c.heartbeat_grace <= 0) {
      config_fail(at.child("heartbeat_grace"), node["heartbeat_grace"], "must be > 0");
    }
  }
  if (const auto s = node["sampler"]) {
    require_map(s, at.child("sampler"));
    if (!s["type"]) {
      config_fail(at.child("sampler"), s, "missing 'type' (tpe, random or grid)");
    }
    c.sampler_type = read_string(s["type"], at.child("sampler.type"));
    if (s["seed"]) {
      int64_t v = read_int(s["seed"], at.child("sampler.seed"));
      if (v < 0) {
        config_fail(at.child("sampler.seed"), s["seed"],
                    fmt::format("must be >= 0, but got {}", v));
      }
      c.sampler_seed = static_cast<uint64_t>(v);
    }
    c.sampler_options = options_of(s, at.child("sampler"), {"type", "seed"});
  }
  if (const auto p = node["pruner"]) {
    require_map(p, at.child("pruner"));
    if (!p["type"]) {
      config_fail(at.child("pruner"), p, "missing 'type' (median, percentile or none)");
    }
    c.pruner_type = read_string(p["type"], at.child("pruner.type"));
    c.pruner_options = options_of(p, at.child("pruner"), {"type"});
  }
}

void parse_objective_section(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  if (node.IsNull()) {
    return;
  }
  check_keys(node, at, {"command", "timeout", "retries"});
  if (const auto cmd = node["command"]) {
    if (cmd.IsScalar()) {
      config_fail(at.child("command"), cmd,
                  "expected a list of arguments, e.g. [python3, objective.py, \"{lr}\"]");
    }
    if (!cmd.IsSequence() || cmd.size() == 0) {
      config_fail(at.child("command"), cmd, "expected a non-empty list of arguments");
    }
    for (size_t i = 0; i < cmd.size(); ++i) {
      c.command.push_back(read_string(cmd[i], at.child("command").index(i)));
    }
    const std::string& program = c.command.front();
    if (program.find('/') == std::string::npos && boost::process::search_path(program).empty()) {
      config_fail(at.child("command").index(0), cmd[0],
                  fmt::format("'{}' not found in PATH", program));
    }
  }
  if (node["timeout"]) {
    double t = read_double(node["timeout"], at.child("timeout"));
    if (t <= 0) {
      config_fail(at.child("timeout"), node["timeout"],
                  fmt::format("must be > 0 seconds, but got {}", t));
    }
    c.timeout = t;
  }
  if (node["retries"]) {
    int64_t r = read_int(node["retries"], at.child("retries"));
    if (r < 0 || r > 100) {
      config_fail(at.child("retries"), node["retries"],
                  fmt::format("must be in [0, 100], but got {}", r));
    }
    c.retries = static_cast<int>(r);
  }
}

#ifdef HPT_HAVE_EXPERIMENT
// The built-in trainer's settings are validated before anything runs: fixed keys with
// their lines, search-space names against the experiment keys, and one merged config.
void validate_experiment(const YAML::Node& root, const StudyConfig& c) {
  const ConfigPath file{c.file, ""};
  const auto keys = trainer::experiment_keys();
  const YAML::Node space = root["search_space"];
  for (const auto& [name, dist] : c.search_space) {
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      std::string msg = fmt::format("'{}' is not a setting of the built-in trainer", name);
      if (auto m = near_miss(name, keys)) {
        msg += fmt::format(" (did you mean '{}'?)", *m);
      }
      YAML::Node key_node;
      for (const auto& kv : space) {
        if (kv.first.IsScalar() && kv.first.Scalar() == name) {
          key_node = kv.first;
        }
      }
      config_fail(file.child("search_space").child(name), key_node, msg);
    }
  }
  Json merged = c.fixed;
  for (const auto& [name, dist] : c.search_space) {
    merged[name] =
        to_external(dist, std::visit(
                              [](const auto& d) -> double {
                                using T = std::decay_t<decltype(d)>;
                                if constexpr (std::is_same_v<T, CategoricalDistribution>) {
                                  return 0.0;
                                } else {
                                  return static_cast<double>(d.low);
                                }
                              },
                              dist));
  }
  if (root["fixed"] && root["fixed"].IsMap()) {
    YAML::Node fixed = YAML::Clone(root["fixed"]);
    for (const auto& [name, dist] : c.search_space) {
      fixed.remove(name);
    }
    if (fixed["dataset"]) {
      trainer::parse_experiment(fixed, c.file);
    }
  }
  trainer::experiment_from_json(merged, c.file + " (fixed + search_space)");
}
#endif

}  // namespace

StudyConfig parse_study_config(const std::string& yaml_text, const std::string& file) {
  check_utf8(yaml_text, file);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: YAML syntax error: {}", file, e.mark.line + 1, e.msg));
  }
  const ConfigPath top{file, ""};
  if (!root.IsMap()) {
    config_fail(top, root,
                "expected a mapping with sections study, objective, fixed, search_space");
  }
  check_keys(root, top, {"study", "objective", "fixed", "search_space"});
  StudyConfig c;
  c.file = file;
  c.name = std::filesystem::path(file).stem().string();
  if (root["study"]) {
    parse_study_section(root["study"], top.child("study"), c);
  }
  if (root["objective"]) {
    parse_objective_section(root["objective"], top.child("objective"), c);
  }
  if (const auto fixed = root["fixed"]) {
    if (!fixed.IsNull()) {
      require_map(fixed, top.child("fixed"));
      c.fixed = yaml_to_json(fixed);
    }
  }
  const auto space = root["search_space"];
  if (!space || space.IsNull() || (space.IsMap() && space.size() == 0)) {
    config_fail(top.child("search_space"), space,
                "the search space is empty: add at least one parameter");
  }
  require_map(space, top.child("search_space"));
  for (const auto& kv : space) {
    const std::string name = key_name(kv.first, top.child("search_space"));
    if (c.fixed.contains(name)) {
      config_fail(top.child("search_space").child(name), kv.first,
                  "is also set in 'fixed'; a parameter is either fixed or searched");
    }
    c.search_space.emplace_back(name,
                                parse_param(kv.second, top.child("search_space").child(name)));
  }
  try {
    make_sampler(c.sampler_type, c.sampler_options, c.sampler_seed, c.search_space);
  } catch (const std::invalid_argument& e) {
    config_fail(top.child("study.sampler"), root["study"]["sampler"], e.what());
  }
  try {
    make_pruner(c.pruner_type, c.pruner_options);
  } catch (const std::invalid_argument& e) {
    config_fail(top.child("study.pruner"), root["study"]["pruner"], e.what());
  }
#ifdef HPT_HAVE_EXPERIMENT
  if (c.builtin_trainer()) {
    validate_experiment(root, c);
  }
#endif
  return c;
}

StudyConfig load_study_config(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    throw ConfigError(fmt::format("{}: cannot open config file", file));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_study_config(ss.str(), file);
}

}  // namespace hpt
