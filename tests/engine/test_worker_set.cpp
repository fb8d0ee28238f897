#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "hpt/engine/worker_set.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// Waits on set until id is finished (at most 10 s); returns its stdout lines.
std::vector<std::string> run_to_end(WorkerSet& set, WorkerId id) {
  std::vector<std::string> lines;
  const auto deadline = set.now() + std::chrono::seconds(10);
  while (!set.finished(id) && set.now() < deadline) {
    set.wait(std::chrono::milliseconds(50));
    for (const auto& l : set.read_lines(id)) {
      lines.push_back(l.text);
    }
  }
  return lines;
}

// Reaps this process's children that have exited until none is left (true), or 5 s pass
// with one still running (false). A group member signalled with the worker may exit just after
// it, re-parented to this subreaper: checking at once failed under load.
bool children_end() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::set<pid_t> left;
    for (pid_t pid : child_processes()) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) != pid) {
        left.insert(pid);
      }
    }
    if (left.empty()) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int open_fds() {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                        std::filesystem::directory_iterator{}));
}

}  // namespace

// A worker's lines come back in order; its result says how it exited, what it wrote to
// stderr and that it logged; reaping leaves no child process and no descriptor.
TEST_CASE("worker set: lines, result, reap", "[worker_set]") {
  hpt::test::TempDir dir("worker-set");
  const int fds = open_fds();
  {
    ProcessWorkerSet set;
    const WorkerId id = set.start(
        {{"sh", "-c", "echo one; echo two; echo oops >&2; exit 3"}, {}, dir.file("0.log"), 0});
    CHECK(run_to_end(set, id) == std::vector<std::string>{"one", "two"});
    const WorkerResult r = set.reap(id);
    CHECK(r.exit_problem == "exited with status 3");
    CHECK(r.stderr_tail == "oops\n");
    CHECK(r.has_log);
    CHECK(r.log_problem.empty());
    CHECK(child_processes().empty());
    CHECK_THROWS_AS(set.read_lines(id), std::logic_error);  // Reaped: no longer in the set.
  }
  CHECK(open_fds() == fds);
}

// signal() reaches the worker's whole group; a start that fails throws StartError and
// leaves nothing behind.
TEST_CASE("worker set: signal and failed start", "[worker_set]") {
  hpt::test::TempDir dir("worker-set");
  ProcessWorkerSet set;
  const WorkerId id = set.start({{"sh", "-c", "sleep 600 & sleep 600"}, {}, dir.file("1.log"), 1});
  set.signal(id, SIGTERM);
  run_to_end(set, id);
  REQUIRE(set.finished(id));
  CHECK(set.reap(id).exit_problem == "killed by signal 15 (SIGTERM)");
  CHECK(children_end());  // The background sleep got the signal too.
  const int fds = open_fds();
  CHECK_THROWS_AS(set.start({{"/nonexistent/worker"}, {}, dir.file("2.log"), 2}), StartError);
  CHECK(open_fds() == fds);
  CHECK(child_processes().empty());
}

// A daemon that leaves its trial's process group (setsid) is ended once that trial's
// worker has exited, while the set still runs other workers.
TEST_CASE("worker set: escaped descendants are swept", "[worker_set]") {
  hpt::test::TempDir dir("worker-set");
  ProcessWorkerSet set;
  const WorkerId other =
      set.start({{"sh", "-c", "sleep 600"}, {{"HPT_TRIAL_NUMBER", "7"}}, dir.file("o.log"), 7});
  const WorkerId id =
      set.start({{"sh", "-c", "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!"},
                 {{"HPT_TRIAL_NUMBER", "8"}},
                 dir.file("d.log"),
                 8});
  const auto lines = run_to_end(set, id);
  REQUIRE(lines.size() == 1);
  const pid_t daemon = std::stoi(lines[0]);
  set.reap(id);
  const auto deadline = set.now() + std::chrono::seconds(5);
  while (::kill(daemon, 0) == 0 && set.now() < deadline) {
    set.wait(std::chrono::milliseconds(150));  // Each wait sweeps at most every 100 ms.
  }
  CHECK(::kill(daemon, 0) != 0);
  set.signal(other, SIGKILL);
}

// Discounted time (a database outage the study waited out) does not count in now(), so no
// objective.timeout runs out for it.
TEST_CASE("worker set: discounted time leaves the clock", "[worker_set]") {
  ProcessWorkerSet set;
  const auto before = set.now();
  set.discount(std::chrono::hours(1));
  const auto after = set.now();
  CHECK(before - after > std::chrono::minutes(59));
  CHECK(before - after <= std::chrono::hours(1));
}
