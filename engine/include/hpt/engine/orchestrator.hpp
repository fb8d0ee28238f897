#pragma once
// Runs a study: claims trials from the storage, samples their parameters, runs each
// in a worker process (up to `jobs` at once), streams intermediate values to the
// pruner, and records every outcome. The orchestrator is the only database writer.

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "hpt/engine/progress.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

class Storage;
class WorkerSet;

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

class SignalGuard;

// Catches the stop signals (Ctrl-C, kill, a closed terminal, ...) from construction on, as a
// running study does: a `hpt` study run makes one before it loads the config and opens the
// database, so a signal in that time stops it as one during the run does (exit 130) instead
// of killing it. run_study's own guard nests inside.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Whether a stop signal came since construction.
  bool caught() const;

 private:
  std::unique_ptr<SignalGuard> m_guard;
};

// Exit codes of run_study.
constexpr int k_exit_ok = 0;
constexpr int k_exit_failures = 3;  // Stopped after study.max_failures failed trials.
constexpr int k_exit_interrupted = 130;

// The checks of a study that need no database: run_study makes them first, and `hpt` before
// it opens (maybe creates) the database, so that a refused study leaves no database behind.
// Returns the study's trials folder (<trials_dir>/<study folder>, not created); throws
// std::runtime_error naming the problem (a study name that is empty or too long, a trials
// folder that cannot be made or lies in the study's folder dataset, a built-in trainer that
// cannot start). new_study: the study is not in its database yet (the database file does not
// exist), so a trials_dir folder holding another study's trials is refused too.
std::string check_study(const StudyConfig& config, const RunOptions& options,
                        bool new_study = false);

// Runs the study until it has options.trials finished trials (or its time budget is spent
// and its running trials have finished, or it is interrupted, or too many trials fail). Progress
// goes to out. Installs SIGINT/SIGTERM handlers for its duration: the first signal ends running
// workers and returns their trials to WAITING (a resume re-runs them); a second exits at once. Its
// workers are processes (ProcessWorkerSet).
int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out);
// hpt ask (Optuna's study.ask): opens the study as run_study does (made if missing, with its
// enqueue entries), claims its next trial (a WAITING one first) and samples its parameters, then
// hands it to publish (which prints it). The trial is left RUNNING with no owner, as Optuna's
// asked trials are, so no hpt run takes it for dead; hpt tell finishes it. Stop signals wait
// until it is published; if sampling or publish fails, the trial is WAITING again (the next ask
// or run takes it) and the error is thrown. A grid whose every point has a trial is refused.
// Notes go to out. Throws what run_study's checks throw.
FrozenTrial ask_trial(const StudyConfig& config, Storage& storage, const RunOptions& options,
                      std::ostream& out, const std::function<void(const FrozenTrial&)>& publish);
// The same with workers started, read and timed by workers: tests drive a study with a
// scripted set, without processes or sleeps.
int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out, WorkerSet& workers);

}  // namespace hpt
