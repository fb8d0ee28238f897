#include <sys/stat.h>

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

// find_idx_file prefers the canonical raw name, then .gz, then the one other spelling; ""
// when there is none; several candidates are an error naming them.
TEST_CASE("find_idx_file picks the existing variant", "[idx]") {
  TempDir dir;
  CHECK(find_idx_file(dir.str(), "train", "images").empty());
  testing::write_idx(dir.path() / "train-images.idx3-ubyte", {1}, {5}, false);
  CHECK(find_idx_file(dir.str(), "train", "images") == dir.str("train-images.idx3-ubyte"));
  testing::write_idx(dir.path() / "train-images-idx3-ubyte.gz", {1}, {5}, true);
  CHECK(find_idx_file(dir.str(), "train", "images") == dir.str("train-images-idx3-ubyte.gz"));
  testing::write_idx(dir.path() / "train-images-idx3-ubyte", {1}, {5}, false);
  CHECK(find_idx_file(dir.str(), "train", "images") == dir.str("train-images-idx3-ubyte"));
  CHECK(find_idx_file(dir.str(), "train", "labels").empty());
  CHECK(idx_file_name("t10k", "labels") == "t10k-labels-idx1-ubyte");
  // Something else at the name (a FIFO, a folder) is named as such, not "not found", and the
  // FIFO is never opened.
  REQUIRE(::mkfifo(dir.str("train-labels-idx1-ubyte").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(find_idx_file(dir.str(), "train", "labels"),
                    dir.str("train-labels-idx1-ubyte") + ": not a regular file (a FIFO)");
  std::filesystem::create_directory(dir.path() / "t10k-labels-idx1-ubyte.gz");
  CHECK_THROWS_WITH(find_idx_file(dir.str(), "t10k", "labels"),
                    dir.str("t10k-labels-idx1-ubyte.gz") + ": not a regular file (a directory)");

  TempDir other;
  testing::write_idx(other.path() / "EMNIST-Letters-Test-Labels-IDX1-UBYTE.gz", {1}, {5}, true);
  CHECK(find_idx_file(other.str(), "t10k", "labels") ==
        other.str("EMNIST-Letters-Test-Labels-IDX1-UBYTE.gz"));
  CHECK(find_idx_file(other.str(), "train", "labels").empty());
  CHECK(find_idx_file(other.str(), "t10k", "images").empty());
  testing::write_idx(other.path() / "emnist-digits-test-labels-idx1-ubyte.gz", {1}, {5}, true);
  CHECK_THROWS_WITH(find_idx_file(other.str(), "t10k", "labels"),
                    Catch::Contains("2 IDX files could be the t10k labels") &&
                        Catch::Contains(other.str("emnist-digits-test-labels-idx1-ubyte.gz")));
  testing::write_text(other.path() / "not-train-images-idx3-ubyte.txt", "x");
  testing::write_text(other.path() / "._EMNIST-Letters-Test-Labels-IDX1-UBYTE.gz", "fork");
  CHECK(find_idx_file(other.str(), "train", "images").empty());
}

// Kaggle's MNIST ("archive/") holds each file twice: "train-images.idx3-ubyte", and a folder
// "train-images-idx3-ubyte/" holding "train-images-idx3-ubyte"; the folder's file is read (the
// folder was refused as "not a regular file"). A link loop beside the files is passed over.
TEST_CASE("find_idx_file reads Kaggle's folders named as the files", "[idx]") {
  TempDir dir;
  testing::write_idx(dir.path() / "train-images-idx3-ubyte" / "train-images-idx3-ubyte", {1}, {5},
                     false);
  CHECK(find_idx_file(dir.str(), "train", "images") ==
        dir.str("train-images-idx3-ubyte/train-images-idx3-ubyte"));
  testing::write_idx(dir.path() / "train-images.idx3-ubyte", {1}, {5}, false);
  CHECK(find_idx_file(dir.str(), "train", "images") ==
        dir.str("train-images-idx3-ubyte/train-images-idx3-ubyte"));
  // A folder of the name holding something else is still named as a folder.
  testing::write_text(dir.path() / "t10k-images-idx3-ubyte" / "readme.txt", "x");
  CHECK_THROWS_WITH(find_idx_file(dir.str(), "t10k", "images"),
                    dir.str("t10k-images-idx3-ubyte") + ": not a regular file (a directory)");
  std::filesystem::create_symlink("loop", dir.path() / "loop");
  testing::write_idx(dir.path() / "train-labels.idx1-ubyte", {1}, {5}, false);
  CHECK(find_idx_file(dir.str(), "train", "labels") == dir.str("train-labels.idx1-ubyte"));
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

// A header claiming more data than the file can hold is refused with its dims before anything
// is allocated (100 x 4096 x 4096 in a 16-byte file used to allocate 1.6 GB first).
TEST_CASE("read_idx checks header dims against the file size", "[idx]") {
  TempDir dir;
  for (bool gzip : {false, true}) {
    INFO(gzip);
    const auto path = dir.path() / (gzip ? "big.gz" : "big");
    testing::write_idx(path, {100, 4096, 4096}, {}, gzip);
    CHECK_THROWS_WITH(read_idx(path.string()),
                      Catch::StartsWith("IDX file " + path.string() + " is truncated") &&
                          Catch::Contains("[100, 4096, 4096]"));
    testing::write_idx(path, {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {}, gzip);
    CHECK_THROWS_WITH(read_idx(path.string()),
                      Catch::Contains("[4294967295, 4294967295, 4294967295, 4294967295]"));
    testing::write_idx(path, {32, 0x80000000u, 0}, {}, gzip);  // Zero bytes: read, dims kept.
    CHECK(read_idx(path.string()).dims == std::vector<int64_t>{32, 0x80000000LL, 0});
  }
}

// More data than the header's dims take (a header of other dims: images cut at the wrong size;
// another file appended) is refused, raw from the header and the file size, gzipped once read;
// it was read silently, the rest ignored.
TEST_CASE("read_idx refuses data beyond its header's dims", "[idx]") {
  TempDir dir;
  for (bool gzip : {false, true}) {
    INFO(gzip);
    const auto path = dir.path() / (gzip ? "long.gz" : "long");
    testing::write_idx(path, {2, 3, 3}, std::vector<uint8_t>(2 * 4 * 4, 9), gzip);
    const std::string problem = "IDX file " + path.string() +
                                " is corrupt: it holds more data than the 18 bytes its header's "
                                "dims [2, 3, 3] take";
    CHECK_THROWS_WITH(read_idx(path.string()), problem);
    if (!gzip) {
      CHECK_THROWS_WITH(read_idx_dims(path.string()), problem);
    }
    testing::write_idx(path, {2, 3, 3}, std::vector<uint8_t>(18, 9), gzip);
    CHECK(read_idx(path.string()).data == std::vector<uint8_t>(18, 9));
  }
}

// Images and labels pair only when their names match but for images/labels and idx3/idx1
// (one dataset's files); separators, case and ".gz" may differ.
TEST_CASE("idx_files_pair", "[idx]") {
  CHECK(idx_files_pair("d/train-images-idx3-ubyte", "d/train-labels-idx1-ubyte.gz"));
  CHECK(idx_files_pair("d/train-images.idx3-ubyte", "d/TRAIN_LABELS.IDX1-UBYTE"));
  CHECK(idx_files_pair("emnist-letters-train-images-idx3-ubyte.gz",
                       "emnist-letters-train-labels-idx1-ubyte.gz"));
  CHECK_FALSE(idx_files_pair("emnist-letters-train-images-idx3-ubyte.gz",
                             "emnist-digits-train-labels-idx1-ubyte.gz"));
  CHECK_FALSE(idx_files_pair("train-images-idx3-ubyte", "fashion-train-labels-idx1-ubyte"));
}

// A gzip file whose check sum does not match (one flipped byte of a download) is named as
// corrupt, with zlib's reason: it read as "truncated (no header)", whatever it held.
TEST_CASE("read_idx names a gzip check sum that does not match", "[idx]") {
  TempDir dir;
  const auto path = dir.path() / "labels.gz";
  testing::write_idx(path, {6}, {0, 1, 2, 3, 4, 5}, true);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0x55);  // CRC32's byte.
  std::ofstream(path, std::ios::binary) << bytes;
  CHECK_THROWS_WITH(read_idx(path.string()),
                    "IDX file " + path.string() + " is corrupt (gzip: incorrect data check)");
}
