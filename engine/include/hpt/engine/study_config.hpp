#pragma once
// hpt_config.yaml: the study, its objective, the fixed values and the search space.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// The largest objective.max_steps: 16 bytes a step in memory for each trial of the study.
inline constexpr int64_t k_max_steps_limit = 100000000;

struct StudyConfig {
  std::string file;  // The config file (for messages).
  // study:
  std::string name;
  // study.direction, or study.directions (one per objective, in the order a worker reports
  // them); direction is directions[0].
  Direction direction = Direction::Minimize;
  std::vector<Direction> directions{Direction::Minimize};
  // study.seed; without one (seed_given false) the orchestrator takes the study's own
  // (k_seed_attr).
  uint64_t seed = 0;
  bool seed_given = false;
  int jobs = 1;
  std::string storage = "hpt_study.db";  // URL or path, relative to the working directory.
  std::string sampler_type = "tpe";
  uint64_t sampler_seed = 0;  // Defaults to seed.
  bool sampler_seed_given = false;
  Json sampler_options = Json::object();
  std::string pruner_type = "median";
  Json pruner_options = Json::object();
  // Where trial directories (worker logs, artifacts) go; "" = next to a SQLite file, else
  // ./hpt_trials. Each trial gets <trials_dir>/<study>/<number>/.
  std::string trials_dir;
  // Where some keys were set, as errors name them ("cfg.yaml:4: study.storage"), for problems
  // found after loading (a database that cannot be made, a trials folder blocked).
  std::map<std::string, std::string> origins;
  // origins' entry for key, else "<file>: key".
  std::string origin(const std::string& key) const {
    const auto it = origins.find(key);
    return it != origins.end() ? it->second : file + ": " + key;
  }
  int max_failures = 20;  // FAIL trials in one run after which the study stops.
  // GPU device ids handed out to trials (each running trial gets gpus_per_trial of its own
  // through CUDA_VISIBLE_DEVICES and HPT_GPUS); empty: no GPU placement. With gpus and no
  // study.jobs, jobs is gpus.size() / gpus_per_trial.
  std::vector<int> gpus;
  int gpus_per_trial = 1;
  // objective: command absent -> the built-in trainer (`hpt worker`).
  std::vector<std::string> command;
  std::optional<double> timeout;  // Seconds per trial.
  int retries = 0;                // Re-runs of a failed trial with the same parameters.
  // Steps one trial may report; later ones are neither stored nor judged (a worker printing
  // steps in a loop would grow memory and the database without end).
  int64_t max_steps = 1000000;
  double heartbeat_grace =
      60.0;  // Seconds without heartbeat before a foreign RUNNING trial is orphaned.
  // fixed: values every trial gets; search_space: what the sampler chooses.
  Json fixed = Json::object();
  SearchSpace search_space;
  // enqueue: trials to run first (Optuna's enqueue_trial), each {name: value} for some
  // searched parameters, every value one its distribution holds, as Optuna's external
  // value (an int parameter's 3, a categorical's choice); the others are sampled.
  std::vector<Json> enqueue;
  // What was accepted but probably not meant, one "file:line: key: problem" line each: a
  // range's high that its step does not reach (lowered to the last value it reaches, as
  // Optuna does), an objective.command placeholder naming no parameter.
  std::vector<std::string> warnings;

  bool builtin_trainer() const { return command.empty(); }
  // Whether name is a parameter of search_space.
  bool search_space_has(const std::string& name) const {
    return std::any_of(search_space.begin(), search_space.end(),
                       [&](const auto& p) { return p.first == name; });
  }
  bool multi_objective() const { return directions.size() > 1; }
};

// Loads and fully validates a study config, then prints its warnings (print_warning). Throws
// ConfigError "file:line: key: problem" for any unknown key (with a near-miss suggestion),
// wrong type (a quoted "5" is not a number), bad range, repeated categorical choice, YAML merge
// key, bad sampler/pruner option, or (built-in trainer) invalid experiment setting, including
// any value a search range reaches that the setting refuses.
StudyConfig load_study_config(const std::string& file);
// The same from YAML text (file is only used in messages), leaving the warnings in the result.
StudyConfig parse_study_config(const std::string& yaml_text, const std::string& file);

// A trial's parameters as the config's checks probe them: each searched parameter at its first
// choice or its low end (external values), for what is judged with the fixed settings before
// any trial (a merged settings check, the built-in trainer's dataset check).
Json probe_params(const StudyConfig& config);

// Why name cannot name a study (study.name or --study), "" if it can: empty, only whitespace,
// or longer than k_max_study_name_chars characters (Optuna's studies.study_name).
std::string study_name_problem(const std::string& name);

// Why a study cannot be kept in storage (study.storage or --storage), "" if it can: empty,
// whitespace at its start or end (" gp.db" would be a second database beside gp.db), a URL
// open_storage refuses (checked without opening anything), or SQLite's ":memory:", which
// would lose the study when hpt exits.
std::string study_storage_problem(const std::string& storage);

}  // namespace hpt
