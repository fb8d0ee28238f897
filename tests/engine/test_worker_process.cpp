#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hpt/engine/proc_stat.hpp"
#include "hpt/engine/subreaper.hpp"
#include "hpt/engine/worker_process.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// A fresh path name in this test process's own folder.
std::string temp_log(const std::string& name) {
  static hpt::test::TempDir dir("worker");
  std::filesystem::remove(dir.file(name));
  return dir.file(name);
}

// Runs the worker to the end (bounded), returning its stdout lines.
std::vector<std::string> drain(WorkerProcess& w, double max_seconds = 10,
                               std::vector<bool>* truncated = nullptr) {
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_seconds);
  while (!w.finished() && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> pfds;
    for (int fd : w.fds()) {
      pfds.push_back({fd, POLLIN, 0});
    }
    ::poll(pfds.data(), pfds.size(), 50);
    for (auto& l : w.read_available()) {
      lines.push_back(l.text);
      if (truncated) {
        truncated->push_back(l.truncated);
      }
    }
  }
  return lines;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Open descriptors of this process.
int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (const dirent* e = ::readdir(d)) {
    n += e->d_name[0] != '.';
  }
  ::closedir(d);
  return n - 1;  // The DIR's own descriptor.
}

std::string make_script(const std::string& name, const std::string& text, mode_t mode) {
  const auto path = temp_log(name);
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
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
  CHECK(w.finished());  // Flushes the log.
  CHECK_THAT(slurp(log), Catch::Contains("oops") && Catch::Contains("not protocol"));
  CHECK(slurp(log).find("one") == std::string::npos);
  CHECK(w.has_log());
}

// A re-run trial's log keeps the earlier attempt's lines, below them a line that says where
// the new attempt starts; a first attempt's log has no such line.
TEST_CASE("worker process: a re-run appends below a marked line", "[worker]") {
  const auto log = temp_log("rerun.log");
  std::filesystem::remove(log);
  {
    WorkerProcess w({"sh", "-c", "echo first >&2"}, {}, log);
    drain(w);
    CHECK(w.finished());
  }
  CHECK(slurp(log) == "first\n");
  WorkerProcess w({"sh", "-c", "echo second >&2"}, {}, log);
  drain(w);
  CHECK(w.finished());
  const std::string text = slurp(log);
  const auto marker = text.find("=== hpt: this trial started again at ");
  REQUIRE(marker != std::string::npos);
  CHECK(text.rfind("first\n", 0) == 0);
  CHECK(text.find("second\n") > marker);
  CHECK_THAT(text, Catch::EndsWith("earlier attempt ===\nsecond\n"));
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

// A program that cannot run is a StartError naming it and why.
TEST_CASE("worker process: missing program", "[worker]") {
  CHECK_THROWS_WITH(WorkerProcess({"hpt-no-such-program"}, {}, temp_log("d.log")),
                    Catch::Contains("cannot start 'hpt-no-such-program': not found in PATH"));
  CHECK_THROWS_WITH(WorkerProcess({"/nonexistent/prog"}, {}, temp_log("d.log")),
                    Catch::Contains("cannot start '/nonexistent/prog': No such file"));
  const auto no_x = make_script("no_x.sh", "#!/bin/sh\necho hi\n", 0644);
  CHECK_THROWS_WITH(WorkerProcess({no_x}, {}, temp_log("d.log")),
                    Catch::Contains("not executable"));
  const auto bad_interp = make_script("bad_interp.py", "#!/usr/bin/pythn3\nprint(1)\n", 0755);
  CHECK_THROWS_WITH(WorkerProcess({bad_interp}, {}, temp_log("d.log")),
                    Catch::Contains("'/usr/bin/pythn3', does not exist"));
  const auto bad_env = make_script("bad_env.py", "#!/usr/bin/env pythn3\nprint(1)\n", 0755);
  CHECK_THROWS_WITH(resolve_executable(bad_env), Catch::Contains("'pythn3' on its #! line"));
  // Windows line endings: the kernel looks for "/bin/sh\r" (exec said "No such file").
  for (const char* text : {"#!/bin/sh\r\necho 1\r\n", "#!/usr/bin/env python3\r\nprint(1)\r\n"}) {
    const auto crlf = make_script("crlf.sh", text, 0755);
    CHECK_THROWS_WITH(resolve_executable(crlf),
                      Catch::Contains("its #! line ends with a carriage return (Windows line "
                                      "endings)"));
  }
  // No #! line and not a program: exec's "Exec format error" says what is missing.
  const auto no_shebang = make_script("no_shebang.sh", "echo '{\"value\": 1}'\n", 0755);
  CHECK_THROWS_WITH(WorkerProcess({no_shebang}, {}, temp_log("d.log")),
                    Catch::Contains("not a program, and a script needs a first line naming its "
                                    "interpreter, such as #!/bin/sh"));
  CHECK_THROWS_WITH(resolve_executable("/tmp"), Catch::Contains("is a directory"));
  CHECK_THROWS_AS(resolve_executable(""), StartError);
  CHECK(resolve_executable("sh").find("/sh") != std::string::npos);
}

// Failed starts of every kind leave no descriptor and no child behind.
TEST_CASE("worker process: failed starts leak nothing", "[worker]") {
  const auto no_x = make_script("leak_no_x.sh", "#!/bin/sh\n", 0644);
  const int before = open_fds();
  for (int i = 0; i < 50; ++i) {
    CHECK_THROWS_AS(WorkerProcess({"/nonexistent/prog"}, {}, temp_log("g.log")), StartError);
    CHECK_THROWS_AS(WorkerProcess({no_x}, {}, temp_log("g.log")), StartError);
  }
  // Over the kernel's limit for one argument: exec fails (E2BIG) after the fork.
  // The message names the string and the limit on one string.
  CHECK_THROWS_WITH(
      WorkerProcess({"sh", "-c", "true", std::string(300000, 'a')}, {}, temp_log("g.log")),
      Catch::EndsWith("argument list too long: argument 3 is 300000 bytes; Linux passes at most "
                      "131071 bytes in one"));
  CHECK_THROWS_WITH(
      WorkerProcess({"true"}, {{"HPT_PARAMS", std::string(140000, 'p')}}, temp_log("g.log")),
      Catch::EndsWith("environment variable HPT_PARAMS is 140000 bytes; Linux passes at most "
                      "131071 bytes in one"));
  // Out of descriptors (EMFILE): refused, and nothing half-made stays open.
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit low = old;
  low.rlim_cur = 256;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<int> filler;  // Every descriptor but three taken: the second pipe fails.
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
    filler.push_back(fd);
  }
  for (int i = 0; i < 3 && !filler.empty(); ++i) {
    ::close(filler.back());
    filler.pop_back();
  }
  bool threw = false;
  try {
    WorkerProcess w({"sh", "-c", "true"}, {}, temp_log("g.log"));
  } catch (const StartError& e) {
    threw = std::string(e.what()).find("Too many open files") != std::string::npos;
  }
  for (int fd : filler) {
    ::close(fd);
  }
  ::setrlimit(RLIMIT_NOFILE, &old);
  CHECK(threw);
  CHECK(open_fds() == before);
  CHECK(child_processes().empty());
}

// Finished workers leave no descriptor; a worker inherits only stdin/stdout/stderr.
TEST_CASE("worker process: descriptors", "[worker]") {
  const int before = open_fds();
  for (int i = 0; i < 20; ++i) {
    WorkerProcess w({"sh", "-c", "echo $$"}, {}, temp_log("h.log"));
    drain(w);
  }
  CHECK(open_fds() == before);
  const int leaky = ::open("/dev/null", O_RDONLY);  // Not close-on-exec.
  REQUIRE(leaky > 2);
  WorkerProcess w({"sh", "-c", "ls /proc/$$/fd"}, {}, temp_log("h.log"));
  auto lines = drain(w);
  ::close(leaky);
  CHECK(std::find(lines.begin(), lines.end(), std::to_string(leaky)) == lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "1") != lines.end());
}

// A worker starts with the signal dispositions of a shell: what hpt itself ignores (SIGPIPE,
// SIGXFSZ, so that a full pipe or file-size limit is an error to it) is default again there,
// and a handler hpt installs is too; what hpt was started with ignored stays ignored.
TEST_CASE("worker process: signal dispositions", "[worker]") {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction saved[3]{};
  const int sigs[3] = {SIGPIPE, SIGXFSZ, SIGUSR2};
  for (int i = 0; i < 3; ++i) {
    ::sigaction(sigs[i], &ignore, &saved[i]);
  }
  WorkerProcess w({"sh", "-c", "grep SigIgn /proc/self/status"}, {}, temp_log("sig.log"));
  auto lines = drain(w);
  for (int i = 0; i < 3; ++i) {
    ::sigaction(sigs[i], &saved[i], nullptr);
  }
  REQUIRE(lines.size() == 1);
  const uint64_t ignored =
      std::stoull(lines[0].substr(lines[0].find_first_not_of("SigIgn:\t")), nullptr, 16);
  const auto bit = [](int sig) { return uint64_t{1} << (sig - 1); };
  CHECK((ignored & bit(SIGPIPE)) == 0);
  CHECK((ignored & bit(SIGXFSZ)) == 0);
  CHECK((ignored & bit(SIGUSR2)) != 0);  // As hpt was started: a user's nohup-like choice.
}

// The log is never written through a symbolic link planted at its path.
TEST_CASE("worker process: planted log symlink", "[worker]") {
  const auto target = temp_log("victim.txt");
  std::ofstream(target) << "precious\n";
  const auto log = temp_log("planted.log");
  std::filesystem::create_symlink(target, log);
  WorkerProcess w({"sh", "-c", "echo to-stderr >&2"}, {}, log);
  drain(w);
  CHECK(slurp(target) == "precious\n");
  CHECK_THAT(w.log_problem(), Catch::Contains("symbolic link"));
  CHECK_FALSE(w.has_log());
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

// A flood of output is consumed; an over-long line is cut once, flagged, its rest dropped.
TEST_CASE("worker process: flood and long lines", "[worker]") {
  WorkerProcess w(
      {"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' 'x'; echo '{\"value\": 1}'; echo tail"},
      {}, temp_log("f.log"));
  std::vector<bool> truncated;
  auto lines = drain(w, 10, &truncated);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].size() == (1u << 20));
  CHECK(truncated[0]);
  CHECK(lines[1] == "tail");
  CHECK_FALSE(truncated[1]);
}

// What a program said last: its last line that is not blank, without leading blanks.
TEST_CASE("last_nonblank_line", "[worker]") {
  CHECK(hpt::last_nonblank_line("loading\n  hpt: error: x: y  \n\n \r\n") == "hpt: error: x: y");
  CHECK(hpt::last_nonblank_line("one line") == "one line");
  CHECK(hpt::last_nonblank_line(" \n\t\n").empty());
  CHECK(hpt::last_nonblank_line("").empty());
}
