#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "hpt/engine/proc_stat.hpp"
#include "hpt/engine/subreaper.hpp"
#include "hpt/engine/worker_process.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// Starts a worker that leaves a setsid daemon (stdio closed) with HPT_TRIAL_NUMBER=trial
// (and env) and exits; returns the daemon's pid.
pid_t leave_daemon(const std::string& trial, std::map<std::string, std::string> env = {}) {
  hpt::test::TempDir dir("reaper");
  const std::filesystem::path pidfile = dir.file(trial + ".pid");
  env["HPT_TRIAL_NUMBER"] = trial;
  {
    WorkerProcess w({"sh", "-c",
                     "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > " + pidfile.string() +
                         "; sleep 0.2"},
                    env, "/dev/null/none.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!w.finished() && std::chrono::steady_clock::now() < deadline) {
      w.read_available();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  pid_t pid = 0;
  std::ifstream(pidfile) >> pid;
  std::filesystem::remove(pidfile);
  return pid;
}

}  // namespace

// A daemon that escaped its worker's group is re-parented to the subreaper; a sweep ends
// and reaps it unless its trial is still live.
TEST_CASE("subreaper: ends escaped descendants of ended trials", "[subreaper]") {
  Subreaper reaper;
  const pid_t daemon = leave_daemon("7");
  REQUIRE(daemon > 0);
  REQUIRE(process_alive(daemon));
  CHECK(child_processes().count(daemon) == 1);  // Re-parented to us, not to init.
  CHECK(reaper.sweep({}, {"7"}) == 0);          // Trial 7 still runs: left alone.
  CHECK(process_alive(daemon));
  CHECK(reaper.sweep({}, {"8"}) == 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!child_processes().empty() && std::chrono::steady_clock::now() < deadline) {
    reaper.sweep({}, {});
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK_FALSE(process_alive(daemon));
  CHECK(child_processes().empty());  // Reaped: no zombie.
}

// Destroying the subreaper ends whatever is left.
TEST_CASE("subreaper: destructor ends the rest", "[subreaper]") {
  pid_t daemon = 0;
  {
    Subreaper reaper;
    daemon = leave_daemon("3");
    REQUIRE(process_alive(daemon));
  }
  CHECK_FALSE(process_alive(daemon));
  CHECK(child_processes().empty());
}

// Processes left from an earlier run of a trial (an orchestrator killed with SIGKILL) are
// found by their HPT_TRIAL_DIR and ended; another trial's are left alone.
TEST_CASE("subreaper: end_leftover_processes", "[subreaper]") {
  const pid_t mine = leave_daemon("4", {{"HPT_TRIAL_DIR", "/studies/s/4"}});
  const pid_t other = leave_daemon("5", {{"HPT_TRIAL_DIR", "/studies/s/45"}});
  REQUIRE(process_alive(mine));
  REQUIRE(process_alive(other));
  CHECK(end_leftover_processes("/studies/s/4") == std::vector<pid_t>{mine});
  CHECK_FALSE(process_alive(mine));
  CHECK(process_alive(other));
  CHECK(end_leftover_processes("/studies/s/45") == std::vector<pid_t>{other});
  CHECK_FALSE(process_alive(other));
  CHECK(end_leftover_processes("/studies/s/45").empty());
}
