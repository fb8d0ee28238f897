#pragma once
// Runs test code in forked child processes (concurrency across processes, as with
// several orchestrators on one database).

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <vector>

namespace hpt::test {

// Runs body(i) for i = 0 .. n-1, each in a forked child, and waits for them all; checks
// that every child exited 0 (a body that throws makes its child exit 1).
inline void run_in_children(int n, const std::function<void(int)>& body) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 0;
      try {
        body(i);
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

}  // namespace hpt::test
