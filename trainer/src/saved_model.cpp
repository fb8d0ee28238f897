#include "hpt/trainer/saved_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/json_fields.hpp"
#include "hpt/io/regular_file.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/torch_error.hpp"
#include "hpt/trainer/training.hpp"

namespace hpt::trainer {

namespace {

constexpr const char* k_format = "hpt-embedding-model-v1";
// Embeddings are unit vectors: every distance lies in [0, 2].
constexpr double k_max_distance = 2.0;

// The weights of a head of these options (Linear weights and biases, BatchNorm's affine
// parameters): what its file must at least hold.
uint64_t head_weight_count(const EmbeddingHeadOptions& o) {
  uint64_t n = 0;
  auto in = static_cast<uint64_t>(o.in_features());
  for (const int64_t u : o.units()) {
    n += in * static_cast<uint64_t>(u) + 3 * static_cast<uint64_t>(u);
    in = static_cast<uint64_t>(u);
  }
  return n + in * static_cast<uint64_t>(o.embedding_dim()) +
         static_cast<uint64_t>(o.embedding_dim());
}

}  // namespace

std::string match_line(double distance, double threshold) {
  const char* verdict = distance <= threshold ? "same" : "different";
  for (int decimals = 6; decimals <= 17; ++decimals) {
    const auto d = fmt::format("{:.{}f}", distance, decimals);
    const auto t = fmt::format("{:.{}f}", threshold, decimals);
    if (d != t || distance == threshold) {
      return fmt::format("distance {} threshold {}: {}", d, t, verdict);
    }
  }
  return fmt::format("distance {} threshold {}: {}", distance, threshold, verdict);  // Shortest.
}

double saved_threshold(double threshold) {
  if (std::isnan(threshold)) {
    throw std::invalid_argument("threshold: NaN (the validation distances were not finite)");
  }
  // Below 0 (e.g. -DBL_MAX when no threshold beat "never same") no pair, not even an image
  // with itself, would be "same"; the nearest threshold calls identical images the same.
  return std::clamp(threshold, 0.0, k_max_distance);
}

void save_model(const std::string& dir, EmbeddingHead& head, FeatureExtractor& extractor,
                const ExperimentConfig& config, double threshold, const ImageShape& trained_on,
                const std::string& shared_dir) {
  threshold = saved_threshold(threshold);
  hpt::write_stream_atomically(dir + "/head.pt",
                               [&](std::ostream& out) { torch::save(head, out); });
  const auto& o = head->options();
  nlohmann::json meta = {{"format", k_format},
                         {"config", to_json(config)},
                         {"head",
                          {{"in_features", o.in_features()},
                           {"embedding_dim", o.embedding_dim()},
                           {"units", o.units()},
                           {"dropout", o.dropout()},
                           {"fingerprint", content_fingerprint(file_digest(dir + "/head.pt"))}}},
                         {"extractor", extractor.save(dir, shared_dir)},
                         {"images", {{"height", trained_on.height}, {"width", trained_on.width}}},
                         {"threshold", threshold}};
  hpt::write_file_atomically(dir + "/" + k_model_file, meta.dump(2) + "\n");
}

SavedModel load_model(const std::string& dir) {
  const std::string json_path = dir + "/" + k_model_file;
  if (!std::filesystem::exists(json_path)) {
    throw std::runtime_error(fmt::format("{}: not a model folder (no model.json)", dir));
  }
  try {
    const nlohmann::json meta = read_model_file(dir);
    // Every value is checked before anything is allocated or run.
    const JsonFields root(meta, "");
    if (const std::string format = root.string("format"); format != k_format) {
      throw std::invalid_argument(fmt::format("format: expected \"{}\", got \"{}\"", k_format,
                                              hpt::utf8_prefix(format, 60)));
    }
    const JsonFields h = root.object("head");
    const int64_t in_features = h.integer("in_features", 1, std::numeric_limits<int32_t>::max());
    const EmbeddingHeadOptions options =
        EmbeddingHeadOptions(in_features, h.integer("embedding_dim", 1, k_max_units))
            .units(h.integers("units", 1, k_max_units, k_max_blocks))
            .dropout(h.number("dropout", 0.0, 1.0));
    const double threshold = root.number("threshold", 0.0, k_max_distance);
    ExperimentConfig config =
        experiment_from_json(root.object("config").json(), json_path + ": config");
    ImageShape trained_on;
    if (root.has("images")) {  // Models saved before hpt recorded it have none.
      const JsonFields images = root.object("images");
      trained_on.height = images.integer("height", 1, k_max_image_pixels);
      trained_on.width = images.integer("width", 1, k_max_image_pixels);
      if (const std::string problem = image_size_problem(trained_on.width, trained_on.height);
          !problem.empty()) {
        throw std::invalid_argument(fmt::format("{}: {}", root.path("images"), problem));
      }
    }
    hpt::require_regular_file(dir + "/head.pt");
    FeatureExtractor extractor = FeatureExtractor::load(root.object("extractor").json(), dir);
    if (extractor.feature_dim() != in_features) {
      throw std::invalid_argument(
          fmt::format("head.in_features: the head takes {} features but the extractor gives {}",
                      in_features, extractor.feature_dim()));
    }
    // A head far larger than head.pt (units [16384] x 64 would allocate 68 GB) cannot be the
    // one saved there: refused before it is built. Each weight takes at least 4 bytes there.
    const uint64_t weights = head_weight_count(options);
    if (const auto bytes = std::filesystem::file_size(dir + "/head.pt"); weights * 4 > bytes) {
      throw std::runtime_error(fmt::format(
          "{}/head.pt: {} bytes, too small for the head model.json declares ({} weights of 4 "
          "bytes)",
          dir, bytes, weights));
    }
    EmbeddingHead head(options);
    load_weights(*head, dir + "/head.pt");  // A damaged file is named as such first.
    if (h.has("fingerprint")) {             // Models saved before hpt recorded one have none.
      check_saved_file(dir + "/head.pt", h.string("fingerprint"));
    }
    head->eval();
    return SavedModel{head, std::move(extractor), std::move(config), threshold, trained_on};
  } catch (const nlohmann::json::exception& e) {  // Not JSON.
    throw std::runtime_error(fmt::format("{}: {}", json_path, e.what()));
  } catch (const std::invalid_argument& e) {  // A value no hpt wrote.
    throw std::runtime_error(fmt::format("{}: {}", json_path, e.what()));
  } catch (const c10::Error& e) {  // LibTorch's message names the file.
    throw std::runtime_error(
        fmt::format("{}: cannot load the model: {}", dir, torch_error_line(e)));
  }
}

torch::Tensor embed_files(SavedModel& model, const std::vector<std::string>& paths) {
  ImageShape size = model.trained_on;
  if (size.height == 0 && model.config.dataset.image_size > 0) {  // Saved before "images".
    size.height = size.width = model.config.dataset.image_size;
  }
  std::vector<torch::Tensor> rows;
  for (const auto& path : paths) {
    DecodedImage img =
        load_image(path, static_cast<int>(size.width), static_cast<int>(size.height));
    const torch::Tensor pixels = torch::from_blob(
        img.pixels.data(), {1, img.height, img.width, img.channels}, torch::kUInt8);
    rows.push_back(embed(model.head, &model.extractor, pixels));
    if (!torch::isfinite(rows.back()).all().item<bool>()) {
      throw std::runtime_error(fmt::format(
          "{}: the model's embedding of this image is not finite (NaN or infinity): its "
          "extractor or head is broken",
          path));
    }
  }
  return torch::cat(rows);
}

}  // namespace hpt::trainer
