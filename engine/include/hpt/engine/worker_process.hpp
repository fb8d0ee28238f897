#pragma once
// One trial's worker: a child process in its own process group (so the whole tree
// can be ended), stdout/stderr read without blocking, output logged to a file.
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hpt/io/unique_fd.hpp"

namespace hpt {

// A worker that could not be started (program not found or not executable, exec
// failure, no descriptors or processes left). Nothing of it is left behind: no child,
// no descriptor.
// Linux's limit on one argument or environment string of a new process, its NUL included
// (MAX_ARG_STRLEN).
constexpr size_t k_max_arg_string = 32 * 4096;

// "SIGKILL" for 9 (the name without SIG's prefix where the system knows none: "64").
std::string signal_name(int sig);

// The last line of a program's output that is not blank, without its leading blanks ("" if
// none): what it said last, usually why it stopped ("hpt: error: ...").
std::string_view last_nonblank_line(std::string_view text);

class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One line of a worker's stdout.
struct StdoutLine {
  std::string text;
  bool truncated = false;  // The line was longer than k_max_line_bytes and is cut there.
};

class WorkerProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') with the current environment
  // plus env, stdin from /dev/null, no other inherited descriptor. The log file is
  // created at log_path on first output, never through a symbolic link. Throws
  // StartError "cannot start 'x': reason" on failure.
  WorkerProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                const std::string& log_path);
  ~WorkerProcess();  // Kills the process group if still alive and reaps the worker.
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // The fds to poll for reading (closed ones omitted).
  std::vector<int> fds() const;
  // Reads what is available (a bounded amount per call); returns the complete stdout
  // lines (over-long lines are cut at k_max_line_bytes, the rest of such a line is
  // dropped). Stderr goes to the log file (capped at 64 MiB).
  std::vector<StdoutLine> read_available();
  // Appends text (e.g. a stdout line that is not a protocol message) to the log file.
  void log(const std::string& text);
  // True once anything was written to the log file.
  bool has_log() const { return m_log_fd.valid(); }
  // Why the log file could not be written ("" if it could), e.g. a symbolic link there.
  const std::string& log_problem() const { return m_log_problem; }
  // True once the process has exited and both pipes reached EOF.
  bool finished();
  // True once the worker process itself has exited and been reaped.
  bool exited() const { return m_status.has_value(); }
  // After finished(): "exited with status 3", "killed by signal 11 (SIGSEGV)", or "".
  std::string exit_problem() const;
  // The signal that ended it (0 while running or when it exited).
  int exit_signal() const { return m_status && WIFSIGNALED(*m_status) ? WTERMSIG(*m_status) : 0; }
  bool exited_ok() const;
  // Signals the whole process group.
  void signal_group(int sig);
  pid_t pid() const { return m_pid; }
  // The last lines of stderr (at most ~4 KiB).
  std::string stderr_tail() const;

 private:
  void append_log(const char* data, size_t size);
  void flush_log();
  void read_fd(UniqueFd& fd, std::string& buffer, bool is_stdout, std::vector<StdoutLine>& lines);
  // Appends a piece of the current line to buffer, cutting the line at k_max_line_bytes.
  void add_piece(std::string& buffer, bool is_stdout, const char* data, size_t size,
                 std::vector<StdoutLine>& lines);
  // Ends the current line (dropped if it was cut).
  void end_line(std::string& buffer, bool is_stdout, std::vector<StdoutLine>& lines);
  void add_stdout_line(std::string line, std::vector<StdoutLine>& lines);
  void add_stderr_line(std::string line);

  pid_t m_pid = -1;
  UniqueFd m_out;
  UniqueFd m_err;
  std::string m_out_buf;
  std::string m_err_buf;
  bool m_out_skipping = false;  // Dropping the rest of an over-long stdout line.
  bool m_err_skipping = false;
  std::deque<std::string> m_err_tail;
  size_t m_err_tail_bytes = 0;
  std::optional<int> m_status;
  std::chrono::steady_clock::time_point m_exit_time;
  std::string m_log_path;
  UniqueFd m_log_fd;
  std::string m_log_buf;
  std::string m_log_problem;
  size_t m_log_bytes = 0;
  bool m_log_capped = false;
};

// Where argv0 would be executed from: argv0 itself if it has a '/', else the first
// executable regular file of that name in $PATH. Throws StartError with a one-line
// reason when it cannot be executed: missing, a directory, no execute permission, or a
// "#!" line naming an interpreter that is missing or not executable.
std::string resolve_executable(const std::string& argv0);

}  // namespace hpt
