#include <poll.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hpt/engine/worker_process.hpp"

using namespace hpt;

namespace {

std::string temp_log(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "hpt_test_worker";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

// Runs the worker to the end (bounded), returning its stdout lines.
std::vector<std::string> drain(WorkerProcess& w, double max_seconds = 10) {
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_seconds);
  while (!w.finished() && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> pfds;
    for (int fd : w.fds()) {
      pfds.push_back({fd, POLLIN, 0});
    }
    ::poll(pfds.data(), pfds.size(), 50);
    for (auto& l : w.read_available()) {
      lines.push_back(l);
    }
  }
  return lines;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// True if pid exists and is not a zombie waiting to be reaped.
bool process_alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) {
    return false;
  }
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

}  // namespace

// Stdout lines come back in order, env reaches the child, stderr is logged and tailed;
// stdout reaches the log only through log().
TEST_CASE("worker process: output, env, log", "[worker]") {
  const auto log = temp_log("a.log");
  WorkerProcess w({"sh", "-c", "echo one; echo $HPT_X; echo oops >&2; printf last"},
                  {{"HPT_X", "42"}}, log);
  auto lines = drain(w);
  CHECK(lines == std::vector<std::string>{"one", "42", "last"});
  CHECK(w.exited_ok());
  CHECK(w.exit_problem().empty());
  CHECK_THAT(w.stderr_tail(), Catch::Contains("oops"));
  w.log("not protocol\n");
  CHECK_THAT(slurp(log), Catch::Contains("oops") && Catch::Contains("not protocol"));
  CHECK(slurp(log).find("one") == std::string::npos);
  CHECK(w.has_log());
}

// A quiet worker leaves no log file behind.
TEST_CASE("worker process: no output, no log file", "[worker]") {
  const auto log = temp_log("quiet.log");
  WorkerProcess w({"sh", "-c", "exit 0"}, {}, log);
  drain(w);
  CHECK(w.exited_ok());
  CHECK_FALSE(w.has_log());
  CHECK_FALSE(std::filesystem::exists(log));
}

// Exit codes and signals are described.
TEST_CASE("worker process: exit status and signals", "[worker]") {
  WorkerProcess a({"sh", "-c", "exit 3"}, {}, temp_log("b.log"));
  drain(a);
  CHECK_FALSE(a.exited_ok());
  CHECK(a.exit_problem() == "exited with status 3");
  WorkerProcess b({"sh", "-c", "kill -SEGV $$"}, {}, temp_log("c.log"));
  drain(b);
  CHECK(b.exit_problem() == "killed by signal 11 (SIGSEGV)");
}

// A missing program is an exception naming it.
TEST_CASE("worker process: missing program", "[worker]") {
  CHECK_THROWS_WITH(WorkerProcess({"hpt-no-such-program"}, {}, temp_log("d.log")),
                    Catch::Contains("cannot start 'hpt-no-such-program'"));
  CHECK_THROWS_WITH(WorkerProcess({"/nonexistent/prog"}, {}, temp_log("d.log")),
                    Catch::Contains("cannot start '/nonexistent/prog'"));
}

// Signalling the group also ends the worker's own children (no orphans).
TEST_CASE("worker process: group kill ends grandchildren", "[worker]") {
  const auto pidfile = temp_log("grandchild.pid");
  WorkerProcess w({"sh", "-c", "sleep 60 & echo $! > " + pidfile + "; echo started; wait"}, {},
                  temp_log("e.log"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!std::filesystem::exists(pidfile) || std::filesystem::file_size(pidfile) == 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  pid_t grandchild = std::stoi(slurp(pidfile));
  w.signal_group(SIGTERM);
  drain(w);
  CHECK(w.exit_problem() == "killed by signal 15 (SIGTERM)");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(process_alive(grandchild));
}

// A flood of output is consumed and over-long lines are cut.
TEST_CASE("worker process: flood and long lines", "[worker]") {
  WorkerProcess w({"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' 'x'; echo; echo tail"}, {},
                  temp_log("f.log"));
  auto lines = drain(w);
  REQUIRE(lines.size() >= 2);
  CHECK(lines.back() == "tail");
  for (const auto& l : lines) {
    CHECK(l.size() <= (1u << 20) + 65536);
  }
}
