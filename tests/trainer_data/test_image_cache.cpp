#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "fixtures.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/trainer/image_cache.hpp"

using namespace hpt::trainer;
using hpt::trainer::testing::TempDir;

namespace {

DecodedPools sample_pools() {
  DecodedPools pools;
  pools.source_fingerprint = "abc";
  pools.height = 2;
  pools.width = 3;
  pools.channels = 1;
  pools.class_names = {"cat", "dog"};
  pools.pools.push_back(ImagePool{"train", 2, testing::pattern(1, 3, 4, 1), {0, 1}});
  pools.pools.push_back(ImagePool{"val", 1, testing::pattern(2, 3, 2, 1), {1}});
  return pools;
}

}  // namespace

// Written pools read back identically under the same fingerprint, not under another.
TEST_CASE("image cache round-trips", "[cache]") {
  TempDir dir;
  const DecodedPools pools = sample_pools();
  write_image_cache(dir.str("sub/c.bin"), pools);
  const auto read = read_image_cache(dir.str("sub/c.bin"), "abc");
  REQUIRE(read);
  CHECK(read->class_names == pools.class_names);
  CHECK(read->height == 2);
  CHECK(read->width == 3);
  REQUIRE(read->pools.size() == 2);
  CHECK(read->pools[0].images == pools.pools[0].images);
  CHECK(read->pools[1].labels == pools.pools[1].labels);
  CHECK(read->pools[1].name == "val");
  CHECK_FALSE(read_image_cache(dir.str("sub/c.bin"), "abd"));
  CHECK_FALSE(read_image_cache(dir.str("missing.bin"), "abc"));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path() / "sub"),
                      std::filesystem::directory_iterator()) == 1);  // No temp file left.
}

// Every truncation and every single flipped byte makes the cache unreadable.
TEST_CASE("corrupt caches are rejected", "[cache]") {
  TempDir dir;
  write_image_cache(dir.str("c.bin"), sample_pools());
  std::ifstream in(dir.str("c.bin"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    std::ofstream(dir.str("t.bin"), std::ios::binary).write(bytes.data(), cut);
    REQUIRE_FALSE(read_image_cache(dir.str("t.bin"), "abc"));
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    std::ofstream(dir.str("f.bin"), std::ios::binary).write(flipped.data(), flipped.size());
    REQUIRE_FALSE(read_image_cache(dir.str("f.bin"), "abc"));
  }
}

// The fingerprint changes with a file's content size, mtime, inode or ctime (any write or
// metadata change, a file moved over another), and names a missing file.
TEST_CASE("files_fingerprint tracks size and mtime", "[cache]") {
  TempDir dir;
  testing::write_text(dir.path() / "a", "one");
  testing::write_text(dir.path() / "b", "two");
  const std::string base = files_fingerprint({dir.str("a"), dir.str("b")});
  CHECK(base.size() == 16);
  CHECK(files_fingerprint({dir.str("a"), dir.str("b")}) == base);
  CHECK(files_fingerprint({dir.str("b"), dir.str("a")}) != base);
  const auto mtime = std::filesystem::last_write_time(dir.path() / "a");
  std::filesystem::last_write_time(dir.path() / "a", mtime + std::chrono::seconds(1));
  CHECK(files_fingerprint({dir.str("a"), dir.str("b")}) != base);
  std::filesystem::last_write_time(dir.path() / "a", mtime);  // The old date, but a new ctime.
  CHECK(files_fingerprint({dir.str("a"), dir.str("b")}) != base);
  // Two files of one size and date swapped with mv (as from an archive): other inodes.
  testing::write_text(dir.path() / "c", "111");
  testing::write_text(dir.path() / "d", "222");
  const auto date = std::filesystem::last_write_time(dir.path() / "c");
  std::filesystem::last_write_time(dir.path() / "d", date);
  const std::string before = files_fingerprint({dir.str("c"), dir.str("d")});
  std::filesystem::rename(dir.path() / "c", dir.path() / "t");
  std::filesystem::rename(dir.path() / "d", dir.path() / "c");
  std::filesystem::rename(dir.path() / "t", dir.path() / "d");
  CHECK(files_fingerprint({dir.str("c"), dir.str("d")}) != before);
  testing::write_text(dir.path() / "b", "three");
  std::filesystem::last_write_time(dir.path() / "b",
                                   std::filesystem::last_write_time(dir.path() / "b"));
  CHECK(files_fingerprint({dir.str("a"), dir.str("b")}) != base);
  CHECK_THROWS_WITH(files_fingerprint({dir.str("missing")}), Catch::Contains(dir.str("missing")));
  CHECK(hash_hex("x") != hash_hex("y"));
}

// A file of the dataset that cannot be read is named as what it is: a link loop (it was said to
// be "a symbolic link to a missing file"), a dangling link, a missing file.
TEST_CASE("files_fingerprint names links that lead nowhere", "[cache]") {
  TempDir dir;
  std::filesystem::create_symlink("loop.png", dir.path() / "loop.png");
  CHECK_THROWS_WITH(files_fingerprint({dir.str("loop.png")}),
                    dir.str("loop.png") + ": a symbolic link loop");
  std::filesystem::create_symlink("gone.png", dir.path() / "dangling.png");
  CHECK_THROWS_WITH(files_fingerprint({dir.str("dangling.png")}),
                    dir.str("dangling.png") + ": a symbolic link to a missing file (gone.png)");
  CHECK_THROWS_WITH(files_fingerprint({dir.str("none.png")}),
                    "file not found: " + dir.str("none.png"));
}

// A writer killed mid-write (kill -9, out of memory) left its temporary, a decoded dataset's
// size, in the cache folder for good; the next write removes those no writer holds (AtomicFile's
// temporaries), and keeps a live writer's and other files.
TEST_CASE("write_image_cache removes the temporaries of dead writers", "[cache]") {
  TempDir dir;
  const std::string cache = dir.str("c.bin");
  const auto [dead, dead_fd] = hpt::make_temporary_beside(cache);
  ::close(dead_fd);  // Its writer's lock goes with it, as with kill -9.
  std::filesystem::last_write_time(
      dead, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(2));
  const auto [live, live_fd] = hpt::make_temporary_beside(cache);  // Held: a live writer's.
  testing::write_text(dir.path() / "d.bin.tmp.99999999", "another cache's");
  write_image_cache(cache, sample_pools());
  CHECK_FALSE(std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(dir.path() / "d.bin.tmp.99999999"));
  CHECK(read_image_cache(cache, "abc"));
  ::close(live_fd);
}
