#pragma once
// Internal to the engine: how a trial ended, as it is stored (COMPLETE, PRUNED, or FAIL with
// its reason), from what its worker printed and how it exited; and what failures cost the
// study: the pause before the next start after quick failures in a row.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpt/engine/worker_set.hpp"
#include "hpt/tuner/trial.hpp"
#include "running_trial.hpp"

namespace hpt {

// How a trial ended, as it is stored.
struct TrialOutcome {
  TrialState state = TrialState::Complete;
  std::optional<double> value;
  std::vector<double> values;  // A multi-objective study's COMPLETE trial.
  std::string reason;          // Why it failed ("" unless FAIL).
  // Its constraint values (COMPLETE and PRUNED trials that reported some, as Optuna).
  std::optional<std::vector<double>> constraints;

  void fail(std::string why) {
    state = TrialState::Fail;
    reason = std::move(why);
    value.reset();
    values.clear();
  }
};

// How r ended, from its messages, its stop reason and its worker's exit (worker), in a study
// of one objective or (multi_objective) several.
TrialOutcome trial_outcome(const RunningTrial& r, const WorkerResult& worker, bool multi_objective);

// Whether hpt ended r's worker after its final value, which counted (trial_outcome).
bool ended_after_final(const RunningTrial& r, const TrialOutcome& o);

// The end of a worker's stderr that a FAIL trial stores: its last 2000 bytes.
std::string trimmed_tail(const std::string& s);

// ": " and the last non-blank line of a worker's stderr (at most 300 bytes), or "" when it
// wrote none: what a FAIL line says of why ("hpt: error: cfg.yaml:17: dataset.path: ...").
std::string stderr_reason(const std::string& tail);

// A failed trial that ended within this time counts as a quick failure (backoff).
constexpr auto k_quick_failure = std::chrono::seconds(1);

// The delay before the next start after n quick failures in a row: none for the first,
// then 10 ms doubling up to 1 s, so a worker that cannot run never spins the machine.
std::chrono::steady_clock::duration failure_backoff(int n);

}  // namespace hpt
