#include "hpt/engine/study_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <regex>
#include <unordered_map>

#include "hpt/cli/run_app.hpp"
#include "hpt/engine/enqueue.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/unexpanded_path.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

namespace {

// Upper bounds that keep every later conversion (to int, to a clock duration) exact.
constexpr int64_t k_max_jobs = 1024;
constexpr double k_max_seconds = 1e9;  // About 31 years.
// Objectives of one study: hypervolume work grows quickly with them; Optuna sets no limit.
constexpr size_t k_max_objectives = 16;

bool is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

// Why a name or path has whitespace at its start or end (all of it: "only whitespace"), or "".
std::string padding_problem(const std::string& v) {
  if (v.empty() || (!is_space(v.front()) && !is_space(v.back()))) {
    return "";
  }
  return fmt::format("must not {}, got \"{}\"",
                     std::all_of(v.begin(), v.end(), is_space) ? "be only whitespace"
                                                               : "begin or end with whitespace",
                     v);
}

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

// The choices listed at list (at names it): none a number hpt does not read
// (refuse_unread_numbers), each different from the others by choice_key (~ and null, 1 and
// 1.0, [1] and "[1]" are the same).
CategoricalDistribution parse_choices(const YAML::Node& list, const ConfigPath& at) {
  CategoricalDistribution c;
  std::unordered_map<std::string, size_t> first;  // choice_key text -> index.
  for (size_t i = 0; i < list.size(); ++i) {
    refuse_unread_numbers(list[i], at.index(i));
    c.choices.push_back(yaml_to_json(list[i]));
    const auto [it, added] = first.emplace(choice_key(c.choices[i]).dump(), i);
    if (!added) {
      const Json& earlier = c.choices[it->second];
      config_fail(at.index(i), list[i],
                  fmt::format("{} repeats choice [{}] ({}){}; each choice must be different",
                              list[i].IsScalar() ? list[i].Scalar() : c.choices[i].dump(),
                              it->second, earlier.dump(),
                              earlier.is_structured() != c.choices[i].is_structured()
                                  ? ": a list or mapping is stored as its JSON text"
                                  : ""));
    }
  }
  return c;
}

// Lowers d.high to the last value low + k * step reaches, as Optuna does, with a warning
// naming node's high.
template <class D, class Step>
void lower_to_reachable(D& d, Step step, const YAML::Node& node, const ConfigPath& at,
                        std::vector<std::string>& warnings) {
  const auto high = reachable_high(d);
  if (high != d.high) {
    warnings.push_back(
        fmt::format("{}: high {} is not reachable with step {} from low {}; using {}",
                    config_location(at, node["high"]), d.high, step, d.low, high));
    d.high = high;
  }
}

Distribution parse_param(const YAML::Node& node, const ConfigPath& at,
                         std::vector<std::string>& warnings) {
  if (node.IsSequence()) {  // Shorthand: a list of choices.
    if (node.size() == 0) {
      config_fail(at, node, "choices must not be empty");
    }
    return parse_choices(node, at);
  }
  // A misspelt key first: `typ: float` read as "missing 'type'" without naming `typ`.
  check_keys(node, at, {"type", "low", "high", "step", "log", "choices"});
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
    d = parse_choices(node["choices"], at.child("choices"));
  } else {
    config_fail(at.child("type"), node["type"],
                fmt::format("unknown parameter type '{}'{}; expected float, int or categorical",
                            type, did_you_mean(type, {"float", "int", "categorical"})));
  }
  try {
    validate(d);
  } catch (const std::invalid_argument& e) {
    config_fail(at, node, e.what());
  }
  if (auto* f = std::get_if<FloatDistribution>(&d); f && f->step) {
    // Samplers count grid points in doubles: past 2^53 of them the grid is not exact (and
    // 1e300 / 1e-300 overflows to inf).
    if (!((f->high - f->low) / *f->step <= 0x1p53)) {
      config_fail(at, node,
                  fmt::format("step {} cuts [{}, {}] into more than 2^53 points; give a larger "
                              "step, or none",
                              *f->step, f->low, f->high));
    }
    lower_to_reachable(*f, *f->step, node, at, warnings);
  } else if (auto* i = std::get_if<IntDistribution>(&d)) {
    // Optuna checks an int value against its step in doubles: past 2^53 from low, values on
    // the step are refused (optuna.copy_study and add_trial failed on an hpt study's trials).
    if (i->step > 1 && i->high - i->low > int64_t{1} << 53) {
      config_fail(at, node,
                  fmt::format("a step ({}) over a range wider than 2^53 ({} to {}): Optuna checks "
                              "such values in doubles and refuses some that are on the step; "
                              "narrow the range, or drop the step",
                              i->step, i->low, i->high));
    }
    lower_to_reachable(*i, i->step, node, at, warnings);
  }
  return d;
}

// study.gpus (distinct device ids >= 0) and study.gpus_per_trial (1..len(gpus)); jobs
// defaults to the number of trials the GPUs hold at once.
void parse_gpus(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  if (const auto g = node["gpus"]) {
    if (!g.IsSequence()) {
      config_fail(at.child("gpus"), g, "expected a list of GPU device ids, e.g. [0, 1]");
    }
    for (size_t i = 0; i < g.size(); ++i) {
      const int id = static_cast<int>(read_int_in(g[i], at.child("gpus").index(i), 0, 65535));
      for (size_t k = 0; k < i; ++k) {
        if (c.gpus[k] == id) {
          config_fail(
              at.child("gpus").index(i), g[i],
              fmt::format("device {} is listed twice (also at line {})", id, g[k].Mark().line + 1));
        }
      }
      c.gpus.push_back(id);
    }
  }
  if (const auto p = node["gpus_per_trial"]) {
    if (c.gpus.empty()) {
      config_fail(at.child("gpus_per_trial"), p, "needs study.gpus, the devices to hand out");
    }
    c.gpus_per_trial = static_cast<int>(
        read_int_in(p, at.child("gpus_per_trial"), 1, static_cast<int64_t>(c.gpus.size())));
  }
  if (!c.gpus.empty() && !node["jobs"]) {
    c.jobs = static_cast<int>(c.gpus.size()) / c.gpus_per_trial;
  }
}

Direction parse_direction(const YAML::Node& node, const ConfigPath& at) {
  const std::string d = read_string(node, at);
  try {
    return direction_from_name(d);
  } catch (const std::invalid_argument& e) {
    config_fail(at, node, e.what());
  }
}

// study.direction or study.directions (exactly one of them; a list of 1 to k_max_objectives).
void parse_directions(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  const auto one = node["direction"];
  const auto many = node["directions"];
  if (one && many) {
    config_fail(at.child("directions"), many,
                fmt::format("give either direction (one objective) or directions, not both "
                            "(direction is at line {})",
                            one.Mark().line + 1));
  }
  if (one) {
    c.directions = {parse_direction(one, at.child("direction"))};
  } else if (many) {
    if (!many.IsSequence() || many.size() == 0) {
      config_fail(at.child("directions"), many,
                  "expected a list of directions, one per objective, e.g. [maximize, minimize]");
    }
    if (many.size() > k_max_objectives) {
      config_fail(at.child("directions"), many,
                  fmt::format("{} objectives; at most {}", many.size(), k_max_objectives));
    }
    c.directions.clear();
    for (size_t i = 0; i < many.size(); ++i) {
      c.directions.push_back(parse_direction(many[i], at.child("directions").index(i)));
    }
  }
  c.direction = c.directions.front();
}

// A parameter (fixed or searched) may not take a placeholder name hpt fills itself.
void check_not_reserved(const std::string& name, const YAML::Node& key, const ConfigPath& at) {
  if (std::find(k_reserved_placeholders.begin(), k_reserved_placeholders.end(), name) !=
      k_reserved_placeholders.end()) {
    config_fail(at.child(name), key,
                fmt::format("'{}' is a reserved placeholder name ({{{}}} in objective.command "
                            "is filled by hpt); rename the parameter",
                            name, name));
  }
}

// The keys each section of a study config takes ("" is the top level), in one table: each
// section is checked against it, and a key written in the wrong section is told where it goes.
const std::vector<std::pair<std::string, std::vector<std::string>>>& section_keys() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> table = {
      {"", {"study", "objective", "fixed", "search_space", "enqueue"}},
      {"study",
       {"name", "direction", "directions", "sampler", "pruner", "seed", "jobs", "storage",
        "max_failures", "heartbeat_grace", "trials_dir", "gpus", "gpus_per_trial"}},
      {"objective", {"command", "timeout", "retries", "max_steps"}},
  };
  return table;
}

// check_keys of node (at) against section's keys; a key of another section is refused naming
// where it belongs (`sampler:` at the top level, `jobs:` under objective).
void check_section_keys(const YAML::Node& node, const ConfigPath& at, const std::string& section) {
  const auto& table = section_keys();
  const auto mine = std::find_if(table.begin(), table.end(),
                                 [&](const auto& entry) { return entry.first == section; });
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (key.empty() || std::count(mine->second.begin(), mine->second.end(), key) > 0) {
        continue;
      }
      for (const auto& [other, keys] : table) {
        if (std::count(keys.begin(), keys.end(), key) > 0) {
          config_fail(
              at.child(key), kv.first,
              fmt::format("'{}' is not a key of {}: it belongs {}", key,
                          section.empty() ? "the top level" : section,
                          other.empty() ? "at the top level"
                                        : fmt::format("under {}: ({}.{})", other, other, key)));
        }
      }
    }
  }
  check_keys(node, at, mine->second);
}

void parse_sampler_and_pruner(const YAML::Node& node, const ConfigPath& at, StudyConfig& c);

void parse_study_section(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  check_section_keys(node, at, "study");
  if (node["name"]) {
    c.name = read_string(node["name"], at.child("name"));
    if (const std::string problem = study_name_problem(c.name); !problem.empty()) {
      config_fail(at.child("name"), node["name"], problem);
    }
  }
  parse_directions(node, at, c);
  if (node["seed"]) {
    c.seed = static_cast<uint64_t>(read_int_in(node["seed"], at.child("seed"), 0));
    c.seed_given = true;
  }
  c.sampler_seed = c.seed;
  if (node["jobs"]) {
    c.jobs = static_cast<int>(read_int_in(node["jobs"], at.child("jobs"), 1, k_max_jobs));
  }
  if (node["storage"]) {
    c.storage = read_string(node["storage"], at.child("storage"));
    if (const std::string problem = study_storage_problem(c.storage); !problem.empty()) {
      config_fail(at.child("storage"), node["storage"], problem);
    }
    c.origins["study.storage"] = config_location(at.child("storage"), node["storage"]);
  }
  if (node["trials_dir"]) {
    c.trials_dir = read_string(node["trials_dir"], at.child("trials_dir"));
    if (c.trials_dir.empty()) {
      config_fail(at.child("trials_dir"), node["trials_dir"],
                  "must not be empty (leave it out for the default: beside the database)");
    }
    for (const std::string& problem :
         {padding_problem(c.trials_dir), unexpanded_path_problem(c.trials_dir)}) {
      if (!problem.empty()) {
        config_fail(at.child("trials_dir"), node["trials_dir"], problem);
      }
    }
    c.origins["study.trials_dir"] = config_location(at.child("trials_dir"), node["trials_dir"]);
  }
  if (node["max_failures"]) {
    c.max_failures = static_cast<int>(read_int_in(node["max_failures"], at.child("max_failures"), 1,
                                                  std::numeric_limits<int>::max()));
  }
  parse_gpus(node, at, c);
  if (node["heartbeat_grace"]) {
    c.heartbeat_grace = read_double_in(node["heartbeat_grace"], at.child("heartbeat_grace"), 0,
                                       k_max_seconds, true);
  }
  parse_sampler_and_pruner(node, at, c);
}

// study.sampler and study.pruner: a type and its options (a multi-objective study is never
// pruned).
void parse_sampler_and_pruner(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  if (const auto s = node["sampler"]) {
    require_map(s, at.child("sampler"));
    if (!s["type"]) {
      config_fail(at.child("sampler"), s,
                  fmt::format("missing 'type' ({})", fmt::join(sampler_types(), ", ")));
    }
    c.sampler_type = read_string(s["type"], at.child("sampler.type"));
    if (s["seed"]) {
      c.sampler_seed = static_cast<uint64_t>(read_int_in(s["seed"], at.child("sampler.seed"), 0));
      c.sampler_seed_given = true;
    }
    c.sampler_options = options_of(s, at.child("sampler"), {"type", "seed"});
  }
  if (const auto p = node["pruner"]) {
    require_map(p, at.child("pruner"));
    if (!p["type"]) {
      config_fail(at.child("pruner"), p,
                  fmt::format("missing 'type' ({})", fmt::join(pruner_types(), ", ")));
    }
    c.pruner_type = read_string(p["type"], at.child("pruner.type"));
    c.pruner_options = options_of(p, at.child("pruner"), {"type"});
  }
  if (c.multi_objective()) {  // As Optuna: trials of multi-objective studies are never pruned.
    if (node["pruner"] && c.pruner_type != "none") {
      config_fail(at.child("pruner"), node["pruner"],
                  "pruning is not supported for multi-objective studies (as in Optuna); "
                  "remove study.pruner or use type: none");
    }
    c.pruner_type = "none";
  }
}

// Why the script that interpreter command[0] runs, command[1], is missing ("" when it exists, or
// when command has no such script: an option or a placeholder first, or another program).
// Relative paths are from the working folder, where workers start.
std::string missing_script_problem(const std::vector<std::string>& command) {
  static const std::regex k_interpreter(
      "(python|pypy)[0-9.]*|bash|sh|dash|zsh|ksh|node|nodejs|Rscript|perl|ruby|julia|lua[0-9.]*|"
      "php");
  if (command.size() < 2 || command[1].empty() || command[1][0] == '-' ||
      command[1].find('{') != std::string::npos ||
      !std::regex_match(std::filesystem::path(command[0]).filename().string(), k_interpreter)) {
    return "";
  }
  std::error_code ec;
  if (std::filesystem::exists(command[1], ec)) {
    return "";
  }
  return fmt::format("no such file '{}'{}", command[1],
                     std::filesystem::path(command[1]).is_absolute()
                         ? ""
                         : fmt::format(" (in the working folder {}, where workers start)",
                                       std::filesystem::current_path(ec).string()));
}

void parse_objective_section(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  if (node.IsNull()) {
    return;
  }
  check_section_keys(node, at, "objective");
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
    if (program.find('{') == std::string::npos) {  // Else only known per trial.
      try {
        resolve_executable(program);  // Missing, no execute bit, missing #! interpreter.
      } catch (const StartError& e) {
        config_fail(at.child("command").index(0), cmd[0], e.what());
      }
    }
    if (const std::string problem = missing_script_problem(c.command); !problem.empty()) {
      config_fail(at.child("command").index(1), cmd[1], problem);
    }
  }
  if (node["timeout"]) {
    c.timeout = read_double_in(node["timeout"], at.child("timeout"), 0, k_max_seconds, true);
  }
  if (node["retries"]) {
    c.retries = static_cast<int>(read_int_in(node["retries"], at.child("retries"), 0, 100));
  }
  if (node["max_steps"]) {
    c.max_steps = read_int_in(node["max_steps"], at.child("max_steps"), 1, k_max_steps_limit);
  }
}

// The key name of mapping map (for its line: a block mapping's value starts a line below),
// or an undefined node.
YAML::Node mapping_key(const YAML::Node& map, const std::string& name) {
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == name) {
      return kv.first;
    }
  }
  return YAML::Node();
}

// The search-space key of parameter name, or an undefined node.
YAML::Node space_key(const YAML::Node& root, const std::string& name) {
  return mapping_key(root["search_space"], name);
}

// One enqueue entry: each key a searched parameter (a near miss suggested, a fixed one refused
// as such), each value one its distribution holds, given as the trial will see it.
Json parse_enqueue_entry(const YAML::Node& node, const ConfigPath& entry_at, const StudyConfig& c,
                         const std::vector<std::string>& names) {
  Json entry = Json::object();
  for (const auto& kv : node) {
    const std::string name = key_name(kv.first, entry_at);
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      const bool fixed =
          c.fixed.contains(name) || (c.builtin_trainer() && trainer::sets_setting(c.fixed, name));
      config_fail(
          entry_at.child(name), kv.first,
          fixed ? fmt::format("'{}' is set in 'fixed', not searched; every trial gets it", name)
                : fmt::format("unknown parameter '{}'{}; searched: {}", name,
                              did_you_mean(name, names), fmt::join(names, ", ")));
    }
    const Distribution& dist = c.search_space[static_cast<size_t>(it - names.begin())].second;
    refuse_unread_numbers(kv.second, entry_at.child(name));
    const Json value = yaml_to_json(kv.second);
    double internal = 0;
    try {
      internal = to_internal(dist, value);
    } catch (const std::invalid_argument& e) {
      config_fail(entry_at.child(name), kv.second,
                  fmt::format("{} ({})", e.what(), distribution_text(dist)));
    }
    if (!contains(dist, internal)) {
      config_fail(entry_at.child(name), kv.second,
                  fmt::format("{} is outside the search space ({})",
                              kv.second.IsScalar() ? kv.second.Scalar() : value.dump(),
                              distribution_text(dist)));
    }
    entry[name] = to_optuna_external(dist, internal);  // Stored for Optuna too (fixed_params).
  }
  return entry;
}

// enqueue: a list of mappings, each naming searched parameters (a near miss suggested, a fixed
// one refused as such) with values their distributions hold; no entry twice.
void parse_enqueue(const YAML::Node& node, const ConfigPath& at, StudyConfig& c) {
  if (node.IsNull()) {
    return;
  }
  if (!node.IsSequence()) {
    config_fail(at, node,
                "expected a list of trials, each a mapping of parameters to values, "
                "e.g. [{lr: 0.001}]");
  }
  if (node.size() > k_max_enqueued) {
    config_fail(at, node,
                fmt::format("{} trials; at most {} (a grid sampler runs every point of a grid)",
                            node.size(), k_max_enqueued));
  }
  std::vector<std::string> names;
  for (const auto& [name, dist] : c.search_space) {
    names.push_back(name);
  }
  std::unordered_map<std::string, size_t> first;  // enqueue_key -> index.
  for (size_t i = 0; i < node.size(); ++i) {
    const ConfigPath entry_at = at.index(i);
    require_map(node[i], entry_at);
    if (node[i].size() == 0) {
      config_fail(entry_at, node[i],
                  fmt::format("gives no parameter; name some of: {}", fmt::join(names, ", ")));
    }
    Json entry = parse_enqueue_entry(node[i], entry_at, c, names);
    const auto [it, added] = first.emplace(*enqueue_key(entry, c.search_space), i);
    if (!added) {
      config_fail(entry_at, node[i],
                  fmt::format("repeats enqueue[{}] (line {}); each trial is enqueued once",
                              it->second, node[it->second].Mark().line + 1));
    }
    c.enqueue.push_back(std::move(entry));
  }
}

// The value a validation trial gives a parameter: a numeric one its low end, a categorical
// one its choice `choice`.
Json probe_value(const Distribution& dist, size_t choice, bool high = false) {
  return to_external(dist, std::visit(
                               [choice, high](const auto& d) -> double {
                                 using T = std::decay_t<decltype(d)>;
                                 if constexpr (std::is_same_v<T, CategoricalDistribution>) {
                                   return static_cast<double>(choice);
                                 } else {
                                   return static_cast<double>(high ? d.high : d.low);
                                 }
                               },
                               dist));
}

// The choice of a categorical whose choices are all numbers that is the largest, else 0: the
// limits across the trainer's keys grow with each value, as with a range's high end.
size_t largest_number_choice(const Distribution& dist) {
  const auto* cat = std::get_if<CategoricalDistribution>(&dist);
  const auto number = [](const Json& v) { return v.is_number() && !v.is_boolean(); };
  if (cat == nullptr || !std::all_of(cat->choices.begin(), cat->choices.end(), number)) {
    return 0;
  }
  return static_cast<size_t>(std::max_element(cat->choices.begin(), cat->choices.end(),
                                              [](const Json& a, const Json& b) {
                                                return a.get<double>() < b.get<double>();
                                              }) -
                             cat->choices.begin());
}

// Whether text looks like a name written as a placeholder ("lr", "dataset.image_size"), not
// braces for another purpose ({"a": 1}, {} or {1,2}).
bool placeholder_like(const std::string& text) {
  const auto word = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
  };
  return !text.empty() && (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_') &&
         std::all_of(text.begin(), text.end(),
                     [&](char ch) { return word(ch) || ch == '.' || ch == '-'; });
}

// A warning for each placeholder-like {name} of objective.command that no parameter (fixed,
// searched or reserved) fills: substitute_placeholders passes it as written, found as it
// finds them.
void warn_unfilled_placeholders(const YAML::Node& root, StudyConfig& c) {
  std::vector<std::string> names;
  for (const auto& [name, dist] : c.search_space) {
    names.push_back(name);
  }
  for (const auto& [name, value] : c.fixed.items()) {
    names.push_back(name);
  }
  const auto known = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end() ||
           std::find(k_reserved_placeholders.begin(), k_reserved_placeholders.end(), name) !=
               k_reserved_placeholders.end();
  };
  const ConfigPath at = ConfigPath{c.file, ""}.child("objective").child("command");
  std::vector<std::string> warned;
  for (size_t i = 0; i < c.command.size(); ++i) {
    const std::string& arg = c.command[i];
    for (size_t open = arg.find('{'); open != std::string::npos; open = arg.find('{', open + 1)) {
      const size_t close = arg.find('}', open + 1);
      if (close == std::string::npos) {
        break;
      }
      const std::string name = arg.substr(open + 1, close - open - 1);
      if (known(name)) {
        open = close;
      } else if (placeholder_like(name) &&
                 std::find(warned.begin(), warned.end(), name) == warned.end()) {
        warned.push_back(name);
        c.warnings.push_back(fmt::format(
            "{}: {{{}}} names no parameter (parameters: {}); passed as written",
            config_location(at, root["objective"]["command"][i]), name, fmt::join(names, ", ")));
      }
    }
  }
}

// The values of dist that check_program_placeholders tries: every one when there are at most
// 256 (choices, a small int range or float grid), else the two ends.
std::vector<Json> program_candidates(const Distribution& dist) {
  if (const auto* categorical = std::get_if<CategoricalDistribution>(&dist)) {
    return {categorical->choices.begin(), categorical->choices.end()};
  }
  if (const auto* i = std::get_if<IntDistribution>(&dist)) {
    if ((i->high - i->low) / i->step < 256) {
      std::vector<Json> all;
      for (int64_t v = i->low; v <= i->high; v += i->step) {
        all.emplace_back(v);
      }
      return all;
    }
    return {Json(i->low), Json(i->high)};
  }
  const auto& f = std::get<FloatDistribution>(dist);
  if (f.step && (f.high - f.low) / *f.step < 256) {
    std::vector<Json> all;
    for (int64_t k = 0; f.low + static_cast<double>(k) * *f.step <= f.high + 1e-12; ++k) {
      all.emplace_back(f.low + static_cast<double>(k) * *f.step);
    }
    return all;
  }
  return {Json(f.low), Json(f.high)};
}

// objective.command[0] with placeholders ("{tool}"): the program is only known per trial, so
// the programs its parameters can make are checked as a plain command[0] is, from
// program_candidates or a fixed value (at most 256 combinations). Every trial failed until
// max_failures ("cannot start '-1.43': not found in PATH"). One that depends on the trial
// number is not checked.
void check_program_placeholders(const YAML::Node& root, const StudyConfig& c) {
  const std::string& program = c.command.front();
  if (program.find("{" + std::string(k_trial_number_placeholder) + "}") != std::string::npos) {
    return;
  }
  std::vector<std::pair<std::string, std::vector<Json>>> choices;
  for (const auto& [name, dist] : c.search_space) {
    if (program.find("{" + name + "}") != std::string::npos) {
      choices.emplace_back(name, program_candidates(dist));
    }
  }
  for (const auto& [name, value] : c.fixed.items()) {
    if (program.find("{" + name + "}") != std::string::npos && !c.search_space_has(name)) {
      choices.emplace_back(name, std::vector<Json>{value});
    }
  }
  size_t combinations = 1;
  for (const auto& [name, values] : choices) {
    combinations = std::min<size_t>(combinations * values.size(), 256);
  }
  for (size_t k = 0; k < combinations; ++k) {
    Json values = Json::object();
    std::string which;
    for (size_t rest = k, i = 0; i < choices.size(); ++i) {
      const auto& [name, options] = choices[i];
      values[name] = options[rest % options.size()];
      rest /= options.size();
      which += fmt::format("{}{} = {}", which.empty() ? "" : ", ", name, values[name].dump());
    }
    try {
      resolve_executable(substitute_placeholders({program}, values).front());
    } catch (const StartError& e) {
      config_fail(ConfigPath{c.file, ""}.child("objective").child("command").index(0),
                  root["objective"]["command"][0],
                  which.empty() ? e.what() : fmt::format("with {}: {}", which, e.what()));
    }
  }
}

// The values a numeric distribution gives, as the trainer's settings check them.
std::optional<trainer::SearchedRange> searched_range(const Distribution& dist) {
  if (const auto* i = std::get_if<IntDistribution>(&dist)) {
    return trainer::SearchedRange{static_cast<double>(i->low), static_cast<double>(i->high),
                                  static_cast<double>(i->step), true};
  }
  if (const auto* f = std::get_if<FloatDistribution>(&dist)) {
    return trainer::SearchedRange{f->low, f->high, f->step, false};
  }
  return std::nullopt;
}

// study.directions (or direction) must give one direction per objective of the trainer, and
// be given when Optuna's default (minimize) would look for the worst model.
void check_objectives(const YAML::Node& root, const StudyConfig& c,
                      const trainer::ExperimentConfig& e) {
  const YAML::Node study = root["study"];
  const bool given = study && study.IsMap() && (study["direction"] || study["directions"]);
  if (!given && e.objectives.size() == 1 && trainer::higher_is_better(e.objectives.front())) {
    config_fail(ConfigPath{c.file, ""}.child("study"), study ? mapping_key(root, "study") : root,
                fmt::format("no direction given, and Optuna's default, minimize, would look "
                            "for the lowest {}: give direction: maximize (or direction: "
                            "minimize, to mean it)",
                            e.objectives.front()));
  }
  if (e.objectives.size() == c.directions.size()) {
    return;
  }
  const char* key = study && study.IsMap() && study["directions"] ? "directions" : "direction";
  const YAML::Node node = study && study.IsMap() ? study[key] : YAML::Node();
  config_fail(
      ConfigPath{c.file, ""}.child("study").child(key), node,
      fmt::format("{} direction{} but fixed.objectives gives {} objective{} ({}{}); give "
                  "one direction per objective",
                  c.directions.size(), c.directions.size() == 1 ? "" : "s", e.objectives.size(),
                  e.objectives.size() == 1 ? "" : "s", fmt::join(e.objectives, ", "),
                  c.fixed.contains("objectives") ? "" : ", the default"));
}

// The built-in trainer's settings are validated before anything runs: search-space names
// (setting_problem), every value a range reaches (searched_range_problem) and overlaps with
// fixed, fixed keys with their lines, the trial settings exactly as the worker merges them
// (merge_settings) with every parameter at its low end or first choice, then each other
// choice, then each enqueued trial, then every range and number choice at its high end at once
// (the limits across keys, such as classes_per_batch x images_per_class, grow with each), and
// one direction per objective.
}  // namespace

Json probe_params(const StudyConfig& c) {
  Json params = Json::object();
  for (const auto& [name, dist] : c.search_space) {
    params[name] = probe_value(dist, 0);
  }
  return params;
}

namespace {

// search_space: names the trainer knows, ranges it takes, none also in fixed.
void check_searched_settings(const YAML::Node& root, const StudyConfig& c) {
  const ConfigPath file{c.file, ""};
  for (const auto& [name, dist] : c.search_space) {
    const ConfigPath at = file.child("search_space").child(name);
    if (const std::string problem = trainer::setting_problem(name); !problem.empty()) {
      config_fail(at, space_key(root, name), problem);
    }
    if (const auto range = searched_range(dist)) {
      if (const std::string problem = trainer::searched_range_problem(name, *range);
          !problem.empty()) {
        config_fail(at, space_key(root, name), problem);
      }
    }
    if (trainer::sets_setting(c.fixed, name)) {
      config_fail(at, space_key(root, name),
                  "is also set in 'fixed'; a parameter is either fixed or searched");
    }
  }
}

// The fixed section alone, for its lines: its keys and input paths. What it refuses only with a
// searched key at its default (`classes_per_batch: 2048` x the default images_per_class 8,
// searched in [2, 4]) is left to check_probes, with the searched keys at their trial values.
void check_fixed_section(const YAML::Node& root, const StudyConfig& c, const Json& params) {
  if (!root["fixed"] || !root["fixed"].IsMap() || !root["fixed"]["dataset"]) {
    return;
  }
  std::optional<trainer::ExperimentConfig> fixed;
  try {
    fixed = trainer::parse_experiment(root["fixed"], c.file);
  } catch (const ConfigError&) {
    bool with_trial_values = false;
    try {
      const std::string o = c.file + " (fixed + search_space)";
      trainer::experiment_from_json(trainer::merge_settings(c.fixed, params, o), o);
      with_trial_values = !params.empty();
    } catch (const ConfigError&) {
    }
    if (!with_trial_values) {
      throw;  // The fixed section's own mistake, with its line.
    }
    return;
  }
  for (const auto& [key, problem] : trainer::input_path_problems(*fixed)) {
    config_fail(ConfigPath{c.file, ""}.child("fixed").child(key),
                key == "dataset.path" ? root["fixed"]["dataset"]["path"] : root["fixed"][key],
                problem);
  }
}

// The trial settings exactly as the worker merges them, from origin o (a probe's paths, a
// searched feature_extractor or dataset.path among them, must exist).
trainer::ExperimentConfig checked_probe(const StudyConfig& c, const Json& params,
                                        const std::string& o) {
  trainer::ExperimentConfig probe =
      trainer::experiment_from_json(trainer::merge_settings(c.fixed, params, o), o);
  if (const auto problems = trainer::input_path_problems(probe); !problems.empty()) {
    throw ConfigError(fmt::format("{}: {}: {}", o, problems[0].first, problems[0].second));
  }
  return probe;
}

// Each other categorical choice, each enqueued trial (the others at their probe values), and
// every range and number choice at its high end at once.
void check_other_probes(const StudyConfig& c, const Json& params) {
  for (const auto& [name, dist] : c.search_space) {
    const auto* cat = std::get_if<CategoricalDistribution>(&dist);
    for (size_t i = 1; cat && i < cat->choices.size(); ++i) {
      Json p = params;
      p[name] = probe_value(dist, i);
      checked_probe(
          c, p,
          fmt::format("{} (fixed + search_space, {} = {})", c.file, name, cat->choices[i].dump()));
    }
  }
  for (size_t i = 0; i < c.enqueue.size(); ++i) {
    Json p = params;
    p.update(c.enqueue[i]);
    checked_probe(c, p, fmt::format("{} (fixed + enqueue[{}])", c.file, i));
  }
  Json high = params;
  for (const auto& [name, dist] : c.search_space) {
    high[name] = probe_value(dist, largest_number_choice(dist), true);
  }
  if (high != params) {
    const std::string o =
        c.file + " (fixed + search_space, every range and number choice at its high end)";
    trainer::experiment_from_json(trainer::merge_settings(c.fixed, high, o), o);
  }
}

void validate_experiment(const YAML::Node& root, const StudyConfig& c) {
  check_searched_settings(root, c);
  const Json params = probe_params(c);
  check_fixed_section(root, c, params);
  const trainer::ExperimentConfig e = checked_probe(c, params, c.file + " (fixed + search_space)");
  check_other_probes(c, params);
  check_objectives(root, c, e);
}

// fixed: any mapping (the trainer's keys are judged later), no reserved placeholder names.
void parse_fixed_section(const YAML::Node& fixed, const ConfigPath& at, StudyConfig& c) {
  require_map(fixed, at);
  for (const auto& kv : fixed) {
    check_not_reserved(key_name(kv.first, at), kv.first, at);
  }
  refuse_unread_numbers(fixed, at);
  c.fixed = yaml_to_json(fixed);
  for (const auto& kv : fixed) {  // Each top-level fixed key's line, for later notes.
    const std::string key = "fixed." + kv.first.as<std::string>();
    c.origins[key] = config_location(ConfigPath{c.file, ""}.child(key), kv.first);
  }
}

// search_space: one or more parameters, each a distribution, none also in fixed.
void parse_search_space_section(const YAML::Node& space, const ConfigPath& at, StudyConfig& c) {
  if (!space || space.IsNull() || (space.IsMap() && space.size() == 0)) {
    config_fail(at, space, "the search space is empty: add at least one parameter");
  }
  require_map(space, at);
  for (const auto& kv : space) {
    const std::string name = key_name(kv.first, at);
    if (name.empty()) {
      config_fail(at, kv.first, "a parameter name must not be empty");
    }
    check_not_reserved(name, kv.first, at);
    if (utf8_length(name) > k_max_key_chars) {  // trial_params.param_name is VARCHAR(512).
      config_fail(at, kv.first,
                  fmt::format("parameter name is {} characters long; at most {}", utf8_length(name),
                              k_max_key_chars));
    }
    if (c.fixed.contains(name)) {
      config_fail(at.child(name), kv.first,
                  "is also set in 'fixed'; a parameter is either fixed or searched");
    }
    c.search_space.emplace_back(name, parse_param(kv.second, at.child(name), c.warnings));
  }
}

// The sampler and pruner as configured can be made for this search space and these directions
// (a sampler's warning about the space is kept).
void check_sampler_and_pruner(const YAML::Node& root, const ConfigPath& top, StudyConfig& c) {
  try {
    const auto sampler =
        make_sampler(c.sampler_type, c.sampler_options, c.sampler_seed, c.search_space);
    if (const std::string warning = sampler->space_warning(c.search_space); !warning.empty()) {
      c.warnings.push_back(config_location(top.child("study.sampler"), root["study"]["sampler"]) +
                           ": " + warning);
    }
    if (!sampler->supports_multi_objective() && c.multi_objective()) {
      throw std::invalid_argument(fmt::format(
          "the {} sampler optimises one objective, but the study has {} directions; use tpe or "
          "nsga2",
          c.sampler_type, c.directions.size()));
    }
  } catch (const std::invalid_argument& e) {
    config_fail(top.child("study.sampler"), root["study"]["sampler"], e.what());
  }
  try {
    make_pruner(c.pruner_type, c.pruner_options);
  } catch (const std::invalid_argument& e) {
    config_fail(top.child("study.pruner"), root["study"]["pruner"], e.what());
  }
}

}  // namespace

StudyConfig parse_study_config(const std::string& yaml_text, const std::string& file) {
  const YAML::Node root = parse_yaml(yaml_text, file);
  const ConfigPath top{file, ""};
  if (!root.IsMap()) {
    config_fail(top, root,
                "expected a mapping with sections study, objective, fixed, search_space, enqueue");
  }
  check_section_keys(root, top, "");
  StudyConfig c;
  c.file = file;
  c.name = std::filesystem::path(file).stem().string();
  if (root["study"]) {
    parse_study_section(root["study"], top.child("study"), c);
  }
  if (root["objective"]) {
    parse_objective_section(root["objective"], top.child("objective"), c);
  }
  const YAML::Node space = root["search_space"];
  if (const YAML::Node fixed = root["fixed"];
      fixed && fixed.IsMap() && fixed["search_space"] && (!space || space.IsNull())) {
    // Indented under fixed:, it is a value every trial gets, and the study searches nothing.
    config_fail(top.child("fixed.search_space"), fixed["search_space"],
                "search_space is indented under fixed: (so nothing is searched); move it to the "
                "top level");
  }
  if (root["fixed"] && !root["fixed"].IsNull()) {
    parse_fixed_section(root["fixed"], top.child("fixed"), c);
  }
  parse_search_space_section(space, top.child("search_space"), c);
  if (root["enqueue"]) {
    parse_enqueue(root["enqueue"], top.child("enqueue"), c);
  }
  check_sampler_and_pruner(root, top, c);
  if (c.builtin_trainer()) {
    validate_experiment(root, c);
  } else {
    warn_unfilled_placeholders(root, c);
    if (!c.command.empty() && c.command.front().find('{') != std::string::npos) {
      check_program_placeholders(root, c);
    }
  }
  return c;
}

std::string study_name_problem(const std::string& name) {
  if (name.empty()) {
    return "must not be empty";
  }
  if (valid_utf8(name) != name) {  // Optuna and every SQLAlchemy reader fail on the whole file.
    return "is not valid UTF-8";
  }
  if (utf8_length(name) > k_max_study_name_chars) {
    return fmt::format("is {} characters long; at most {} (Optuna's studies.study_name)",
                       utf8_length(name), k_max_study_name_chars);
  }
  if (std::all_of(name.begin(), name.end(), is_space)) {
    return padding_problem(name);
  }
  return "";
}

std::string study_storage_problem(const std::string& storage) {
  if (storage.empty()) {
    return "must not be empty";
  }
  if (const std::string problem = padding_problem(storage); !problem.empty()) {
    return problem;
  }
  try {
    const auto file = sqlite_file_of(storage);
    if (file == ":memory:") {
      return "':memory:' is an in-memory database: the study would be lost when hpt exits; "
             "name a database file (e.g. study.db)";
    }
    if (const auto problem = file ? sqlite_side_file_problem(*file) : std::nullopt) {
      return *file + ": " + *problem;  // Before the trials folder is judged by this name.
    }
    if (const std::string problem = file ? unexpanded_path_problem(*file) : ""; !problem.empty()) {
      return *file + ": " + problem;  // It made a folder named "~" in the working folder.
    }
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}

StudyConfig load_study_config(const std::string& file) {
  StudyConfig c = parse_study_config(read_config_file(file), file);
  for (const auto& warning : c.warnings) {
    print_warning(warning);
  }
  return c;
}

}  // namespace hpt
