#include "hpt/engine/worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

// Boost 1.74 compiles its vfork launcher only for pre-2008 POSIX feature levels; Linux has
// vfork, so turn it on (see ChildSetup for why).
#define BOOST_POSIX_HAS_VFORK 1
#include <fmt/format.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>

namespace bp = boost::process;

namespace hpt {

namespace {

constexpr size_t k_max_line = 1 << 20;
constexpr size_t k_max_log = 64u << 20;
constexpr size_t k_tail_bytes = 4096;

// Runs in the child between vfork and exec (async-signal-safe calls only): own process
// group, and die with the parent. vfork: the parent links LibTorch, and copying its page
// tables for a fork cost ~2 ms per trial.
struct ChildSetup : bp::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor&) const {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
  }
};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

}  // namespace

WorkerProcess::WorkerProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env,
                             const std::string& log_path) {
  if (argv.empty()) {
    throw std::runtime_error("cannot start a worker: empty command");
  }
  boost::filesystem::path exe = argv[0];
  if (argv[0].find('/') == std::string::npos) {
    exe = bp::search_path(argv[0]);
    if (exe.empty()) {
      throw std::runtime_error(fmt::format("cannot start '{}': not found in PATH", argv[0]));
    }
  }
  m_log_path = log_path;
  bp::environment child_env = boost::this_process::environment();
  for (const auto& [k, v] : env) {
    child_env[k] = v;
  }
  bp::pipe out;
  bp::pipe err;
  bp::child child;
  try {
    child =
        bp::child(bp::exe = exe, bp::args = std::vector<std::string>(argv.begin() + 1, argv.end()),
                  bp::env = child_env, bp::std_out > out, bp::std_err > err, bp::std_in < bp::null,
                  ChildSetup{}, bp::posix::use_vfork);
  } catch (const bp::process_error& e) {
    throw std::runtime_error(fmt::format("cannot start '{}': {}", argv[0], e.code().message()));
  }
  m_pid = child.id();
  child.detach();           // We reap it ourselves with waitpid.
  ::setpgid(m_pid, m_pid);  // Also from the parent, so signal_group never races the child.
  m_out = ::dup(out.native_source());
  m_err = ::dup(err.native_source());
  out.close();
  err.close();
  for (int fd : {m_out, m_err}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

WorkerProcess::~WorkerProcess() {
  if (m_pid > 0) {
    ::kill(-m_pid, SIGKILL);
    if (!m_status) {
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }
  for (int fd : {m_out, m_err}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

std::vector<int> WorkerProcess::fds() const {
  std::vector<int> out;
  for (int fd : {m_out, m_err}) {
    if (fd >= 0) {
      out.push_back(fd);
    }
  }
  return out;
}

void WorkerProcess::log(const std::string& text) {
  append_log(text);
  if (m_log.is_open()) {
    m_log.flush();
  }
}

void WorkerProcess::append_log(const std::string& text) {
  if (m_log_capped || text.empty()) {
    return;
  }
  if (!m_log.is_open()) {  // Lazily: quiet workers leave no file behind.
    m_log.open(m_log_path, std::ios::app);
  }
  if (!m_log) {
    return;
  }
  if (m_log_bytes + text.size() > k_max_log) {
    m_log << "\n[hpt: log truncated at 64 MiB]\n";
    m_log.flush();
    m_log_capped = true;
    return;
  }
  m_log << text;
  m_log_bytes += text.size();
}

void WorkerProcess::read_fd(int& fd, std::string& buffer, bool is_stdout,
                            std::vector<std::string>& lines) {
  if (fd < 0) {
    return;
  }
  char chunk[65536];
  for (int rounds = 0; rounds < 64; ++rounds) {  // Bounded: a flooding worker can't starve others.
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      if (!is_stdout) {
        append_log(std::string(chunk, static_cast<size_t>(n)));
      }
      buffer.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string line = buffer.substr(start, nl - start);
        if (is_stdout) {
          lines.push_back(std::move(line));
        } else {
          m_err_tail.push_back(std::move(line));
          m_err_tail_bytes += m_err_tail.back().size() + 1;
        }
      }
      buffer.erase(0, start);
      if (buffer.size() > k_max_line) {  // Cut over-long lines.
        if (is_stdout) {
          lines.push_back(buffer.substr(0, k_max_line));
        } else {
          m_err_tail.push_back(buffer.substr(buffer.size() - k_tail_bytes));
          m_err_tail_bytes += k_tail_bytes;
        }
        buffer.clear();
      }
      while (m_err_tail_bytes > k_tail_bytes && m_err_tail.size() > 1) {
        m_err_tail_bytes -= m_err_tail.front().size() + 1;
        m_err_tail.pop_front();
      }
      continue;
    }
    if (n == 0) {  // EOF: flush a last unterminated line.
      if (!buffer.empty()) {
        if (is_stdout) {
          lines.push_back(buffer);
        } else {
          m_err_tail.push_back(buffer);
          m_err_tail_bytes += buffer.size();
        }
        buffer.clear();
      }
      ::close(fd);
      fd = -1;
    } else if (errno == EINTR) {
      continue;
    }
    return;  // EAGAIN or error.
  }
}

std::vector<std::string> WorkerProcess::read_available() {
  std::vector<std::string> lines;
  read_fd(m_out, m_out_buf, true, lines);
  read_fd(m_err, m_err_buf, false, lines);
  if (m_log.is_open()) {
    m_log.flush();
  }
  return lines;
}

bool WorkerProcess::finished() {
  if (!m_status) {
    int status = 0;
    pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_status = status;
      m_exit_time = std::chrono::steady_clock::now();
      // Leftover children of the worker would keep the pipes open: end the group.
      ::kill(-m_pid, SIGKILL);
    }
  }
  // A descendant that left the group may still hold the pipes: stop waiting after 2 s.
  if (m_status && std::chrono::steady_clock::now() - m_exit_time > std::chrono::seconds(2)) {
    for (int* fd : {&m_out, &m_err}) {
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
    }
  }
  return m_status && m_out < 0 && m_err < 0;
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
