#include "hpt/trainer/projector.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/trainer/image_io.hpp"

namespace hpt::trainer {

namespace {

// A class name as one TSV field: the Projector splits rows at newlines and fields at tabs, so
// those (and CR) are written as \t, \n, \r; bytes that are not UTF-8 as U+FFFD.
std::string tsv_field(const std::string& name) {
  std::string out;
  for (char c : hpt::valid_utf8(name)) {
    out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
  }
  return out;
}

}  // namespace

std::vector<int64_t> evenly_spaced_rows(int64_t n, int64_t most) {
  const int64_t shown = std::min(n, std::max<int64_t>(most, 0));
  std::vector<int64_t> rows(static_cast<size_t>(std::max<int64_t>(shown, 0)));
  for (int64_t s = 0; s < shown; ++s) {
    rows[static_cast<size_t>(s)] = s * n / shown;
  }
  return rows;
}

int64_t write_projector(const std::string& dir, const torch::Tensor& embeddings,
                        const torch::Tensor& labels, const std::vector<std::string>& class_names,
                        const torch::Tensor& images, int64_t max_points) {
  const auto rows =
      torch::tensor(evenly_spaced_rows(embeddings.size(0), max_points), torch::kInt64);
  const int64_t n = rows.size(0);
  const int64_t d = embeddings.size(1);
  auto e = embeddings.index_select(0, rows).to(torch::kFloat32).contiguous();
  auto l = labels.index_select(0, rows).to(torch::kInt64).contiguous();
  // Every file goes to a temporary beside it and is renamed into place (io/atomic_file.hpp):
  // a crash leaves the previous export or none, never a half-written one.
  {
    std::string out;
    const float* p = e.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < d; ++j) {
        out += fmt::format("{}{:.6g}", j ? "\t" : "", p[i * d + j]);
      }
      out += "\n";
    }
    hpt::write_file_atomically(dir + "/vectors.tsv", out);
  }
  {
    std::string out = "label\tclass\n";
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = l.data_ptr<int64_t>()[i];
      const std::string name =
          y >= 0 && y < static_cast<int64_t>(class_names.size()) ? class_names[y] : "?";
      out += fmt::format("{}\t{}\n", y, tsv_field(name));
    }
    hpt::write_file_atomically(dir + "/metadata.tsv", out);
  }
  // Sprite: a square grid of thumbnails, at most 8192 px wide (the projector's limit).
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t side =
      std::max<int64_t>(1, std::min<int64_t>(images.size(1), 8192 / std::max<int64_t>(cols, 1)));
  auto grid = torch::full({cols * side, cols * side, 3}, 255, torch::kUInt8);
  // Thumbnails a chunk at a time (about 64 MB of float pixels): all at once took some 20 times
  // the test images' memory, and a run that fit its data failed here, after training.
  const int64_t pixels = std::max<int64_t>(1, 3 * images.size(1) * images.size(2));
  const int64_t chunk = std::max<int64_t>(1, (int64_t{64} << 20) / (4 * pixels));
  for (int64_t first = 0; first < n; first += chunk) {
    const auto part = rows.slice(0, first, std::min(n, first + chunk));
    auto thumbs = images.index_select(0, part).permute({0, 3, 1, 2}).to(torch::kFloat32);
    if (thumbs.size(1) == 1) {
      thumbs = thumbs.expand({-1, 3, -1, -1});
    }
    thumbs =
        torch::nn::functional::interpolate(thumbs, torch::nn::functional::InterpolateFuncOptions()
                                                       .size(std::vector<int64_t>{side, side})
                                                       .mode(torch::kBilinear)
                                                       .align_corners(false));
    const auto t = thumbs.clamp(0, 255).round().to(torch::kUInt8).permute({0, 2, 3, 1});
    for (int64_t k = 0; k < t.size(0); ++k) {
      const int64_t r = (first + k) / cols;
      const int64_t c = (first + k) % cols;
      grid.slice(0, r * side, (r + 1) * side).slice(1, c * side, (c + 1) * side).copy_(t[k]);
    }
  }
  grid = grid.contiguous();
  const int width = static_cast<int>(cols * side);
  hpt::write_file_atomically(dir + "/sprite.png",
                             encode_png(grid.data_ptr<uint8_t>(), width, width, 3));
  hpt::write_file_atomically(
      dir + "/projector_config.pbtxt",
      fmt::format("embeddings {{\n  tensor_name: \"embeddings\"\n  tensor_path: \"vectors.tsv\"\n"
                  "  metadata_path: \"metadata.tsv\"\n  sprite {{\n    image_path: \"sprite.png\"\n"
                  "    single_image_dim: {0}\n    single_image_dim: {0}\n  }}\n}}\n",
                  side));
  nlohmann::json config = {
      {"embeddings",
       {{{"tensorName", "embeddings"},
         {"tensorShape", {n, d}},
         {"tensorPath", "vectors.tsv"},
         {"metadataPath", "metadata.tsv"},
         {"sprite", {{"imagePath", "sprite.png"}, {"singleImageDim", {side, side}}}}}}}};
  hpt::write_file_atomically(dir + "/projector_config.json", config.dump(2) + "\n");
  return n;
}

}  // namespace hpt::trainer
