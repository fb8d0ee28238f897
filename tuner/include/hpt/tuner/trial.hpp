#pragma once
// The trial and study records shared by samplers, pruners, storage and reports.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpt/tuner/distribution.hpp"
#include "hpt/tuner/step_values.hpp"

namespace hpt {

// Optuna's TrialState, with the same names in the database.
enum class TrialState { Running = 0, Complete = 1, Pruned = 2, Fail = 3, Waiting = 4 };
// Optuna's StudyDirection values. NotSet only comes from a database (old Optuna studies, or
// a direction hpt cannot read); a config never has it.
enum class Direction { NotSet = 0, Minimize = 1, Maximize = 2 };

// "RUNNING", "COMPLETE", ... and back; trial_state_from_name throws std::invalid_argument.
std::string trial_state_name(TrialState s);
TrialState trial_state_from_name(const std::string& name);
// True for COMPLETE, PRUNED and FAIL.
bool is_finished(TrialState s);
std::string direction_name(Direction d);                 // "MINIMIZE" / "MAXIMIZE" / "NOT_SET"
Direction direction_from_name(const std::string& name);  // minimize/maximize, either case
// True if objective value a is strictly better than b under d: smaller when minimising, larger
// when maximising; NotSet compares as Minimize (as Optuna's best_trial). NaN is never better,
// and every number is better than NaN (so a NaN "best so far" is replaced by the first number).
// A strict weak order: usable as a std::sort comparator (best first) even with NaNs.
bool is_better(double a, double b, Direction d);
// The better of a and b under d by is_better: NaN only when both are (numpy's nanmin/nanmax).
inline double better_of(double a, double b, Direction d) { return is_better(a, b, d) ? a : b; }

using Clock = std::chrono::system_clock;

struct FrozenTrial {
  int64_t id = -1;  // Storage key (trials.trial_id).
  int number = -1;  // 0-based number within the study.
  TrialState state = TrialState::Running;
  std::optional<double> value;  // The objective value when the trial has exactly one.
  // Every objective's value in objective order, as a storage read them (Optuna's
  // trial_values rows); empty when none is stored or for trials not read from a storage.
  std::vector<double> values;
  std::map<std::string, double> params;               // Internal representation.
  std::map<std::string, Distribution> distributions;  // Same keys as params.
  StepValues intermediate_values;                     // step -> value (may be NaN).
  std::map<std::string, Json> user_attrs;
  std::map<std::string, Json> system_attrs;
  std::optional<Clock::time_point> datetime_start;
  std::optional<Clock::time_point> datetime_complete;

  // The largest reported step, if any.
  std::optional<int64_t> last_step() const;
  // External (user-facing) parameter values.
  Json external_params() const;
  // Seconds between start and completion, if both are known.
  std::optional<double> duration_seconds() const;
  // Every objective's value: values when set, else value (one), else none.
  std::vector<double> objective_values() const;
};

// An ordered search space: parameters in the order the config declares them.
using SearchSpace = std::vector<std::pair<std::string, Distribution>>;

}  // namespace hpt
