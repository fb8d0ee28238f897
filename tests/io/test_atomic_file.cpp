#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

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
