#pragma once
// One trial's worker: a child process in its own process group (so the whole tree
// can be ended), stdout/stderr read without blocking, output logged to a file.

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hpt {

class WorkerProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') with the current environment
  // plus env. Throws std::runtime_error "cannot start 'x': reason" on failure.
  WorkerProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                const std::string& log_path);
  ~WorkerProcess();  // Kills the process group if still alive.
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // The fds to poll for reading (closed ones omitted).
  std::vector<int> fds() const;
  // Reads what is available; returns the complete stdout lines (over-long lines are cut
  // at 1 MiB). Stderr goes to the log file (created on first output, capped at 64 MiB).
  std::vector<std::string> read_available();
  // Appends text (e.g. a stdout line that is not a protocol message) to the log file.
  void log(const std::string& text);
  // True once anything was written to the log file.
  bool has_log() const { return m_log.is_open(); }
  // True once the process has exited and both pipes reached EOF.
  bool finished();
  // After finished(): "exited with status 3", "killed by signal 11 (SIGSEGV)", or "".
  std::string exit_problem() const;
  bool exited_ok() const;
  // Signals the whole process group.
  void signal_group(int sig);
  pid_t pid() const { return m_pid; }
  // The last lines of stderr (at most ~4 KiB).
  std::string stderr_tail() const;

 private:
  void append_log(const std::string& text);
  void read_fd(int& fd, std::string& buffer, bool is_stdout, std::vector<std::string>& lines);

  pid_t m_pid = -1;
  int m_out = -1;
  int m_err = -1;
  std::string m_out_buf;
  std::string m_err_buf;
  std::deque<std::string> m_err_tail;
  size_t m_err_tail_bytes = 0;
  std::optional<int> m_status;
  std::chrono::steady_clock::time_point m_exit_time;
  std::string m_log_path;
  std::ofstream m_log;
  size_t m_log_bytes = 0;
  bool m_log_capped = false;
};

}  // namespace hpt
