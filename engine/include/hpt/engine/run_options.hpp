#pragma once
// What one run of a study is asked beyond its config (the command line): run_study, ask_trial
// and check_study take it.

#include <optional>
#include <string>

namespace hpt {

struct RunOptions {
  // The study's total of finished (COMPLETE + PRUNED) trials; k_unbounded_trials: none (hpt
  // --timeout without --trials).
  int trials = 0;
  // trials counts from the study's finished trials when the run starts (--trials +K).
  bool more_trials = false;
  // --timeout: seconds after which this run starts no trial; the running ones finish (Optuna's
  // optimize(timeout=...)). Time stopped (Ctrl-Z) does not count, as for objective.timeout.
  std::optional<double> time_budget;
  std::string trainer_exe;   // hpt-train: `hpt-train worker` is the built-in trainer's worker.
  bool interactive = false;  // Live progress line (stdout is a terminal).
};

}  // namespace hpt
