#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "hpt/io/regular_file.hpp"
#include "support/temp_dir.hpp"

using hpt::FileError;
using hpt::read_regular_file;

// A regular file within the limit is read whole, byte for byte.
TEST_CASE("read_regular_file reads a small file", "[io]") {
  hpt::test::TempDir dir;
  std::ofstream(dir.file("a.yaml"), std::ios::binary) << std::string("a: 1\n\0b", 7);
  CHECK(read_regular_file(dir.file("a.yaml"), 100) == std::string("a: 1\n\0b", 7));
}

// With folders to keep within, a file reached through a link out of them is refused.
TEST_CASE("read_regular_file within folders", "[io]") {
  hpt::test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "in");
  std::filesystem::create_directories(dir.path() / "out");
  std::ofstream(dir.file("in/a.json")) << "{}";
  std::ofstream(dir.file("out/a.json")) << "secret";
  std::filesystem::create_directory_symlink(dir.path() / "out", dir.path() / "in" / "link");
  const std::vector<std::string> in = {dir.file("in")};
  CHECK(read_regular_file(dir.file("in/a.json"), 100, in) == "{}");
  CHECK_THROWS_WITH(read_regular_file(dir.file("in/link/a.json"), 100, in),
                    dir.file("in/link/a.json") + ": opened outside " + dir.file("in"));
  CHECK(read_regular_file(dir.file("in/link/a.json"), 100) == "secret");  // No folders: any.
}

// A file over the limit is refused by its size, before reading it.
TEST_CASE("read_regular_file refuses a file over the limit", "[io]") {
  hpt::test::TempDir dir;
  std::ofstream(dir.file("big")) << std::string(101, 'x');
  CHECK_THROWS_WITH(read_regular_file(dir.file("big"), 100),
                    Catch::EndsWith("big: larger than the limit of 100 bytes"));
}

// /dev/zero (endless), a directory and a FIFO without a writer are refused at once, never read.
TEST_CASE("read_regular_file refuses devices, folders and FIFOs without blocking", "[io]") {
  hpt::test::TempDir dir;
  CHECK_THROWS_WITH(read_regular_file("/dev/zero", 1 << 20),
                    "/dev/zero: not a regular file (a character device)");
  CHECK_THROWS_WITH(read_regular_file(dir.path().string(), 1 << 20),
                    Catch::EndsWith(": not a regular file (a directory)"));
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_regular_file(dir.file("fifo"), 1 << 20),
                    Catch::EndsWith("fifo: not a regular file (a FIFO)"));
}

// A missing file names the path and the system's reason.
TEST_CASE("read_regular_file names a missing file", "[io]") {
  CHECK_THROWS_AS(read_regular_file("/nonexistent/x.yaml", 10), FileError);
  CHECK_THROWS_WITH(read_regular_file("/nonexistent/x.yaml", 10),
                    "/nonexistent/x.yaml: cannot open: No such file or directory");
}

// require_regular_file makes the same checks without opening anything (for files a library
// opens itself): a FIFO, a device, a missing file or one over the limit throw; a file passes.
TEST_CASE("require_regular_file", "[io]") {
  hpt::test::TempDir dir;
  std::ofstream(dir.file("w.pt")) << "weights";
  CHECK_NOTHROW(hpt::require_regular_file(dir.file("w.pt")));
  CHECK_THROWS_WITH(hpt::require_regular_file(dir.file("w.pt"), 3),
                    Catch::EndsWith("w.pt: larger than the limit of 3 bytes"));
  REQUIRE(::mkfifo(dir.file("fifo.pt").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(hpt::require_regular_file(dir.file("fifo.pt")),
                    Catch::EndsWith("fifo.pt: not a regular file (a FIFO)"));
  CHECK_THROWS_WITH(hpt::require_regular_file("/dev/zero"),
                    "/dev/zero: not a regular file (a character device)");
  CHECK_THROWS_WITH(hpt::require_regular_file(dir.file("none.pt")),
                    Catch::EndsWith("none.pt: cannot open: No such file or directory"));
}
