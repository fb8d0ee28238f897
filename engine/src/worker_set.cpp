#include "hpt/engine/worker_set.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>

#include <set>
#include <stdexcept>

namespace hpt {

namespace {

// Stops this process as the terminal's Ctrl-Z would (SIGTSTP's default action) and returns once
// it is continued. The kernel discards it in an orphaned process group, which no shell could
// continue: then this returns at once.
// still_wanted() is asked last, so that a SIGCONT that came before it cancels the stop; one that
// comes in the microseconds between it and the raise is lost, as with any program that catches
// SIGTSTP (a shell's job control stops such programs the same way).
void stop_this_process(const std::function<bool()>& still_wanted) {
  struct sigaction dfl {};
  struct sigaction mine {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGTSTP, &dfl, &mine);
  if (still_wanted()) {
    ::raise(SIGTSTP);
  }
  ::sigaction(SIGTSTP, &mine, nullptr);
}

}  // namespace

ProcessWorkerSet::~ProcessWorkerSet() { m_workers.clear(); }

ProcessWorkerSet::Entry& ProcessWorkerSet::entry(WorkerId id) {
  auto it = m_workers.find(id);
  if (it == m_workers.end()) {
    throw std::logic_error(fmt::format("no worker {} in this set", id));
  }
  return it->second;
}

WorkerId ProcessWorkerSet::start(const WorkerSpec& spec) {
  auto process = std::make_unique<WorkerProcess>(spec.argv, spec.env, spec.log_path);
  const WorkerId id = m_next_id++;
  m_workers.emplace(id, Entry{std::move(process), std::to_string(spec.trial_number)});
  return id;
}

void ProcessWorkerSet::wait(std::chrono::milliseconds timeout) {
  std::vector<pollfd> pfds;
  bool exiting = false;  // A worker closed its pipes but is not reaped yet: don't sleep long.
  for (const auto& [id, e] : m_workers) {
    const auto fds = e.process->fds();
    exiting = exiting || fds.empty();
    for (int fd : fds) {
      pfds.push_back({fd, POLLIN, 0});
    }
  }
  int wait_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, timeout.count()));
  if (exiting) {
    wait_ms = std::min(wait_ms, 1);
  }
  ::poll(pfds.data(), pfds.size(), wait_ms);  // EINTR: a signal, the caller looks at it.
  bool gone = exiting;  // A worker has exited: its escaped descendants go now.
  for (const auto& [id, e] : m_workers) {
    gone = gone || e.process->exited();
  }
  sweep_descendants(gone);
}

void ProcessWorkerSet::sweep_descendants(bool force) {
  const auto t = now();
  if (m_workers.empty() || (!force && t - m_last_sweep < std::chrono::milliseconds(100))) {
    return;
  }
  m_last_sweep = t;
  std::set<pid_t> pids;
  std::set<std::string> live;
  for (const auto& [id, e] : m_workers) {
    pids.insert(e.process->pid());
    if (!e.process->exited()) {
      live.insert(e.trial_number);
    }
  }
  m_reaper.sweep(pids, live);
}

std::vector<StdoutLine> ProcessWorkerSet::read_lines(WorkerId id) {
  return entry(id).process->read_available();
}

void ProcessWorkerSet::log(WorkerId id, const std::string& text) { entry(id).process->log(text); }

bool ProcessWorkerSet::has_log(WorkerId id) { return entry(id).process->has_log(); }

bool ProcessWorkerSet::finished(WorkerId id) { return entry(id).process->finished(); }

void ProcessWorkerSet::signal(WorkerId id, int sig) { entry(id).process->signal_group(sig); }

std::chrono::steady_clock::duration ProcessWorkerSet::stop_with_workers(
    const std::function<bool()>& still_wanted) {
  // SIGSTOP, as the workers run in process groups of their own that the terminal's Ctrl-Z does
  // not reach; a worker that catches SIGTSTP could not be stopped with it.
  const auto signal_running = [this](int sig) {
    for (auto& [id, e] : m_workers) {
      if (!e.process->exited()) {
        e.process->signal_group(sig);
      }
    }
  };
  signal_running(SIGSTOP);
  const auto start = std::chrono::steady_clock::now();
  stop_this_process(still_wanted);
  const auto stopped = std::chrono::steady_clock::now() - start;
  m_stopped += stopped;
  signal_running(SIGCONT);
  return stopped;
}

WorkerResult ProcessWorkerSet::reap(WorkerId id) {
  auto it = m_workers.find(id);
  if (it == m_workers.end()) {
    throw std::logic_error(fmt::format("no worker {} in this set", id));
  }
  const WorkerProcess& p = *it->second.process;
  WorkerResult result{p.exit_problem(), p.stderr_tail(), p.has_log(), p.log_problem(),
                      p.exit_signal()};
  m_workers.erase(it);  // Kills the group if still alive, reaps, flushes the log.
  return result;
}

}  // namespace hpt
