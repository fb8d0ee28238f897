#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/projector.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using hpt::trainer::write_projector;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) {
    out.push_back(line);
  }
  return out;
}

}  // namespace

// The export holds one row per point (at most max_points), the class names, a sprite and
// both config files naming them.
TEST_CASE("projector export files", "[projector]") {
  hpt::test::TempDir dir("projector");
  torch::manual_seed(0);
  const auto embeddings = torch::randn({5, 3});
  const auto labels = torch::tensor({0, 1, 1, 0, 7}, torch::kInt64);
  const auto images = torch::randint(0, 256, {5, 4, 4, 1}, torch::kUInt8);
  write_projector(dir.path().string(), embeddings, labels, {"cat", "dog"}, images, 4);
  const auto vectors = lines(read(dir.file("vectors.tsv")));
  REQUIRE(vectors.size() == 4);
  CHECK(std::count(vectors[0].begin(), vectors[0].end(), '\t') == 2);
  const auto metadata = lines(read(dir.file("metadata.tsv")));
  REQUIRE(metadata.size() == 5);
  CHECK(metadata[0] == "label\tclass");
  CHECK(metadata[2] == "1\tdog");
  CHECK(fs::file_size(dir.file("sprite.png")) > 8);
  CHECK_THAT(read(dir.file("projector_config.pbtxt")), Catch::Contains("single_image_dim: 4"));
  CHECK_THAT(read(dir.file("projector_config.json")), Catch::Contains("\"tensorShape\""));
}

// The sprite's thumbnails are made a chunk at a time (here two chunks of 300 x 300 images):
// each lands in its own cell, as made all at once (which took some 20 times the test images'
// memory, and failed a run after its training).
TEST_CASE("projector sprite built in chunks puts each thumbnail in its cell", "[projector]") {
  hpt::test::TempDir dir("projector");
  const int64_t n = 100;
  const auto images =
      torch::arange(n, torch::kUInt8).view({n, 1, 1, 1}).expand({n, 300, 300, 1}).contiguous();
  write_projector(dir.path().string(), torch::randn({n, 2}), torch::zeros({n}, torch::kInt64),
                  {"a"}, images, n);
  const auto sprite = hpt::trainer::decode_image(dir.file("sprite.png"));
  REQUIRE(sprite.width == 3000);  // 10 x 10 cells of 300 px.
  REQUIRE(sprite.channels == 3);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x = (i % 10) * 300 + 150;
    const int64_t y = (i / 10) * 300 + 150;
    CHECK(static_cast<int>(sprite.pixels[static_cast<size_t>((y * 3000 + x) * 3)]) == i);
  }
}

// More points than max_points: the rows kept are evenly spaced, so a split stored class by
// class keeps its last classes (the first 10,000 rows left them out), each with its vector.
TEST_CASE("projector keeps evenly spaced rows", "[projector]") {
  using hpt::trainer::evenly_spaced_rows;
  CHECK(evenly_spaced_rows(10, 4) == std::vector<int64_t>{0, 2, 5, 7});
  CHECK(evenly_spaced_rows(3, 10) == std::vector<int64_t>{0, 1, 2});
  CHECK(evenly_spaced_rows(5, 0).empty());
  hpt::test::TempDir dir("projector");
  const auto labels =
      torch::cat({torch::zeros({45}, torch::kInt64), torch::ones({45}, torch::kInt64),
                  torch::full({10}, 2, torch::kInt64)});
  const auto embeddings = torch::arange(100, torch::kFloat32).unsqueeze(1);
  const auto images = torch::zeros({100, 2, 2, 1}, torch::kUInt8);
  CHECK(write_projector(dir.path().string(), embeddings, labels, {"a", "b", "c"}, images, 20) ==
        20);
  const auto vectors = lines(read(dir.file("vectors.tsv")));
  const auto metadata = lines(read(dir.file("metadata.tsv")));
  REQUIRE(vectors.size() == 20);
  REQUIRE(metadata.size() == 21);
  CHECK(vectors[19] == "95");
  CHECK(metadata[20] == "2\tc");
  CHECK(std::count(metadata.begin(), metadata.end(), "2\tc") == 2);
}

// A class name with a tab, a newline or bytes that are not UTF-8 stays one TSV field, so
// metadata.tsv keeps one row per vector (it used to split rows and shift every label after).
TEST_CASE("projector metadata escapes hostile class names", "[projector]") {
  hpt::test::TempDir dir("projector");
  const auto labels = torch::tensor({0, 1, 2}, torch::kInt64);
  write_projector(dir.path().string(), torch::zeros({3, 2}), labels,
                  {"cl\tass", "cl\nass",
                   "cl\xff"
                   "ass"},
                  torch::zeros({3, 4, 4, 1}, torch::kUInt8), 10);
  const auto metadata = lines(read(dir.file("metadata.tsv")));
  REQUIRE(metadata.size() == 4);
  CHECK(metadata[1] == "0\tcl\\tass");
  CHECK(metadata[2] == "1\tcl\\nass");
  CHECK(metadata[3] ==
        "2\tcl\xef\xbf\xbd"
        "ass");
  CHECK(lines(read(dir.file("vectors.tsv"))).size() == 3);
}

// Files are replaced by rename, never written through: a symbolic link planted at an output
// name is replaced by the file and its target stays untouched.
TEST_CASE("projector export never writes through a planted link", "[projector]") {
  hpt::test::TempDir dir("projector-link");
  const std::string victim = dir.file("victim.txt");
  std::ofstream(victim) << "keep me\n";
  fs::create_directories(dir.file("out"));
  fs::create_symlink(victim, dir.file("out/vectors.tsv"));
  fs::create_symlink(victim, dir.file("out/projector_config.json"));
  write_projector(dir.file("out"), torch::zeros({2, 2}), torch::tensor({0, 1}, torch::kInt64),
                  {"a", "b"}, torch::zeros({2, 2, 2, 1}, torch::kUInt8));
  CHECK(read(victim) == "keep me\n");
  CHECK_FALSE(fs::is_symlink(dir.file("out/vectors.tsv")));
  CHECK(lines(read(dir.file("out/vectors.tsv"))).size() == 2);
  CHECK_FALSE(fs::is_symlink(dir.file("out/projector_config.json")));
}
