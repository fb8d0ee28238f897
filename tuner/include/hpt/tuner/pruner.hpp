#pragma once
// Pruners decide, after each reported step, whether a running trial should stop
// (Optuna's BasePruner: one decision, plus the study filter Hyperband needs).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// What a pruner sees of the study.
struct PruneContext {
  // (A constructor rather than an aggregate, so that callers may leave out the last fields.)
  PruneContext(Direction direction_ = Direction::Minimize,
               const std::vector<FrozenTrial>* trials_ = nullptr, std::string study_name_ = {},
               std::optional<int64_t> new_step_ = std::nullopt)
      : direction(direction_),
        trials(trials_),
        study_name(std::move(study_name_)),
        new_step(new_step_) {}

  Direction direction = Direction::Minimize;
  const std::vector<FrozenTrial>* trials = nullptr;  // Every trial of the study, any state.
  std::string study_name;                            // Hyperband hashes it into brackets.
  // The step added to the trial's values just before this decision, when the caller decides
  // after each step (hpt's runs): pruners keep per-trial summaries in O(log n) with it, wherever
  // the step falls. std::nullopt: unknown (summaries are recomputed as needed).
  std::optional<int64_t> new_step;
};

struct PruneDecision {
  bool prune = false;
  // System attributes to store on the trial before the next decision (Optuna's
  // "completed_rung_<k>" of successive halving), whether or not it is pruned.
  std::map<std::string, Json> system_attrs;
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Decides for trial (RUNNING, with its intermediate values and system attributes so
  // far). May remember study-wide estimates (Optuna's "auto" resources) for later calls.
  virtual PruneDecision decide(const PruneContext& ctx, const FrozenTrial& trial) = 0;

  // The trials a sampler should learn from when it samples trial_number (Optuna's
  // pruners._filter_study); std::nullopt means all of ctx.trials (every pruner but
  // Hyperband, which keeps the trials of trial_number's bracket).
  virtual std::optional<std::vector<FrozenTrial>> sampler_trials(const PruneContext& /*ctx*/,
                                                                 int /*trial_number*/) {
    return std::nullopt;
  }

  // decide(...).prune, for callers with no study name that store no attributes.
  bool prune(Direction direction, const std::vector<FrozenTrial>& trials,
             const FrozenTrial& trial) {
    return decide(PruneContext(direction, &trials), trial).prune;
  }
};

// Whether step, the largest step of values, is the first reported step of its pruning
// interval (Optuna's _is_first_in_interval_step): checks happen at warmup, warmup + interval,
// ..., or at the first step reported after one of them. requires: step >= warmup.
bool first_in_interval(int64_t step, const StepValues& values, int64_t warmup, int64_t interval);

// The pruner types make_pruner builds, as the study config names them.
const std::vector<std::string>& pruner_types();

// Builds a pruner of one of pruner_types() with its options (a JSON object; "patient" wraps
// the pruner its option wrapped_pruner describes, {type: ..., options...}). Throws
// std::invalid_argument naming an unknown type or a bad option.
std::unique_ptr<Pruner> make_pruner(const std::string& type, const Json& options);

}  // namespace hpt
