#include "hpt/engine/worker_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>

#include "boost_process.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/io/datetime_text.hpp"

namespace bp = boost::process;

extern char** environ;

namespace hpt {

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

std::string_view last_nonblank_line(std::string_view text) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) {
    return {};
  }
  const size_t newline = text.find_last_of('\n', end);
  const size_t start = newline == std::string_view::npos ? 0 : newline + 1;
  std::string_view line = text.substr(start, end + 1 - start);
  line.remove_prefix(std::min(line.size(), line.find_first_not_of(" \t")));
  return line;
}

namespace {

constexpr size_t k_max_log = 64u << 20;
constexpr size_t k_tail_bytes = 4096;
constexpr int k_read_rounds = 16;  // 64 KiB each: a flooding worker can't starve the others.

[[noreturn]] void start_fail(const std::string& argv0, const std::string& reason) {
  throw StartError(fmt::format("cannot start '{}': {}", argv0, reason));
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The first executable regular file named name in $PATH, or "".
std::string search_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  const std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    const std::string dir = end == start ? "." : path.substr(start, end - start);
    const std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

// The problem with the interpreter named on path's "#!" line ("" if none or it is fine).
std::string interpreter_problem(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    return "";  // Unreadable: let exec say what it thinks.
  }
  char head[256];
  const ssize_t n = ::read(fd.get(), head, sizeof(head));
  if (n < 2 || head[0] != '#' || head[1] != '!') {
    return "";
  }
  std::string line(head + 2, static_cast<size_t>(n) - 2);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') {  // Linux splits the line at spaces and tabs only.
    return "its #! line ends with a carriage return (Windows line endings), which the system "
           "reads as part of the interpreter's name: save it with Unix line endings (dos2unix)";
  }
  std::vector<std::string> words;
  size_t i = 0;
  while ((i = line.find_first_not_of(" \t", i)) != std::string::npos) {
    const size_t end = line.find_first_of(" \t", i);
    words.push_back(line.substr(i, end == std::string::npos ? std::string::npos : end - i));
    i = end;
  }
  if (words.empty()) {
    return "its #! line names no interpreter";
  }
  const std::string& interp = words[0];
  struct stat st {};
  if (::stat(interp.c_str(), &st) != 0) {
    return fmt::format("the interpreter on its #! line, '{}', does not exist", interp);
  }
  if (!S_ISREG(st.st_mode) || ::access(interp.c_str(), X_OK) != 0) {
    return fmt::format("the interpreter on its #! line, '{}', is not executable", interp);
  }
  // "#!/usr/bin/env python3": env looks the program up in PATH at run time.
  if (words.size() > 1 && interp.size() >= 4 && interp.compare(interp.size() - 4, 4, "/env") == 0 &&
      words[1][0] != '-' && words[1].find('=') == std::string::npos &&
      words[1].find('/') == std::string::npos && search_path(words[1]).empty()) {
    return fmt::format("'{}' on its #! line ({} {}) is not found in PATH", words[1], interp,
                       words[1]);
  }
  return "";
}

// fd moved to a number >= 3 (so that dup2 onto 0, 1, 2 in the child never clobbers it).
UniqueFd above_stdio(UniqueFd fd) {
  if (fd.get() > 2) {
    return fd;
  }
  return UniqueFd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
}

// A pipe whose ends are close-on-exec and above the standard descriptors.
void make_pipe(const std::string& argv0, UniqueFd& read_end, UniqueFd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    start_fail(argv0, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  read_end = above_stdio(UniqueFd(p[0]));
  write_end = above_stdio(UniqueFd(p[1]));
  if (!read_end.valid() || !write_end.valid()) {
    start_fail(argv0, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
}

// argv and envp for execve: the strings and the NULL-terminated pointer arrays.
struct ExecArgs {
  std::vector<std::string> strings_argv;
  std::vector<std::string> strings_env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  size_t bytes = 0;  // What the kernel counts against ARG_MAX (strings + pointers).

  ExecArgs(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
      : strings_argv(args) {
    for (char** e = environ; e && *e; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (!eq || !env.count(std::string(*e, static_cast<size_t>(eq - *e)))) {
        strings_env.emplace_back(*e);
      }
    }
    for (const auto& [k, v] : env) {
      strings_env.push_back(k + "=" + v);
    }
    for (auto* list : {&strings_argv, &strings_env}) {
      auto& out = list == &strings_argv ? argv : envp;
      for (auto& s : *list) {
        out.push_back(s.data());
        bytes += s.size() + 1 + sizeof(char*);
      }
      out.push_back(nullptr);
    }
  }

  // The first string over k_max_arg_string ("HPT_PARAMS is 282139 bytes"), or "".
  std::string too_long() const {
    for (size_t i = 0; i < strings_argv.size(); ++i) {
      if (strings_argv[i].size() + 1 > k_max_arg_string) {
        return fmt::format("argument {} is {} bytes", i, strings_argv[i].size());
      }
    }
    for (const auto& s : strings_env) {
      if (s.size() + 1 > k_max_arg_string) {
        return fmt::format("environment variable {} is {} bytes", s.substr(0, s.find('=')),
                           s.size() - s.find('=') - 1);
      }
    }
    return "";
  }
};

// The child's set-up for Boost.Process. on_setup hands Boost our argv and envp (built
// and sized by ExecArgs); on_exec_setup runs in the vfork child, which shares the parent's
// memory until execve: only async-signal-safe calls, no allocation. Own process group,
// death with the parent, default signal dispositions, stdio from our pipes, no other
// descriptor. on_error reaps a child whose execve failed (Boost 1.74 leaves it a zombie).
struct ChildSetup : bp::extend::handler {
  const char* path;
  char* const* argv;
  char** envp;
  int in;
  int out;
  int err;
  pid_t parent;
  const sigset_t* mask;

  template <class Executor>
  void on_setup(Executor& e) const {
    e.exe = path;
    e.cmd_line = argv;
    e.env = envp;
  }

  template <class Executor>
  void on_exec_setup(Executor& e) const {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);  // The parent is already gone.
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction old {};
      if (sig == SIGKILL || sig == SIGSTOP || ::sigaction(sig, nullptr, &old) != 0) {
        continue;
      }
      // Caught signals (whose handlers live in the shared memory) and the ones hpt
      // itself ignores become default; what hpt was started with ignored stays ignored.
      if (old.sa_handler != SIG_DFL && (old.sa_handler != SIG_IGN || sig == SIGPIPE ||
                                        sig == SIGXFSZ || sig == SIGINT || sig == SIGTERM)) {
        ::sigaction(sig, &dfl, nullptr);
      }
    }
    const int targets[3] = {in, out, err};
    for (int target = 0; target < 3; ++target) {
      if (::dup2(targets[target], target) < 0) {
        e.set_error(std::error_code(errno, std::system_category()), "dup2 failed");
        ::_exit(127);
      }
    }
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3U, ~0U, 0U);  // Anything not close-on-exec (ENOSYS: cloexec only).
#endif
    ::sigprocmask(SIG_SETMASK, mask, nullptr);
  }

  template <class Executor>
  void on_error(Executor& e, const std::error_code&) const {
    if (e.pid > 0) {
      int status = 0;
      while (::waitpid(e.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
};

}  // namespace

std::string resolve_executable(const std::string& argv0) {
  if (argv0.empty()) {
    throw StartError("cannot start a worker: the command is empty");
  }
  std::string path = argv0;
  if (argv0.find('/') == std::string::npos) {
    path = search_path(argv0);
    if (path.empty()) {
      start_fail(argv0, "not found in PATH");
    }
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      start_fail(argv0, std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      start_fail(argv0, "is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
      start_fail(argv0, "not a regular file");
    }
    if (::access(path.c_str(), X_OK) != 0) {
      start_fail(argv0,
                 "not executable (no execute permission: chmod +x it, or put its "
                 "interpreter first in objective.command)");
    }
  }
  const std::string problem = interpreter_problem(path);
  if (!problem.empty()) {
    start_fail(argv0, problem);
  }
  return path;
}

WorkerProcess::WorkerProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env,
                             const std::string& log_path)
    : m_log_path(log_path) {
  if (argv.empty()) {
    throw StartError("cannot start a worker: the command is empty");
  }
  const std::string exe = resolve_executable(argv[0]);
  ExecArgs args(argv, env);
  UniqueFd devnull = above_stdio(UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (!devnull.valid()) {
    start_fail(argv[0], fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
  }
  UniqueFd out_w;
  UniqueFd err_w;
  make_pipe(argv[0], m_out, out_w);
  make_pipe(argv[0], m_err, err_w);

  // No signal may run a handler in the child while it shares our memory.
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  std::error_code ec;
  bp::child child(bp::exe = exe,
                  ChildSetup{{},
                             exe.c_str(),
                             args.argv.data(),
                             args.envp.data(),
                             devnull.get(),
                             out_w.get(),
                             err_w.get(),
                             ::getpid(),
                             &old},
                  bp::posix::use_vfork, ec);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (ec) {
    m_out.reset();
    m_err.reset();
    const int e = ec.value();
    if (e == E2BIG) {
      const std::string one = args.too_long();
      start_fail(argv[0], one.empty() ? fmt::format("argument list too long ({} bytes of arguments "
                                                    "and environment; the system allows {})",
                                                    args.bytes, ::sysconf(_SC_ARG_MAX))
                                      : fmt::format("argument list too long: {}; Linux passes at "
                                                    "most {} bytes in one",
                                                    one, k_max_arg_string - 1));
    }
    if (e == ENOENT || e == EACCES || e == ENOEXEC) {
      resolve_executable(argv[0]);  // Throws the precise reason when it can tell one.
    }
    if (e == ENOEXEC) {  // No "#!" line (else the check above names its problem), no ELF.
      start_fail(argv[0],
                 "the system cannot run it (Exec format error): not a program, and a script "
                 "needs a first line naming its interpreter, such as #!/bin/sh, or put the "
                 "interpreter first in objective.command");
    }
    start_fail(argv[0], std::strerror(e));
  }
  const pid_t pid = child.id();
  child.detach();  // We reap it ourselves with waitpid.
  m_pid = pid;
  ::setpgid(m_pid, m_pid);  // Also from here, so signal_group never races the child.
  for (int fd : {m_out.get(), m_err.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
}

WorkerProcess::~WorkerProcess() {
  if (m_pid > 0) {
    if (!m_status) {
      ::kill(-m_pid, SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  flush_log();
}

std::vector<int> WorkerProcess::fds() const {
  std::vector<int> out;
  for (const UniqueFd* fd : {&m_out, &m_err}) {
    if (fd->valid()) {
      out.push_back(fd->get());
    }
  }
  return out;
}

void WorkerProcess::log(const std::string& text) { append_log(text.data(), text.size()); }

void WorkerProcess::append_log(const char* data, size_t size) {
  if (m_log_capped || size == 0 || !m_log_problem.empty()) {
    return;
  }
  if (m_log_bytes + size > k_max_log) {
    m_log_buf += "\n[hpt: log truncated at 64 MiB]\n";
    m_log_capped = true;
  } else {
    m_log_buf.append(data, size);
    m_log_bytes += size;
  }
  if (m_log_buf.size() >= (64u << 10) || m_log_capped) {
    flush_log();
  }
}

void WorkerProcess::flush_log() {
  if (m_log_buf.empty() || !m_log_problem.empty()) {
    m_log_buf.clear();
    return;
  }
  if (!m_log_fd.valid()) {  // Lazily: quiet workers leave no file behind.
    // Never through a symbolic link, never into a FIFO or device planted there.
    m_log_fd.reset(::open(
        m_log_path.c_str(),
        O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644));
    struct stat st {};
    if (!m_log_fd.valid()) {
      m_log_problem = fmt::format("cannot write the log '{}': {}", m_log_path,
                                  errno == ELOOP ? "it is a symbolic link" : std::strerror(errno));
    } else if (::fstat(m_log_fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      m_log_problem = fmt::format("cannot write the log '{}': not a regular file", m_log_path);
      m_log_fd.reset();
    }
    if (!m_log_problem.empty()) {
      m_log_buf.clear();
      return;
    }
    if (st.st_size > 0) {  // A re-run trial: its earlier attempt's lines stay above.
      m_log_buf.insert(
          0, fmt::format("\n=== hpt: this trial started again at {}; the lines above "
                         "are from an earlier attempt ===\n",
                         format_datetime(std::chrono::system_clock::now(), TimeZone::Local, 1)));
    }
  }
  size_t done = 0;
  while (done < m_log_buf.size()) {
    const ssize_t n = ::write(m_log_fd.get(), m_log_buf.data() + done, m_log_buf.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      m_log_problem = fmt::format("cannot write the log '{}': {}", m_log_path,
                                  n < 0 ? std::strerror(errno) : "short write");
      break;
    }
    done += static_cast<size_t>(n);
  }
  m_log_buf.clear();
}

void WorkerProcess::add_stdout_line(std::string line, std::vector<StdoutLine>& lines) {
  lines.push_back({std::move(line), false});
}

void WorkerProcess::add_stderr_line(std::string line) {
  m_err_tail_bytes += line.size() + 1;
  m_err_tail.push_back(std::move(line));
  while (m_err_tail_bytes > k_tail_bytes && m_err_tail.size() > 1) {
    m_err_tail_bytes -= m_err_tail.front().size() + 1;
    m_err_tail.pop_front();
  }
}

void WorkerProcess::add_piece(std::string& buffer, bool is_stdout, const char* data, size_t size,
                              std::vector<StdoutLine>& lines) {
  bool& skipping = is_stdout ? m_out_skipping : m_err_skipping;
  if (skipping) {
    return;
  }
  buffer.append(data, std::min(size, k_max_line_bytes + 1 - buffer.size()));
  if (buffer.size() > k_max_line_bytes) {
    buffer.resize(k_max_line_bytes);
    if (is_stdout) {
      lines.push_back({std::move(buffer), true});
    } else {
      add_stderr_line(buffer.substr(0, k_tail_bytes));
    }
    buffer.clear();
    skipping = true;
  }
}

void WorkerProcess::end_line(std::string& buffer, bool is_stdout, std::vector<StdoutLine>& lines) {
  bool& skipping = is_stdout ? m_out_skipping : m_err_skipping;
  if (skipping) {
    skipping = false;
  } else if (is_stdout) {
    add_stdout_line(std::move(buffer), lines);
  } else {
    add_stderr_line(std::move(buffer));
  }
  buffer.clear();
}

void WorkerProcess::read_fd(UniqueFd& fd, std::string& buffer, bool is_stdout,
                            std::vector<StdoutLine>& lines) {
  if (!fd.valid()) {
    return;
  }
  char chunk[65536];
  for (int rounds = 0; rounds < k_read_rounds; ++rounds) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
    if (n > 0) {
      const size_t size = static_cast<size_t>(n);
      if (!is_stdout) {
        append_log(chunk, size);
      }
      size_t pos = 0;
      while (pos < size) {
        const void* nl = std::memchr(chunk + pos, '\n', size - pos);
        if (!nl) {
          add_piece(buffer, is_stdout, chunk + pos, size - pos, lines);
          break;
        }
        const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - chunk);
        add_piece(buffer, is_stdout, chunk + pos, end - pos, lines);
        end_line(buffer, is_stdout, lines);
        pos = end + 1;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    if (!buffer.empty() || (is_stdout ? m_out_skipping : m_err_skipping)) {
      end_line(buffer, is_stdout, lines);  // EOF (or a read error): a last unterminated line.
    }
    fd.reset();
    return;
  }
}

std::vector<StdoutLine> WorkerProcess::read_available() {
  std::vector<StdoutLine> lines;
  read_fd(m_out, m_out_buf, true, lines);
  read_fd(m_err, m_err_buf, false, lines);
  flush_log();
  return lines;
}

bool WorkerProcess::finished() {
  if (!m_status) {
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_status = status;
      m_exit_time = std::chrono::steady_clock::now();
      // Leftover children of the worker would keep the pipes open: end the group.
      ::kill(-m_pid, SIGKILL);
    }
  }
  // A descendant that left the group may still hold the pipes: stop waiting after 2 s.
  if (m_status && std::chrono::steady_clock::now() - m_exit_time > std::chrono::seconds(2)) {
    m_out.reset();
    m_err.reset();
  }
  const bool done = m_status && !m_out.valid() && !m_err.valid();
  if (done) {
    flush_log();
  }
  return done;
}

bool WorkerProcess::exited_ok() const {
  return m_status && WIFEXITED(*m_status) && WEXITSTATUS(*m_status) == 0;
}

std::string WorkerProcess::exit_problem() const {
  if (!m_status) {
    return "still running";
  }
  if (WIFEXITED(*m_status)) {
    int code = WEXITSTATUS(*m_status);
    return code == 0 ? "" : fmt::format("exited with status {}", code);
  }
  if (WIFSIGNALED(*m_status)) {
    int sig = WTERMSIG(*m_status);
    return fmt::format("killed by signal {} ({})", sig, signal_name(sig));
  }
  return "ended abnormally";
}

void WorkerProcess::signal_group(int sig) {
  if (m_pid > 0) {
    ::kill(-m_pid, sig);
  }
}

std::string WorkerProcess::stderr_tail() const {
  std::string out;
  for (const auto& line : m_err_tail) {
    out += line;
    out += '\n';
  }
  if (!m_err_buf.empty()) {
    out += m_err_buf.substr(m_err_buf.size() > k_tail_bytes ? m_err_buf.size() - k_tail_bytes : 0);
  }
  return out;
}

}  // namespace hpt
