#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "hpt/io/atomic_file.hpp"
#include "support/file_size_limit.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// Each entry of dir and its content ("<folder>" for a folder).
std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out[e.path().filename().string()] = e.is_directory() ? "<folder>" : slurp(e.path().string());
  }
  return out;
}

// The signal that ended a child running body with default signal dispositions (which then reports
// to fd `report`), or 0 when it exited; what it reported.
std::pair<int, std::string> run_child(const std::function<void(int report)>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    const rlimit no_core{0, 0};  // SIGQUIT would dump one.
    ::setrlimit(RLIMIT_CORE, &no_core);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
      std::signal(sig, SIG_DFL);  // As in hpt, not Catch2's handlers.
    }
    body(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string reported;
  char buf[64];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    reported.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return {WIFSIGNALED(status) ? WTERMSIG(status) : 0, reported};
}

// Sends sig to the whole process, as Ctrl-C or kill(1) do, and gives it time to arrive.
void signal_process(int sig) {
  ::kill(::getpid(), sig);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

void report(int fd, const std::string& text) { (void)!::write(fd, text.data(), text.size()); }

}  // namespace

// commit() replaces the target's content; nothing else is left in the folder.
TEST_CASE("AtomicFile replaces the target on commit", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("out.html")) << "old";
  write_file_atomically(dir.file("out.html"), "new content");
  CHECK(slurp(dir.file("out.html")) == "new content");
  CHECK(entries(dir.path()) == 1);
}

// Without commit() (an error while rendering), the target keeps its content and the
// temporary is removed.
TEST_CASE("AtomicFile leaves the target untouched without commit", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("out.html")) << "old";
  {
    AtomicFile f(dir.file("out.html"));
    f.write("half");
    CHECK(entries(dir.path()) == 2);
  }
  CHECK(slurp(dir.file("out.html")) == "old");
  CHECK(entries(dir.path()) == 1);
}

// A symbolic link planted where the old fixed temporary name was ("out.html.tmp") is never
// followed: the file it points to keeps its content.
TEST_CASE("AtomicFile never writes through a planted symlink", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("victim")) << "precious";
  fs::create_symlink(dir.file("victim"), dir.file("out.html.tmp"));
  write_file_atomically(dir.file("out.html"), "report");
  CHECK(slurp(dir.file("victim")) == "precious");
  CHECK(slurp(dir.file("out.html")) == "report");
}

// A stream writer (torch::save) goes through the same temporary and rename: a planted link at
// the target is replaced, not written through, and a writer that throws leaves the target.
TEST_CASE("write_stream_atomically", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("victim")) << "precious";
  fs::create_symlink(dir.file("victim"), dir.file("model.pt"));
  write_stream_atomically(dir.file("model.pt"), [](std::ostream& out) { out << "weights"; });
  CHECK(slurp(dir.file("victim")) == "precious");
  CHECK(slurp(dir.file("model.pt")) == "weights");
  CHECK_THROWS(write_stream_atomically(dir.file("model.pt"), [](std::ostream& out) {
    out << "half";
    throw std::runtime_error("failed mid-way");
  }));
  CHECK(slurp(dir.file("model.pt")) == "weights");
}

// The stream writes as it comes, small and large pieces alike; a write failing mid-way (the
// file-size limit here, a full disk alike) never fails the stream (LibTorch's writer would
// throw from a destructor), and is thrown once the writer returns, naming the target, with no
// temporary left and the old file kept.
TEST_CASE("write_stream_atomically streams and fails once, at the end", "[io]") {
  test::TempDir dir;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    expected += std::string(static_cast<size_t>(i * 37 % 5000), static_cast<char>('a' + i % 26));
    expected += std::string(i % 7 == 0 ? 70000 : 3, 'z');
  }
  const auto writer = [&](std::ostream& out) {
    for (int i = 0; i < 300; ++i) {
      out << std::string(static_cast<size_t>(i * 37 % 5000), static_cast<char>('a' + i % 26));
      out.write(std::string(i % 7 == 0 ? 70000 : 3, 'z').data(), i % 7 == 0 ? 70000 : 3);
      REQUIRE(out.good());
    }
  };
  write_stream_atomically(dir.file("big.pt"), writer);
  CHECK(slurp(dir.file("big.pt")) == expected);

  std::ofstream(dir.file("old.pt")) << "old";
  std::string error;
  {
    const hpt::test::FileSizeLimit limit(100000);  // As hpt's main: EFBIG, not SIGXFSZ.
    try {
      write_stream_atomically(dir.file("old.pt"), writer);
    } catch (const FileError& e) {
      error = e.what();
    }
  }
  CHECK(error == dir.file("old.pt") + ": cannot write: File too large");
  CHECK(slurp(dir.file("old.pt")) == "old");
  CHECK(entries(dir.path()) == 2);
}

// The new file gets 0666 & ~umask, or the mode of the file it replaces.
TEST_CASE("AtomicFile gives the usual file mode", "[io]") {
  test::TempDir dir;
  const mode_t old_mask = ::umask(022);
  write_file_atomically(dir.file("a"), "x");
  ::umask(old_mask);
  struct stat st {};
  REQUIRE(::stat(dir.file("a").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  REQUIRE(::chmod(dir.file("a").c_str(), 0600) == 0);
  write_file_atomically(dir.file("a"), "y");
  REQUIRE(::stat(dir.file("a").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

// A missing folder or a target that is a folder fails with one line naming the path.
TEST_CASE("AtomicFile names the target when it cannot write", "[io]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(write_file_atomically(dir.file("no/such/out.html"), "x"),
                    Catch::Contains("no/such/out.html: cannot create a temporary file in") &&
                        Catch::EndsWith("No such file or directory"));
  CHECK_THROWS_WITH(write_file_atomically(dir.path().string(), "x"),
                    Catch::EndsWith(": is a directory"));
  CHECK_THROWS_WITH(write_file_atomically(dir.file("sub/"), "x"),
                    Catch::EndsWith("sub/: names a folder, not a file"));
}

// A pipe or a character device is written in place, never replaced by a regular file
// (`hpt report -o /dev/null` run as root used to turn /dev/null into one); a socket is refused.
TEST_CASE("AtomicFile writes pipes and devices in place", "[io]") {
  test::TempDir dir;
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(fifo, dir.file("link.html"));
  for (const std::string& target : {fifo, dir.file("link.html")}) {
    INFO(target);
    std::string received;
    std::thread reader([&] { received = slurp(fifo); });
    write_file_atomically(target, "<html>report</html>");
    reader.join();
    CHECK(received == "<html>report</html>");
    CHECK(fs::is_fifo(fs::symlink_status(fifo)));
    CHECK(fs::is_symlink(fs::symlink_status(dir.file("link.html"))));
    CHECK(entries(dir.path()) == 2);  // No temporary left behind.
  }
  struct stat st {};
  for (const char* device : {"/dev/null", "/dev/full"}) {
    if (::stat(device, &st) != 0 || !S_ISCHR(st.st_mode)) {
      WARN(std::string("skipped: ") + device + " is not a character device here");
      continue;
    }
    INFO(device);
    if (std::string(device) == "/dev/null") {
      CHECK_NOTHROW(write_file_atomically(device, "x"));
    } else {  // Every write fails with ENOSPC.
      CHECK_THROWS_WITH(write_file_atomically(device, "x"),
                        Catch::StartsWith("/dev/full: cannot write: No space left on device"));
    }
    REQUIRE(::stat(device, &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
  }
  const std::string socket_path = dir.file("sock");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  REQUIRE(socket_path.size() < sizeof(address.sun_path));
  std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  CHECK_THROWS_WITH(write_file_atomically(socket_path, "x"),
                    Catch::EndsWith("sock: is not a regular file, a character device or a pipe"));
  ::close(fd);
}

// A file descriptor's path (/proc/self/fd/N, or a link to it as /dev/stdout is) is the
// caller's stream: written in place and appended, so `-o /dev/stdout > out.html` fills
// out.html; a rename used to replace the link (as root, /dev/stdout) and leave the stream empty.
TEST_CASE("AtomicFile writes a file descriptor's path in place", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("out.html")) << "head\n";
  const int fd = ::open(dir.file("out.html").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  fs::create_symlink(proc_path, dir.file("mystdout"));
  write_file_atomically(proc_path, "one\n");
  write_file_atomically(dir.file("mystdout"), "two\n");
  ::close(fd);
  CHECK(slurp(dir.file("out.html")) == "head\none\ntwo\n");
  CHECK(fs::is_symlink(fs::symlink_status(dir.file("mystdout"))));
  CHECK(entries(dir.path()) == 2);  // No temporary left behind.
  CHECK_THROWS_WITH(write_file_atomically("/proc/self/fd/987654", "x"),
                    "/proc/self/fd/987654: cannot open: No such file or directory");
  // Another path under /proc names a file like any other: replaced, or made (it was appended
  // to, and a new one could not be made).
  const std::string via_proc = fmt::format("/proc/{}/root{}", ::getpid(), dir.file("out.html"));
  write_file_atomically(via_proc, "new\n");
  CHECK(slurp(dir.file("out.html")) == "new\n");
  write_file_atomically("/proc/self/root" + dir.file("made.html"), "made\n");
  CHECK(slurp(dir.file("made.html")) == "made\n");
  CHECK(entries(dir.path()) == 3);
}

// same_file follows links and compares device and inode.
TEST_CASE("same_file compares files, not names", "[io]") {
  test::TempDir dir;
  std::ofstream(dir.file("db")) << "x";
  std::ofstream(dir.file("other")) << "x";
  fs::create_symlink(dir.file("db"), dir.file("link"));
  fs::create_hard_link(dir.file("db"), dir.file("hard"));
  CHECK(same_file(dir.file("db"), dir.file("link")));
  CHECK(same_file(dir.file("db"), dir.file("hard")));
  CHECK(same_file(dir.file("db"), dir.path().string() + "/./db"));
  CHECK_FALSE(same_file(dir.file("db"), dir.file("other")));
  CHECK_FALSE(same_file(dir.file("db"), dir.file("missing")));
}

// A signal sent to the process while a SignalDeferral lives acts when it ends, even though
// another thread (LibTorch's pools in hpt-train) does not block it; dispositions come back.
TEST_CASE("SignalDeferral defers process signals until it ends", "[io][signals]") {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    INFO(sig);
    const auto [ended_by, reported] = run_child([sig](int fd) {
      std::thread other([] { std::this_thread::sleep_for(std::chrono::seconds(2)); });
      other.detach();
      {
        SignalDeferral deferral;
        signal_process(sig);
        report(fd, "alive");
      }
      report(fd, " survived");
    });
    CHECK(reported == "alive");
    CHECK(ended_by == sig);
  }
  const auto [ended_after_nesting, nested_report] = run_child([](int fd) {
    {
      SignalDeferral outer;
      { SignalDeferral inner; }
      signal_process(SIGTERM);
      report(fd, "alive");
    }
    struct sigaction action {};
    ::sigaction(SIGTERM, nullptr, &action);
    report(fd, action.sa_handler == SIG_DFL ? " default" : " changed");
    signal_process(SIGTERM);
  });
  CHECK(nested_report == "alive");
  CHECK(ended_after_nesting == SIGTERM);
}

// Ctrl-C while an AtomicFile is written ends the process once the file is in place: the
// target is complete and no temporary is left (it used to leave ".out.html.tmp-XXXXXX").
TEST_CASE("AtomicFile defers signals until the file is in place", "[io][signals]") {
  test::TempDir dir;
  const std::string target = dir.file("out.html");
  const auto [ended_by, reported] = run_child([&](int fd) {
    AtomicFile file(target);
    file.write("first half, ");
    signal_process(SIGINT);
    file.write("second half");
    file.commit();
    report(fd, "committed");
  });
  CHECK(ended_by == SIGINT);
  CHECK(reported.empty());
  CHECK(contents(dir.path()) ==
        std::map<std::string, std::string>{{"out.html", "first half, second half"}});
}

// commit() swaps the whole set in: the new files replace the earlier set, an earlier file the
// new set lacks goes, entries outside the set stay, and no temporary folder is left.
TEST_CASE("AtomicFileSet replaces a set of files as a whole", "[io][file_set]") {
  test::TempDir dir;
  for (const char* name : {"model.json", "head.pt", "cnn.pt"}) {
    std::ofstream(dir.file(name)) << "old";
  }
  std::ofstream(dir.file("notes.txt")) << "mine";
  fs::create_directory(dir.file("logs"));
  fs::create_symlink(dir.file("nowhere"), dir.file("metrics.json"));  // A planted link.
  {
    AtomicFileSet set(dir.path().string(), "model.json",
                      {"model.json", "head.pt", "cnn.pt", "extractor.pt", "metrics.json"});
    CHECK(fs::path(set.staging()).parent_path() == dir.path());
    set.write([](const std::string& folder) {
      for (const char* name : {"model.json", "head.pt", "extractor.pt", "metrics.json"}) {
        write_file_atomically(folder + "/" + name, std::string("new ") + name);
      }
    });
    CHECK(slurp(dir.file("head.pt")) == "old");  // Nothing changes before commit().
    set.commit();
    CHECK_THROWS_WITH(set.commit(), Catch::EndsWith("committed twice"));
  }
  CHECK(contents(dir.path()) ==
        std::map<std::string, std::string>{{"model.json", "new model.json"},
                                           {"head.pt", "new head.pt"},
                                           {"extractor.pt", "new extractor.pt"},
                                           {"metrics.json", "new metrics.json"},
                                           {"notes.txt", "mine"},
                                           {"logs", "<folder>"}});
  CHECK_FALSE(fs::is_symlink(dir.file("metrics.json")));
}

// A set that fails before commit() (a full disk while writing cnn.pt) leaves the earlier set
// as it was and no temporary folder; the error names the file in dir, not the staged one.
TEST_CASE("AtomicFileSet leaves the earlier set whole without commit", "[io][file_set]") {
  test::TempDir dir;
  for (const char* name : {"model.json", "head.pt", "cnn.pt"}) {
    std::ofstream(dir.file(name)) << "old " << name;
  }
  const auto before = contents(dir.path());
  {
    AtomicFileSet set(dir.path().string(), "model.json", {"model.json", "head.pt", "cnn.pt"});
    CHECK_THROWS_WITH(set.write([](const std::string& folder) {
      write_file_atomically(folder + "/head.pt", "new head");
      write_file_atomically(folder + "/no/cnn.pt", "new cnn");
    }),
                      dir.file("no/cnn.pt") + ": cannot create a temporary file in '" +
                          dir.file("no") + "': No such file or directory");
  }
  CHECK(contents(dir.path()) == before);
}

// A rename that fails in commit() (here: the earlier head.pt's path in the temporary folder is
// too long) moves back what had moved: the earlier set is whole, no temporary folder is left.
TEST_CASE("AtomicFileSet moves the earlier set back when commit fails", "[io][file_set]") {
  test::TempDir root;
  fs::path dir = root.path();  // 3,900 characters: dir/<194> fits in PATH_MAX, ...
  while (dir.string().size() + 201 < 3900) {
    dir /= std::string(200, 'd');
  }
  dir /= std::string(3900 - dir.string().size() - 1, 'e');
  fs::create_directories(dir);
  const std::string long_name(194, 'h');  // ... dir/.old.tmp-XXXXXX/<194> does not.
  std::ofstream((dir / "model.json").string()) << "old model";
  std::ofstream((dir / long_name).string()) << "old head";
  const auto before = contents(dir);
  {
    AtomicFileSet set(dir.string(), "model.json", {"model.json", long_name});
    write_file_atomically(set.staging() + "/model.json", "new model");
    CHECK_THROWS_WITH(set.commit(), Catch::Contains("cannot move '" + long_name + "' into place"));
  }
  CHECK(contents(dir) == before);
}

// Signals wait while a set is staged and swapped in: Ctrl-C between two of its files ends the
// process after the commit, with the whole new set in place and no temporary folder.
TEST_CASE("AtomicFileSet defers signals until the set is in place", "[io][file_set][signals]") {
  test::TempDir dir;
  std::ofstream(dir.file("model.json")) << "old";
  std::ofstream(dir.file("head.pt")) << "old";
  const auto [ended_by, reported] = run_child([&](int fd) {
    AtomicFileSet set(dir.path().string(), "model.json", {"model.json", "head.pt"});
    write_file_atomically(set.staging() + "/head.pt", "new");
    signal_process(SIGTERM);
    write_file_atomically(set.staging() + "/model.json", "new");
    set.commit();
    report(fd, "committed");
  });
  CHECK(ended_by == SIGTERM);
  CHECK(reported.empty());
  CHECK(contents(dir.path()) ==
        std::map<std::string, std::string>{{"model.json", "new"}, {"head.pt", "new"}});
}

// Two writers committing sets into one folder at once (a job retried while the first still
// runs): one set replaces the other whole, both commits succeed. Their renames interleaved:
// both said success and the folder held one writer's model.json over the other's files, or
// a commit failed moving a file the other had just moved aside (helper audit: 9 mixes in 1500).
namespace {

// C++20's std::barrier, enough for a test: arrive_and_wait() returns once `count` threads
// have called it, again and again.
class Barrier {
 public:
  explicit Barrier(int count) : m_count(count) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(m_mutex);
    const long generation = m_generation;
    if (++m_arrived == m_count) {
      m_arrived = 0;
      ++m_generation;
      m_all.notify_all();
      return;
    }
    m_all.wait(lock, [&] { return m_generation != generation; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_all;
  int m_count;
  int m_arrived = 0;
  long m_generation = 0;
};

}  // namespace

TEST_CASE("AtomicFileSet commits of two writers to one folder never mix", "[io][file_set]") {
  test::TempDir dir;
  const std::vector<std::string> names = {"a.txt", "b.txt", "c.txt", "model.json"};
  constexpr int k_rounds = 150;
  Barrier step(3);  // The two writers and this thread, which checks each round's result.
  std::atomic<int> failures{0};
  const auto writer = [&](int id) {
    for (int round = 0; round < k_rounds; ++round) {
      std::optional<AtomicFileSet> set;
      try {
        set.emplace(dir.path().string(), "model.json", names);
        set->write([&](const std::string& folder) {
          for (const auto& name : names) {
            write_file_atomically(folder + "/" + name, std::to_string(id));
          }
        });
      } catch (const std::exception&) {
        ++failures;
      }
      step.arrive_and_wait();  // Both staged: commit together.
      try {
        if (set) {
          set->commit();
        }
      } catch (const std::exception&) {
        ++failures;
      }
      set.reset();
      step.arrive_and_wait();  // Both committed: checked.
      step.arrive_and_wait();
    }
  };
  std::thread first(writer, 0);
  std::thread second(writer, 1);
  int mixes = 0;
  for (int round = 0; round < k_rounds; ++round) {
    step.arrive_and_wait();
    step.arrive_and_wait();
    const std::string key = slurp(dir.file("model.json"));
    for (const auto& name : names) {
      mixes += slurp(dir.file(name)) == key ? 0 : 1;
    }
    step.arrive_and_wait();
  }
  first.join();
  second.join();
  CHECK(failures == 0);
  CHECK(mixes == 0);
  CHECK(entries(dir.path()) == static_cast<int>(names.size()));  // No temporary left.
}

// A staging folder left by a writer killed with -9 goes with the next set written to dir; a
// live writer's (its pid here, or its folder's lock held: another PID namespace), another
// host's, one under a minute old and an earlier set moved aside (.old) stay.
TEST_CASE("AtomicFileSet removes the staging folders of dead writers", "[io][file_set]") {
  test::TempDir dir;
  const pid_t dead = ::fork();
  if (dead == 0) {
    ::_exit(0);
  }
  ::waitpid(dead, nullptr, 0);
  const std::string tag = [&] {  // This host's part of a staging name: .new.tmp-<host>-<pid>-…
    AtomicFileSet first(dir.path().string(), "model.json", {"model.json"});
    const std::string name = fs::path(first.staging()).filename().string();
    const std::string mine = fmt::format("-{}-", ::getpid());
    REQUIRE(name.rfind(".new.tmp-", 0) == 0);
    REQUIRE(name.find(mine) != std::string::npos);
    return name.substr(9, name.find(mine) - 9);
  }();
  const std::string left = fmt::format(".new.tmp-{}-{}-AbC123", tag, dead);
  const std::string live = fmt::format(".new.tmp-{}-{}-AbC123", tag, ::getppid());
  const std::string other_host = fmt::format(".new.tmp-{}x-{}-AbC123", tag, dead);
  const std::string moved_aside = fmt::format(".old.tmp-{}-{}-AbC123", tag, dead);
  const std::string held = fmt::format(".new.tmp-{}-{}-HeLd12", tag, dead);
  const std::string young = fmt::format(".new.tmp-{}-{}-YoUng1", tag, dead);
  for (const auto& name : {left, live, other_host, moved_aside, held, young}) {
    fs::create_directory(dir.file(name));
    std::ofstream(dir.file(name + "/cnn.pt")) << "partial";
    if (name != young) {
      fs::last_write_time(dir.file(name),
                          fs::file_time_type::clock::now() - std::chrono::minutes(2));
    }
  }
  // A live writer whose pid means nothing here (another PID namespace) holds its folder's lock.
  const int held_fd = ::open(dir.file(held).c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(::flock(held_fd, LOCK_SH) == 0);
  AtomicFileSet set(dir.path().string(), "model.json", {"model.json"});
  ::close(held_fd);
  CHECK(fs::exists(dir.file(held)));
  CHECK(fs::exists(dir.file(young)));
  CHECK(fs::path(set.staging())
            .filename()
            .string()
            .rfind(fmt::format(".new.tmp-{}-{}-", tag, ::getpid()), 0) == 0);
  CHECK_FALSE(fs::exists(dir.file(left)));
  CHECK(fs::exists(dir.file(live)));
  CHECK(fs::exists(dir.file(other_host)));
  CHECK(fs::exists(dir.file(moved_aside)));
}

// A temporary beside a file is named for its writer (.<name>.tmp-<host>-<pid>-…), cut so that a
// suffix such as SQLite's -journal still fits NAME_MAX, and holds its writer's lock while its
// descriptor is open. The ones no writer holds (kill -9; a temporary database with its -wal: as
// large as the study) go with the next one once a minute old; never one whose lock is held (a
// live writer, whatever its host or PID namespace), a young one, a folder (AtomicFileSet's
// .old.tmp-… of a target named "old"), or a name of another shape. They stayed for ever.
TEST_CASE("make_temporary_beside removes abandoned temporaries", "[io]") {
  test::TempDir dir;
  const std::string target = dir.file("c.db");
  const auto [first, first_fd] = make_temporary_beside(target);
  const std::string name = fs::path(first).filename().string();
  const std::string mine = fmt::format("-{}-", ::getpid());
  REQUIRE(name.rfind(".c.db.tmp-", 0) == 0);
  REQUIRE(name.find(mine) != std::string::npos);
  const std::string host = name.substr(10, name.find(mine) - 10);
  const auto made = [&](const std::string& n, bool old) {
    std::ofstream(dir.file(n)) << "partial";
    if (old) {
      const auto when = fs::file_time_type::clock::now() - std::chrono::minutes(2);
      fs::last_write_time(dir.file(n), when);
    }
    return n;
  };
  const std::string dead = made(".c.db.tmp-" + host + "-99999999-AbC123", true);
  made(dead + "-wal", true);
  made(dead + "-shm", true);
  // A temporary takes its target's mode: a read-only target's is read-only, and still goes.
  fs::permissions(dir.file(dead), fs::perms::owner_read | fs::perms::group_read);
  const std::string held = made(".c.db.tmp-other_host-7-XyZ789", true);
  const int held_fd = ::open(dir.file(held).c_str(), O_RDWR);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_start = off_t{1} << 62;
  lock.l_len = 1;
  REQUIRE(::fcntl(held_fd, F_OFD_SETLK, &lock) == 0);  // A live writer elsewhere.
  const std::string young = made(".c.db.tmp-" + host + "-99999998-AbC123", false);
  const std::string odd = made(".c.db.tmp-vm-99999999-y.tmp-vm-1-AbC123", true);
  fs::create_directory(dir.file(".c.db.tmp-" + host + "-99999997-AbC123"));
  fs::last_write_time(dir.file(".c.db.tmp-" + host + "-99999997-AbC123"),
                      fs::file_time_type::clock::now() - std::chrono::minutes(2));
  fs::last_write_time(first, fs::file_time_type::clock::now() - std::chrono::minutes(2));
  const auto [second, second_fd] = make_temporary_beside(target);
  ::close(second_fd);
  CHECK(second != first);
  CHECK(fs::exists(first));  // Ours: its descriptor holds the lock.
  CHECK_FALSE(fs::exists(dir.file(dead)));
  CHECK_FALSE(fs::exists(dir.file(dead + "-wal")));
  CHECK_FALSE(fs::exists(dir.file(dead + "-shm")));
  CHECK(fs::exists(dir.file(held)));
  CHECK(fs::exists(dir.file(young)));
  CHECK(fs::exists(dir.file(odd)));
  CHECK(fs::is_directory(dir.file(".c.db.tmp-" + host + "-99999997-AbC123")));
  // Once its writer closes it, the first is abandoned too.
  ::close(first_fd);
  ::close(held_fd);
  const auto [third, third_fd] = make_temporary_beside(target);
  ::close(third_fd);
  CHECK_FALSE(fs::exists(first));
  CHECK_FALSE(fs::exists(dir.file(held)));
  // A 255-byte name: the temporary and its -journal still fit.
  const auto [long_tmp, long_fd] = make_temporary_beside(dir.file(std::string(255, 'n')));
  ::close(long_fd);
  CHECK(fs::path(long_tmp).filename().string().size() + strlen("-journal") <= 255);
}
