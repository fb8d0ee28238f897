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
#include "hpt/engine/run_options.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

class Storage;
class WorkerSet;

// Exit codes of run_study.
constexpr int k_exit_ok = 0;
constexpr int k_exit_failures = 3;  // Stopped after study.max_failures failed trials.
constexpr int k_exit_interrupted = 130;

// Runs the study until it has options.trials finished trials (or its time budget is spent
// and its running trials have finished, or it is interrupted, or too many trials fail). Progress
// goes to out. Installs SIGINT/SIGTERM handlers for its duration: the first signal ends running
// workers and returns their trials to WAITING (a resume re-runs them); a second exits at once. Its
// workers are processes (ProcessWorkerSet).
int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out);
// hpt ask (Optuna's study.ask): opens the study as run_study does (made if missing, with its
// enqueue entries), claims its next trial as a run does (a WAITING one first, then one a dead
// process left RUNNING: a killed ask's too) and samples its parameters, then hands it to publish
// (which prints it). Once whole, the trial is left RUNNING with no owner, as Optuna's asked
// trials are, so no hpt run takes it for dead; hpt tell finishes it. A stop signal caught before
// the claim (a StopSignals of the caller's) throws instead, nothing claimed. Stop signals wait
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
