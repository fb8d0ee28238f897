#pragma once
// The set of a study's running workers, as ninja's SubprocessSet: it starts them, waits
// for output or exits with a timeout, reads their lines, signals and reaps them. The
// orchestrator above it only keeps the study's books, so it can be driven by a scripted
// set (tests) as well as by ProcessWorkerSet (worker processes). Time comes from the set
// too (now()), so a scripted set runs a study without sleeping.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hpt/engine/subreaper.hpp"
#include "hpt/engine/worker_process.hpp"

namespace hpt {

// What to start for one trial.
struct WorkerSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // Added to (or replacing in) the environment.
  std::string log_path;                    // Where its stderr and non-protocol lines go.
  int64_t trial_number = -1;
};

// What is known of a worker once it is finished.
struct WorkerResult {
  std::string exit_problem;  // "exited with status 3", "killed by signal 9 (SIGKILL)", or "".
  std::string stderr_tail;   // Its last lines of stderr (about 4 KiB at most).
  bool has_log = false;      // Something was written to its log file.
  std::string log_problem;   // Why the log could not be written ("" if it could).
  int signal = 0;            // The signal that ended it, or 0.
};

// A worker's handle in its set (never reused by the set).
using WorkerId = int64_t;

class WorkerSet {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~WorkerSet() = default;

  // The time of day on the steady clock (a scripted set's own clock in tests).
  virtual TimePoint now() const = 0;
  // Starts a worker. Throws StartError "cannot start 'x': reason" with nothing left behind.
  virtual WorkerId start(const WorkerSpec& spec) = 0;
  // Waits at most timeout for output or an exit of any worker (with no worker: sleeps);
  // returns earlier when a signal arrives.
  virtual void wait(std::chrono::milliseconds timeout) = 0;
  // The complete stdout lines of id read since the last call (a bounded amount per call).
  virtual std::vector<StdoutLine> read_lines(WorkerId id) = 0;
  // Appends text to id's log file.
  virtual void log(WorkerId id, const std::string& text) = 0;
  // True once anything was written to id's log file (it exists from then on).
  virtual bool has_log(WorkerId id) = 0;
  // True once id has exited and its output is drained.
  virtual bool finished(WorkerId id) = 0;
  // Sends sig to id's whole process group.
  virtual void signal(WorkerId id, int sig) = 0;
  // Removes id (killing its group if it is still alive) and says how it ended.
  virtual WorkerResult reap(WorkerId id) = 0;
  // Ends what is left of an earlier run of the trial whose HPT_TRIAL_DIR is trial_dir (see
  // end_leftover_processes); returns how many processes that was.
  virtual size_t end_leftovers(const std::string& trial_dir) = 0;
  // Ctrl-Z: stops every worker's process group, then this process, as a shell stops a
  // foreground job; once this process is continued (fg, bg, SIGCONT) continues the workers.
  // The time stopped does not count in now(), so no timeout runs out while the study is
  // stopped. Returns how long that was. still_wanted() is asked last, just before this process
  // stops: false (a SIGCONT came meanwhile) continues the workers and returns at once.
  virtual std::chrono::steady_clock::duration stop_with_workers(
      const std::function<bool()>& still_wanted) = 0;
  // Time the study spent blocked outside its trials (waiting out a database outage): from
  // now on it does not count in now(), as a Ctrl-Z's time does not, so no trial times out
  // for it.
  virtual void discount(std::chrono::steady_clock::duration d) = 0;
};

// Worker processes (WorkerProcess: own process group, pipes read without blocking), and
// this process the child subreaper of them all: a descendant that escapes its trial's
// process group is ended once its trial's worker has exited, and every one at the end.
class ProcessWorkerSet : public WorkerSet {
 public:
  ProcessWorkerSet() = default;
  ~ProcessWorkerSet() override;  // Kills and reaps what is left, then the escaped descendants.

  TimePoint now() const override { return std::chrono::steady_clock::now() - m_stopped; }
  WorkerId start(const WorkerSpec& spec) override;
  // poll(2) on every worker's pipes; then ends the escaped descendants of exited workers.
  void wait(std::chrono::milliseconds timeout) override;
  std::vector<StdoutLine> read_lines(WorkerId id) override;
  void log(WorkerId id, const std::string& text) override;
  bool has_log(WorkerId id) override;
  bool finished(WorkerId id) override;
  void signal(WorkerId id, int sig) override;
  WorkerResult reap(WorkerId id) override;
  size_t end_leftovers(const std::string& trial_dir) override {
    return end_leftover_processes(trial_dir).size();
  }
  std::chrono::steady_clock::duration stop_with_workers(
      const std::function<bool()>& still_wanted) override;
  void discount(std::chrono::steady_clock::duration d) override { m_stopped += d; }

 private:
  struct Entry {
    std::unique_ptr<WorkerProcess> process;
    std::string trial_number;
  };
  Entry& entry(WorkerId id);
  // Ends descendants of exited workers that escaped their process group (at most every
  // 100 ms unless force).
  void sweep_descendants(bool force);

  Subreaper m_reaper;  // Before m_workers: destroyed after the workers are reaped.
  std::map<WorkerId, Entry> m_workers;
  WorkerId m_next_id = 1;
  TimePoint m_last_sweep{};
  std::chrono::steady_clock::duration m_stopped{};  // All the time stopped (Ctrl-Z) or
                                                    // discounted.
};

}  // namespace hpt
