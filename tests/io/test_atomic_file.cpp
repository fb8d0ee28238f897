#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "hpt/io/atomic_file.hpp"
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
