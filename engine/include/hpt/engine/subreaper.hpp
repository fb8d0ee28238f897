#pragma once
// Descendants of a trial that escape its process group (a daemon started with setsid)
// must not outlive the trial. While a Subreaper exists, this process is the child
// subreaper of everything it starts (PR_SET_CHILD_SUBREAPER): an orphaned descendant is
// re-parented to it instead of to init, and sweep() ends and reaps it.
#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace hpt {

class Subreaper {
 public:
  // Makes this process a child subreaper (restored by the destructor).
  Subreaper();
  // Ends and reaps every re-parented descendant (for at most about a second).
  ~Subreaper();
  Subreaper(const Subreaper&) = delete;
  Subreaper& operator=(const Subreaper&) = delete;

  // Ends (SIGKILL, with its process group) and reaps each child of this process that is
  // not in workers and does not belong to a live trial: a descendant belongs to trial N
  // when its environment has HPT_TRIAL_NUMBER=N; one without it belongs to no live trial.
  // Also reaps such children that already exited. Returns how many it found. Cheap when
  // there are none (reads /proc/self/task/*/children).
  int sweep(const std::set<pid_t>& workers, const std::set<std::string>& live_trials);

 private:
  int m_previous = 0;
};

// The direct children of this process (every thread's), from /proc.
std::set<pid_t> child_processes();

// Ends (SIGKILL) the processes left from an earlier run of a trial, found by
// HPT_TRIAL_DIR=trial_dir (absolute) in their environment, and returns their pids. When an
// orchestrator is killed with SIGKILL its workers die with it, but their children live on
// (re-parented to init) and would run beside the trial's re-run.
std::vector<pid_t> end_leftover_processes(const std::string& trial_dir);

}  // namespace hpt
