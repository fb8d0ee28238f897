#include "hpt/engine/subreaper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "hpt/engine/proc_stat.hpp"
#include "hpt/io/unique_fd.hpp"

namespace hpt {

namespace {

// The value of key in pid's environment as it was exec'd, or "".
std::string environ_value(pid_t pid, const std::string& name) {
  UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/environ").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return "";
  }
  std::string env;
  char buf[65536];
  ssize_t n;
  while (env.size() < (4u << 20) && (n = ::read(fd.get(), buf, sizeof(buf))) > 0) {
    env.append(buf, static_cast<size_t>(n));
  }
  const std::string key = name + "=";
  for (size_t start = 0; start < env.size();) {
    size_t end = env.find('\0', start);
    if (end == std::string::npos) {
      end = env.size();
    }
    if (env.compare(start, key.size(), key) == 0) {
      return env.substr(start + key.size(), end - start - key.size());
    }
    start = end + 1;
  }
  return "";
}

// True if the children files of /proc exist (CONFIG_PROC_CHILDREN); else /proc is scanned.
bool have_children_files() {
  static const bool have =
      ::access(("/proc/self/task/" + std::to_string(::getpid()) + "/children").c_str(), R_OK) == 0;
  return have;
}

// ppid of pid from /proc/pid/stat, or -1.
pid_t parent_of(long pid) {
  const auto fields = proc_stat_fields(pid);
  return fields.size() > 1 ? static_cast<pid_t>(std::strtol(fields[1].c_str(), nullptr, 10)) : -1;
}

}  // namespace

std::set<pid_t> child_processes() {
  std::set<pid_t> out;
  const pid_t self = ::getpid();
  const bool by_children = have_children_files();
  DIR* dir = ::opendir(by_children ? "/proc/self/task" : "/proc");
  if (!dir) {
    return out;
  }
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') {
      continue;
    }
    if (!by_children) {
      const long pid = std::stol(e->d_name);
      if (parent_of(pid) == self) {
        out.insert(static_cast<pid_t>(pid));
      }
      continue;
    }
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
    pid_t pid;
    while (in >> pid) {
      out.insert(pid);
    }
  }
  ::closedir(dir);
  return out;
}

Subreaper::Subreaper() {
  ::prctl(PR_GET_CHILD_SUBREAPER, &m_previous);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Subreaper::~Subreaper() {
  // Killing a daemon re-parents its own children to us: sweep until none is left.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (sweep({}, {}) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, m_previous);
}

int Subreaper::sweep(const std::set<pid_t>& workers, const std::set<std::string>& live_trials) {
  int found = 0;
  for (pid_t pid : child_processes()) {
    if (workers.count(pid)) {
      continue;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {  // It already exited: reaped.
      ++found;
      continue;
    }
    const std::string trial = environ_value(pid, "HPT_TRIAL_NUMBER");
    if (!trial.empty() && live_trials.count(trial)) {
      continue;  // Escaped its group, but its trial still runs.
    }
    ++found;
    if (::getpgid(pid) == pid) {
      ::kill(-pid, SIGKILL);  // A daemon that made its own group: the group goes too.
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, WNOHANG);
  }
  return found;
}

std::vector<pid_t> end_leftover_processes(const std::string& trial_dir) {
  std::vector<pid_t> ended;
  DIR* dir = ::opendir("/proc");
  if (!dir) {
    return ended;
  }
  const pid_t self = ::getpid();
  while (const dirent* e = ::readdir(dir)) {
    const pid_t pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (pid > 0 && pid != self && environ_value(pid, "HPT_TRIAL_DIR") == trial_dir &&
        ::kill(pid, SIGKILL) == 0) {
      ended.push_back(pid);
    }
  }
  ::closedir(dir);
  // Gone once init (or their subreaper) reaped them: the trial's re-run starts after.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (pid_t pid : ended) {
    while (process_alive(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return ended;
}

}  // namespace hpt
