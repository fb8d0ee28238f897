#include "hpt/experiment/experiment_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "hpt/experiment/device_choice.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/unexpanded_path.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/schema/config_error.hpp"

namespace hpt::trainer {

namespace {

// One interval of the values a numeric key accepts.
struct Interval {
  double low;
  double high;
  bool low_open = false;
  bool high_open = false;
  bool contains(double v) const {
    return (low_open ? v > low : v >= low) && (high_open ? v < high : v <= high);
  }
};

// The values a numeric key accepts: a union of disjoint, non-touching intervals in ascending
// order, integers only or any number, and the rule in words ("0 (native) or 16 to 2048").
// The key's read checks a value with it and searched_range_problem checks a whole range.
struct ValidValues {
  std::vector<Interval> intervals;  // Empty: not a numeric key.
  bool integers = false;
  std::string rule;
  // The interval holding v, or nullptr.
  const Interval* find(double v) const {
    for (const auto& i : intervals) {
      if (i.contains(v)) {
        return &i;
      }
    }
    return nullptr;
  }
};

// One key of a config section: its name, whether it must be given, how it is read (with its
// type and range checks) into the config, how it is printed, and (a numeric key) the values it
// accepts. A section's table is the only place its keys are spelled: parsing (YAML and JSON),
// printing, the key list, the unknown-key hints and the checks of searched ranges all come
// from it, as ccache's config table does.
template <class Config>
struct Key {
  const char* name;
  bool required;
  std::function<void(Config&, const YAML::Node&, const ConfigPath&)> read;
  std::function<nlohmann::json(const Config&)> print;
  ValidValues valid = {};  // Empty for a key that is not a number.
};
template <class Config>
using Table = std::vector<Key<Config>>;

void check_range(bool ok, const YAML::Node& node, const ConfigPath& at, const std::string& rule,
                 const std::string& got) {
  if (!ok) {
    config_fail(at, node, fmt::format("must be {}, got {}", rule, got));
  }
}

// Integers in [low, high], in words as read_int_in says them.
ValidValues int_range(int64_t low, int64_t high = std::numeric_limits<int64_t>::max()) {
  return {{{static_cast<double>(low), static_cast<double>(high)}},
          true,
          high == std::numeric_limits<int64_t>::max() ? fmt::format(">= {}", low)
                                                      : fmt::format("in [{}, {}]", low, high)};
}

// Prints member m of a config as it is (numbers, strings, booleans, lists).
template <class Config, class T>
std::function<nlohmann::json(const Config&)> printer(T Config::*m) {
  return [m](const Config& c) { return nlohmann::json(c.*m); };
}

// An integer in [low, high] (read_int_in's message).
template <class Config>
Key<Config> int_key(const char* name, int64_t Config::*m, int64_t low,
                    int64_t high = std::numeric_limits<int64_t>::max()) {
  return {name, false,
          [m, low, high](Config& c, const YAML::Node& n, const ConfigPath& at) {
            c.*m = read_int_in(n, at, low, high);
          },
          printer(m), int_range(low, high)};
}

// An integer of valid (integers, several intervals).
template <class Config>
Key<Config> int_key(const char* name, int64_t Config::*m, ValidValues valid) {
  return {name, false,
          [m, valid](Config& c, const YAML::Node& n, const ConfigPath& at) {
            c.*m = read_int(n, at);
            check_range(valid.find(static_cast<double>(c.*m)) != nullptr, n, at, valid.rule,
                        std::to_string(c.*m));
          },
          printer(m), valid};
}

// A number of valid.
template <class Config>
Key<Config> double_key(const char* name, double Config::*m, ValidValues valid) {
  return {name, false,
          [m, valid](Config& c, const YAML::Node& n, const ConfigPath& at) {
            c.*m = read_double(n, at);
            check_range(valid.find(c.*m) != nullptr, n, at, valid.rule, fmt::format("{}", c.*m));
          },
          printer(m), valid};
}

template <class Config>
Key<Config> bool_key(const char* name, bool Config::*m) {
  return {name, false,
          [m](Config& c, const YAML::Node& n, const ConfigPath& at) { c.*m = read_bool(n, at); },
          printer(m)};
}

// A string; problem(v) is "" for a good value, else the error ("must not be empty").
using StringCheck = std::function<std::string(const std::string&)>;
template <class Config>
Key<Config> string_key(const char* name, std::string Config::*m, StringCheck problem = {}) {
  return {name, false,
          [m, problem](Config& c, const YAML::Node& n, const ConfigPath& at) {
            c.*m = read_string(n, at);
            if (problem) {
              if (const std::string p = problem(c.*m); !p.empty()) {
                config_fail(at, n, p);
              }
            }
          },
          printer(m)};
}

// "expected <expected>, got "v"" unless ok(v).
StringCheck expect(bool (*ok)(const std::string&), std::string expected) {
  return [ok, expected](const std::string& v) {
    return ok(v) ? "" : fmt::format("expected {}, got \"{}\"", expected, v);
  };
}

// One of choices; expected defaults to the choices joined by " | ".
StringCheck one_of(std::vector<std::string> choices, std::string expected = "") {
  if (expected.empty()) {
    expected = fmt::format("{}", fmt::join(choices, " | "));
  }
  return [choices, expected](const std::string& v) {
    return std::find(choices.begin(), choices.end(), v) != choices.end()
               ? ""
               : fmt::format("expected {}, got \"{}\"", expected, v);
  };
}

// "builtin-cnn" or a TorchScript file name ending in .pt.
bool valid_extractor(const std::string& f) {
  const bool is_pt = f.size() > 3 && f.compare(f.size() - 3, 3, ".pt") == 0;
  return f == "builtin-cnn" || is_pt;
}

// A list of integers in [1, k_max_units] (null: the empty list).
Key<ExperimentConfig> units_key(const char* name, std::vector<int64_t> ExperimentConfig::*m) {
  return {name, false,
          [m](ExperimentConfig& c, const YAML::Node& n, const ConfigPath& at) {
            if (!n.IsSequence() && !n.IsNull()) {
              config_fail(at, n, "expected a list of integers");
            }
            if (n.IsSequence() && n.size() > k_max_blocks) {
              config_fail(at, n, fmt::format("{} blocks; at most {}", n.size(), k_max_blocks));
            }
            (c.*m).clear();
            for (size_t i = 0; n.IsSequence() && i < n.size(); ++i) {
              (c.*m).push_back(read_int_in(n[i], at.index(i), 1, k_max_units));
            }
          },
          printer(m)};
}

// The metrics a run reports, each with whether a higher value is better (the scores) or a
// lower one (the costs): objective_metrics and higher_is_better read this one list.
struct Metric {
  const char* name;
  bool higher_is_better;
};
constexpr Metric k_metrics[] = {
    {"val_roc_auc", true},      {"test_roc_auc", true},   {"val_recall_at_1", true},
    {"test_recall_at_1", true}, {"embedding_dim", false}, {"inference_ms", false},
};

// A metric name (objective_metrics()) at node; an unknown one fails with a hint and the list.
std::string read_metric(const YAML::Node& node, const ConfigPath& at) {
  const std::string name = read_string(node, at);
  const std::vector<std::string> metrics = objective_metrics();
  if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) {
    config_fail(at, node,
                fmt::format("unknown metric '{}'{}; expected one of {}", name,
                            did_you_mean(name, metrics), fmt::join(metrics, ", ")));
  }
  return name;
}

// objectives: a non-empty list of distinct metric names (objective_metrics()), at most 16 (the
// engine's limit on a study's objectives).
Key<ExperimentConfig> objectives_key() {
  return {"objectives", false,
          [](ExperimentConfig& c, const YAML::Node& n, const ConfigPath& at) {
            if (!n.IsSequence() || n.size() == 0 || n.size() > 16) {
              config_fail(at, n,
                          "expected a list of 1 to 16 metric names, e.g. [val_roc_auc, "
                          "embedding_dim]");
            }
            c.objectives.clear();
            for (size_t i = 0; i < n.size(); ++i) {
              const std::string name = read_metric(n[i], at.index(i));
              if (std::find(c.objectives.begin(), c.objectives.end(), name) != c.objectives.end()) {
                config_fail(at.index(i), n[i], fmt::format("'{}' is listed twice", name));
              }
              c.objectives.push_back(name);
            }
          },
          printer(&ExperimentConfig::objectives)};
}

// constraints: a list of at most 16 bounds {metric: <objective_metrics()>, max: v} (or min),
// each finite; null or [] is none. A bound listed twice is refused.
Key<ExperimentConfig> constraints_key() {
  return {"constraints", false,
          [](ExperimentConfig& c, const YAML::Node& n, const ConfigPath& at) {
            if ((!n.IsSequence() && !n.IsNull()) || n.size() > 16) {
              config_fail(at, n,
                          "expected a list of at most 16 bounds, e.g. [{metric: inference_ms, "
                          "max: 2.0}, {metric: val_recall_at_1, min: 0.8}]");
            }
            c.constraints.clear();
            for (size_t i = 0; n.IsSequence() && i < n.size(); ++i) {
              const ConfigPath item = at.index(i);
              if (!n[i].IsMap()) {
                config_fail(item, n[i], "expected {metric: NAME, max: NUMBER} (or min: NUMBER)");
              }
              check_keys(n[i], item, {"metric", "max", "min"});
              if (!n[i]["metric"]) {
                config_fail(item, n[i], "missing required key 'metric'");
              }
              if (static_cast<bool>(n[i]["max"]) == static_cast<bool>(n[i]["min"])) {
                config_fail(item, n[i], "give one of max or min (for both, list two bounds)");
              }
              MetricBound b;
              b.metric = read_metric(n[i]["metric"], item.child("metric"));
              b.is_max = static_cast<bool>(n[i]["max"]);
              const char* side = b.is_max ? "max" : "min";
              b.limit = read_double(n[i][side], item.child(side));  // Finite (decimal only).
              for (const MetricBound& other : c.constraints) {
                if (other.metric == b.metric && other.is_max == b.is_max) {
                  config_fail(item, n[i],
                              fmt::format("a {} bound on {} is listed twice", side, b.metric));
                }
              }
              c.constraints.push_back(b);
            }
          },
          [](const ExperimentConfig& c) {
            nlohmann::json out = nlohmann::json::array();
            for (const MetricBound& b : c.constraints) {
              out.push_back({{"metric", b.metric}, {b.is_max ? "max" : "min", b.limit}});
            }
            return out;
          }};
}

template <class Config>
std::vector<std::string> names_of(const Table<Config>& table) {
  std::vector<std::string> out;
  for (const auto& k : table) {
    out.emplace_back(k.name);
  }
  return out;
}

// Reads the mapping node into c by table: unknown keys (with a near-miss hint), then missing
// required keys, then every given key in table order. Returns where each given key was set.
template <class Config>
std::map<std::string, std::string> read_table(const Table<Config>& table, const YAML::Node& node,
                                              const ConfigPath& at, Config& c) {
  check_keys(node, at, names_of(table));
  for (const auto& k : table) {
    if (k.required && !node[k.name]) {
      config_fail(at, node, fmt::format("missing required key '{}'", k.name));
    }
  }
  std::map<std::string, std::string> origins;
  for (const auto& k : table) {
    if (const YAML::Node v = node[k.name]) {
      k.read(c, v, at.child(k.name));
      origins[k.name] = config_location(at.child(k.name), v);
    }
  }
  return origins;
}

template <class Config>
nlohmann::json print_table(const Table<Config>& table, const Config& c) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& k : table) {
    out[k.name] = k.print(c);
  }
  return out;
}

const ValidValues k_fraction{{{0, 1, false, true}}, false, "in [0, 1)"};
// A held-out split of 0 images cannot be evaluated: refused here, not after loading.
const ValidValues k_split_fraction{{{0, 1, true, true}}, false, "in (0, 1)"};
// An epoch of more steps is a typo (1e12 ran without end or output; 0 is one pass).
constexpr int64_t k_max_steps_per_epoch = 10000000;

const Table<DatasetConfig>& dataset_table() {
  static const Table<DatasetConfig> table = [] {
    Table<DatasetConfig> t = {
        string_key("format", &DatasetConfig::format,
                   one_of({"idx", "tiny-imagenet", "folder"}, "idx, tiny-imagenet or folder")),
        string_key("path", &DatasetConfig::path,
                   [](const std::string& v) { return v.empty() ? "must not be empty" : ""; }),
        int_key<DatasetConfig>("image_size", &DatasetConfig::image_size,
                               {{{0, 0}, {16, static_cast<double>(k_max_image_size)}},
                                true,
                                "0 (native) or 16 to 2048"}),  // k_max_image_size
        double_key("val_fraction", &DatasetConfig::val_fraction, k_split_fraction),
        double_key("test_fraction", &DatasetConfig::test_fraction, k_split_fraction),
    };
    t[0].required = t[1].required = true;
    return t;
  }();
  return table;
}

// The dataset section: its own table, then the check across its keys.
Key<ExperimentConfig> dataset_key() {
  return {"dataset", true,
          [](ExperimentConfig& c, const YAML::Node& n, const ConfigPath& at) {
            DatasetConfig d;
            for (auto& [key, origin] : read_table(dataset_table(), n, at, d)) {
              c.origins["dataset." + key] = origin;
            }
            if (d.val_fraction + d.test_fraction >= 1) {
              config_fail(at, n,
                          fmt::format("val_fraction + test_fraction must be < 1, got {}",
                                      d.val_fraction + d.test_fraction));
            }
            c.dataset = d;
          },
          [](const ExperimentConfig& c) { return print_table(dataset_table(), c.dataset); }};
}

// The seed: an integer >= 0 kept as unsigned.
Key<ExperimentConfig> seed_key() {
  return {"seed", false,
          [](ExperimentConfig& c, const YAML::Node& n, const ConfigPath& at) {
            const int64_t v = read_int(n, at);
            check_range(v >= 0, n, at, ">= 0", std::to_string(v));
            c.seed = static_cast<uint64_t>(v);
          },
          printer(&ExperimentConfig::seed), int_range(0)};
}

// dataset.image_size's rule spells this constant out.
static_assert(k_max_image_size == 2048);

// Every top-level key, in the order they are read (and so reported when several are wrong).
const Table<ExperimentConfig>& experiment_table() {
  using C = ExperimentConfig;  // Keys of LoopSettings name C explicitly: &C::epochs is a
                               // member pointer of the base.
  static const Table<C> table = {
      string_key("experiment_name", &C::experiment_name),
      seed_key(),
      bool_key<C>("image_augmentation", &C::image_augmentation),
      string_key("feature_extractor", &C::feature_extractor,
                 expect(valid_extractor, "builtin-cnn or a TorchScript .pt file")),
      // Upper bounds where a typo (a zero too many) would allocate without bound.
      // Unit vectors of one dimension are +1 or -1: every pair is the same or opposite.
      int_key("embedding_dim", &C::embedding_dim, 2, k_max_units),
      units_key("intermediate_ff_block_units", &C::intermediate_ff_block_units),
      double_key("dropout", &C::dropout, k_fraction),
      int_key<C>("epochs", &C::epochs, 1),
      int_key<C>("early_stopping_patience", &C::early_stopping_patience, 0),
      dataset_key(),
      double_key<C>("learning_rate", &C::learning_rate,
                    {{{0, 10, true, true}}, false, "in (0, 10)"}),
      // L2-normalised embeddings lie at most 2 apart (4 squared): a larger margin only makes
      // every triplet active (and 1e300 overflowed the loss to inf).
      double_key<C>("margin", &C::margin, {{{0, 4, true, false}}, false, "in (0, 4]"}),
      string_key<C>("loss", &C::loss,
                    one_of({"semi-hard", "batch-hard"}, "semi-hard or batch-hard")),
      int_key<C>("classes_per_batch", &C::classes_per_batch, 2, k_max_batch / 2),
      int_key<C>("images_per_class", &C::images_per_class, 2, k_max_batch / 2),
      int_key<C>("steps_per_epoch", &C::steps_per_epoch, 0, k_max_steps_per_epoch),
      bool_key("trainable_extractor", &C::trainable_extractor),
      int_key("pretrain_epochs", &C::pretrain_epochs, 0),
      int_key<C>("builtin_cnn_width", &C::builtin_cnn_width,
                 int_range(k_min_builtin_cnn_width, k_max_builtin_cnn_width)),
      int_key<C>("builtin_cnn_ensemble", &C::builtin_cnn_ensemble, 1, k_max_builtin_cnn_ensemble),
      int_key<C>("eval_pairs", &C::eval_pairs, 10, 10'000'000),
      int_key("threads", &C::threads, 0, k_max_cpu_threads),
      string_key("device", &C::device, expect(is_device_key, "auto, cpu, cuda or cuda:N")),
      string_key("precision", &C::precision, one_of({"fp32", "bf16", "fp16"})),
      string_key<C>("distance", &C::distance, one_of({"euclidean", "squared"})),
      string_key<C>("lr_schedule", &C::lr_schedule, one_of({"constant", "cosine"})),
      int_key<C>("warmup_steps", &C::warmup_steps, 0),
      objectives_key(),
      constraints_key(),
  };
  return table;
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
    YAML::Node text(j.get<std::string>());
    text.SetTag("!");  // A string, as a quoted YAML scalar: never read as a number.
    return text;
  }
  return YAML::Node(j.dump());  // Numbers and booleans keep their exact text.
}

// The values setting name accepts (a top-level key or "dataset.<key>"), or nullptr.
const ValidValues* valid_values(const std::string& name) {
  for (const auto& k : experiment_table()) {
    if (name == k.name) {
      return &k.valid;
    }
  }
  for (const auto& k : dataset_table()) {
    if (name == std::string("dataset.") + k.name) {
      return &k.valid;
    }
  }
  return nullptr;
}

// The smallest value of range that valid refuses ("1"), "above b" for a continuous range
// that leaves an interval closed at b, or "" when valid takes every value of range. Each
// turn moves past one interval.
std::string first_refused(const ValidValues& valid, const SearchedRange& range) {
  double x = range.low;
  while (x <= range.high) {
    const Interval* in = valid.find(x);
    if (!in) {
      return fmt::format("{}", x);
    }
    if (range.high < in->high || (range.high == in->high && !in->high_open)) {
      return "";
    }
    if (!range.step) {  // Every value up to high: the interval's end is left.
      return in->high_open ? fmt::format("{}", in->high) : fmt::format("above {}", in->high);
    }
    // The first value low + k * step past the interval (at its end, when that is open); the
    // few turns only correct rounding, and a step lost in rounding ends the walk.
    const double step = *range.step;
    const auto past = [&](double k) {
      const double v = range.low + k * step;
      return in->high_open ? v >= in->high : v > in->high;
    };
    double k = std::floor((in->high - range.low) / step);
    for (int turn = 0; turn < 4 && !past(k); ++turn) {
      ++k;
    }
    if (!past(k)) {
      return "";
    }
    x = range.low + k * step;
  }
  return "";
}

}  // namespace

std::string searched_range_problem(const std::string& name, const SearchedRange& range) {
  const ValidValues* valid = valid_values(name);
  if (!valid || valid->intervals.empty()) {
    return "";
  }
  if (valid->integers && !range.integers) {
    return fmt::format("{} takes integers; search it with type: int", name);
  }
  if (const std::string refused = first_refused(*valid, range); !refused.empty()) {
    return fmt::format("the range reaches {}, but {} must be {}", refused, name, valid->rule);
  }
  return "";
}

std::string origin_of(const ExperimentConfig& config, const std::string& key) {
  const auto it = config.origins.find(key);
  return it == config.origins.end() ? key : it->second;
}

std::vector<std::pair<std::string, std::string>> input_path_problems(const ExperimentConfig& c) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> problems;
  std::error_code ec;
  const fs::file_status dataset = fs::status(c.dataset.path, ec);
  // A relative path is from the working folder (where hpt runs), not the config's: say so. A
  // leading ~ is the shell's, which never sees a config's paths.
  const auto from_here = [&](const std::string& path) {
    if (const std::string problem = unexpanded_path_problem(path); !problem.empty()) {
      return " (" + problem + ")";
    }
    return fs::path(path).is_relative()
               ? fmt::format(" (a relative path: from the working folder {})",
                             fs::current_path(ec).string())
               : std::string();
  };
  if (!fs::exists(dataset)) {
    problems.emplace_back("dataset.path", fmt::format("no such folder '{}'{}", c.dataset.path,
                                                      from_here(c.dataset.path)));
  } else if (!fs::is_directory(dataset)) {
    problems.emplace_back("dataset.path", fmt::format("'{}' is not a folder", c.dataset.path));
  } else if (fs::directory_iterator list(c.dataset.path, ec); ec) {
    problems.emplace_back("dataset.path",
                          fmt::format("cannot list '{}': {}", c.dataset.path, ec.message()));
  }
  if (c.feature_extractor != "builtin-cnn") {
    const std::string& file = c.feature_extractor;
    const fs::file_status model = fs::status(file, ec);
    if (!fs::exists(model)) {
      problems.emplace_back("feature_extractor",
                            fmt::format("no such file '{}'{}", file, from_here(file)));
    } else if (!fs::is_regular_file(model)) {
      problems.emplace_back("feature_extractor", fmt::format("'{}' is not a file", file));
    } else if (!std::ifstream(file)) {
      problems.emplace_back("feature_extractor", fmt::format("cannot read '{}'", file));
    }
  }
  return problems;
}

std::vector<std::string> experiment_keys() { return names_of(experiment_table()); }

std::vector<std::string> dataset_keys() { return names_of(dataset_table()); }

std::vector<std::string> objective_metrics() {
  std::vector<std::string> names;
  for (const Metric& m : k_metrics) {
    names.emplace_back(m.name);
  }
  return names;
}

bool higher_is_better(const std::string& metric) {
  for (const Metric& m : k_metrics) {
    if (metric == m.name) {
      return m.higher_is_better;
    }
  }
  return true;
}

bool reports_metric(const ExperimentConfig& config, const std::string& metric) {
  return std::find(config.objectives.begin(), config.objectives.end(), metric) !=
             config.objectives.end() ||
         std::any_of(config.constraints.begin(), config.constraints.end(),
                     [&](const MetricBound& b) { return b.metric == metric; });
}

ExperimentConfig parse_experiment(const YAML::Node& node, const std::string& file) {
  ExperimentConfig c;
  c.origins.merge(read_table(experiment_table(), node, ConfigPath{file, ""}, c));
  if (c.classes_per_batch * c.images_per_class > k_max_batch) {  // Each at most k_max_batch / 2.
    // The key the config set; of two set, the larger (4096 x 4 names classes_per_batch).
    const bool both = c.origins.count("images_per_class") && c.origins.count("classes_per_batch");
    const char* key =
        both ? (c.images_per_class > c.classes_per_batch ? "images_per_class" : "classes_per_batch")
        : c.origins.count("images_per_class") ? "images_per_class"
                                              : "classes_per_batch";
    throw ConfigError(fmt::format(
        "{}: classes_per_batch x images_per_class must be at most {} (the triplet loss holds a "
        "batch x batch distance matrix), got {} x {}",
        origin_of(c, key), k_max_batch, c.classes_per_batch, c.images_per_class));
  }
  return c;
}

ExperimentConfig experiment_from_json(const nlohmann::json& json, const std::string& origin) {
  if (!json.is_object()) {
    throw ConfigError(fmt::format("{}: expected a JSON object, got {}", origin, json.dump()));
  }
  return parse_experiment(json_to_yaml(json), origin);
}

nlohmann::json to_json(const ExperimentConfig& c) { return print_table(experiment_table(), c); }

std::string dataset_holds_problem(const std::string& dir, const ExperimentConfig& c) {
  if (c.dataset.format == "idx" || c.dataset.path.empty() || !path_within(dir, c.dataset.path)) {
    return "";
  }
  return fmt::format(
      "'{}' is inside dataset.path '{}': the run's files (sprite.png, ...) would become part "
      "of the dataset",
      dir, c.dataset.path);
}

}  // namespace hpt::trainer
