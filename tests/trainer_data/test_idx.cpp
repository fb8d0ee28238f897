#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "hpt/trainer/idx.hpp"

using namespace hpt::trainer;
using hpt::trainer::testing::TempDir;

// A gzipped and a raw IDX file read back to the same dims and bytes.
TEST_CASE("read_idx round-trips gzipped and raw files", "[idx]") {
  TempDir dir;
  std::vector<uint8_t> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  for (bool gzip : {true, false}) {
    const auto path = dir.path() / (gzip ? "a.gz" : "a");
    testing::write_idx(path, {2, 3, 4}, data, gzip);
    const IdxArray array = read_idx(path.string());
    CHECK(array.dims == std::vector<int64_t>{2, 3, 4});
    CHECK(array.data == data);
  }
}

// find_idx_file prefers the raw name, falls back to .gz, and returns "" when neither exists.
TEST_CASE("find_idx_file picks the existing variant", "[idx]") {
  TempDir dir;
  testing::write_idx(dir.path() / "x.gz", {1}, {5}, true);
  CHECK(find_idx_file(dir.str("x")) == dir.str("x.gz"));
  testing::write_idx(dir.path() / "x", {1}, {5}, false);
  CHECK(find_idx_file(dir.str("x")) == dir.str("x"));
  CHECK(find_idx_file(dir.str("y")).empty());
}

// Bad magic, truncated data and a missing file are errors naming the path.
TEST_CASE("read_idx rejects malformed files naming them", "[idx]") {
  TempDir dir;
  testing::write_bytes(dir.path() / "magic", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0}, false);
  CHECK_THROWS_WITH(read_idx(dir.str("magic")),
                    Catch::Contains(dir.str("magic")) && Catch::Contains("0000"));
  testing::write_idx(dir.path() / "short.gz", {10, 2}, std::vector<uint8_t>(15, 1), true);
  CHECK_THROWS_WITH(read_idx(dir.str("short.gz")),
                    Catch::Contains(dir.str("short.gz")) && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_idx(dir.str("none")), Catch::Contains(dir.str("none")));
}
