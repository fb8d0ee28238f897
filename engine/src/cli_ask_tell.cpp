#include "cli_ask_tell.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>

#include "cli_study_run.hpp"
#include "cli_text.hpp"
#include "cli_write.hpp"
#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"
#include "hpt/tuner/constraints.hpp"

namespace hpt {

namespace {

// The study's trial of this number; throws std::runtime_error naming the trials it has.
FrozenTrial trial_to_tell(Storage& reader, const StudyInfo& info, int number) {
  const auto found = reader.find_trial(info.id, number);
  if (!found) {
    const int n = reader.count_trials(info.id);
    throw std::runtime_error(n == 0 ? fmt::format("study '{}' has no trials yet", info.name)
                                    : fmt::format("study '{}' has no trial {} ({} trials: 0 to {})",
                                                  info.name, number, n, n - 1));
  }
  return *found;
}

// The trial's owner attribute as it was read (the hpt run that claimed it), or nullptr.
const Json* trial_owner(const FrozenTrial& trial) {
  const auto owner = trial.system_attrs.find(k_owner_attr);
  return owner != trial.system_attrs.end() ? &owner->second : nullptr;
}

// Throws std::runtime_error unless the trial is RUNNING and no hpt run is running it.
void refuse_untellable(Storage& reader, const FrozenTrial& trial) {
  if (trial.state != TrialState::Running) {
    throw std::runtime_error(fmt::format(
        "trial {} is {}: only a RUNNING trial can be told{}", trial.number,
        trial_state_name(trial.state),
        is_finished(trial.state) ? " (--skip-if-finished leaves a finished one as it is)" : ""));
  }
  // A trial an hpt run owns is that run's to finish: refused while its owner lives here, or,
  // elsewhere (another host or container), while its heartbeat is fresh.
  const Json* owner = trial_owner(trial);
  if (owner && owner->is_object()) {
    const Owner o = Owner::from_json(*owner);
    const auto liveness = owner_liveness(o);
    const auto age = reader.heartbeat_age(trial.id);
    if (liveness == OwnerLiveness::Alive ||
        (liveness == OwnerLiveness::Unknown && age && *age < StudyConfig{}.heartbeat_grace)) {
      throw std::runtime_error(fmt::format(
          "trial {} is being run by hpt (process {} on {}{}): its worker reports its result",
          trial.number, o.pid, terminal_text(o.host),
          age ? fmt::format(", last heartbeat {:.0f} s ago", *age) : ""));
    }
  }
}

// The values the trial is told in state (complete, pruned or fail): --values, checked against
// the study's directions, for a complete one; a pruned one's last step's value (none if NaN or
// the study has several objectives); none for a failed one. Throws ConfigError.
std::vector<double> told_values(const TellRequest& tell, const std::string& state,
                                const StudyInfo& info, const FrozenTrial& trial) {
  std::vector<double> values = tell.values;
  if (state != "complete" && !values.empty()) {
    throw ConfigError("--values: a " + state +
                      " trial takes no values (as Optuna's tell); leave them out");
  }
  if (state == "complete") {
    if (values.size() != info.directions.size()) {
      throw ConfigError(fmt::format("--values: study '{}' has {} objective{}, but {} value{} given",
                                    info.name, info.directions.size(),
                                    info.directions.size() == 1 ? "" : "s", values.size(),
                                    values.size() == 1 ? " was" : "s were"));
    }
    if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
      throw ConfigError("--values: NaN is not a value (tell it with --state fail)");
    }
  } else if (state == "pruned") {
    if (const auto step = trial.last_step();
        step && !std::isnan(trial.intermediate_values.at(*step)) && !info.is_multi_objective()) {
      values = {trial.intermediate_values.at(*step)};
    }
  }
  return values;
}

// The system attributes written with the outcome: --constraints, as Optuna's constraints_func
// stores them, for COMPLETE and PRUNED trials (as many as the study's constrained trials have).
// Throws ConfigError.
Json told_attrs(const TellRequest& tell, const std::string& state, Storage& reader,
                const StudyInfo& info) {
  Json attrs = Json::object();
  if (tell.constraints.empty()) {
    return attrs;
  }
  if (state == "fail") {
    throw ConfigError(
        "--constraints: a failed trial keeps no constraints (as Optuna's); leave them out");
  }
  if (std::any_of(tell.constraints.begin(), tell.constraints.end(),
                  [](double v) { return std::isnan(v); })) {
    throw ConfigError("--constraints: NaN is no constraint value (each is <= 0 when met)");
  }
  // Read only here: a tell without constraints reads the one trial it finishes.
  if (const std::string problem = constraints_count_problem(
          tell.constraints.size(),
          reader.get_all_trials(info.id, {TrialState::Complete, TrialState::Pruned}));
      !problem.empty()) {
    throw ConfigError("--constraints: " + problem);
  }
  attrs[k_constraints_attr] = tell.constraints;
  return attrs;
}

// "trial N is STATE with values [...] and constraints [...] (feasible)": what was written.
void print_told(int number, TrialState to, const std::vector<double>& values,
                const std::vector<double>& constraints) {
  std::cout << fmt::format(
      "trial {} is {}{}{}\n", number, trial_state_name(to),
      values.empty() ? "" : " with values " + values_cell(values, "{}"),
      constraints.empty() ? ""
                          : fmt::format("{} constraints {} ({})", values.empty() ? " with" : " and",
                                        values_cell(constraints, "{}"),
                                        constraints_met(constraints) ? "feasible" : "infeasible"));
}

}  // namespace

int ask_command(const std::string& config_file, const std::string& storage_url,
                const std::string& study) {
  // ask_trial looks at the stop signals right before its claim, and defers them from there on.
  return write_once("no trial was asked", [&](const std::function<bool()>&) {
    OpenedStudy s = open_study_for(config_file, 0, storage_url, study);
    ask_trial(s.config, *s.storage, s.options, std::cerr, [](const FrozenTrial& trial) {
      std::cout << python_json_dumps(
                       Json{{"number", trial.number}, {"params", trial.external_params()}})
                << std::endl;
      if (!std::cout) {  // Unseen, the trial's number would be lost: handed back instead.
        const int err = errno;
        std::cout.clear();  // Said here, once.
        std::clearerr(stdout);
        throw std::runtime_error(fmt::format("cannot write trial {} to the output: {}",
                                             trial.number, std::strerror(err)));
      }
    });
    return true;
  });
}

int tell_command(const TellRequest& tell) {
  require_database_file(tell.db);
  const std::string nothing_done = fmt::format("trial {} was not told", tell.trial_number);
  return write_once(nothing_done, [&](const std::function<bool()>& stop) {
    auto reader =
        open_storage(tell.db, true);  // Read first: a file that is no study stays as it is.
    const StudyInfo info = resolve_study(*reader, tell.study);
    const FrozenTrial trial = trial_to_tell(*reader, info, tell.trial_number);
    if (is_finished(trial.state) && tell.skip_if_finished) {
      std::cout << fmt::format("trial {} is already {}: left as it is\n", trial.number,
                               trial_state_name(trial.state));
      return true;
    }
    refuse_untellable(*reader, trial);
    const std::string state = tell.state.empty() ? "complete" : tell.state;
    const std::vector<double> values = told_values(tell, state, info, trial);
    const Json attrs = told_attrs(tell, state, *reader, info);
    const TrialState to = state == "complete" ? TrialState::Complete
                          : state == "pruned" ? TrialState::Pruned
                                              : TrialState::Fail;
    // Written only if the trial is still RUNNING with the owner it was read with: a run that
    // claimed it meanwhile (its owner had died) keeps it.
    auto storage = open_storage(tell.db);
    if (stop()) {
      return false;
    }
    if (!storage->set_trial_state_values(trial.id, to, values, trial_owner(trial), &attrs)) {
      // Finished by another process between the read and the write (two tells of one trial
      // retried by a script): with --skip-if-finished, as if found finished at the read.
      const FrozenTrial now = storage->get_trial(trial.id);
      if (is_finished(now.state) && tell.skip_if_finished) {
        std::cout << fmt::format("trial {} is already {}: left as it is\n", now.number,
                                 trial_state_name(now.state));
        return true;
      }
      throw std::runtime_error(
          fmt::format("trial {} was {} by another process just now", trial.number,
                      is_finished(now.state) ? "finished (" + trial_state_name(now.state) + ")"
                                             : std::string("taken over")));
    }
    print_told(trial.number, to, values, tell.constraints);
    return true;
  });
}

}  // namespace hpt
