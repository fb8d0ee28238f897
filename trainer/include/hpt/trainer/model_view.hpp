#pragma once
// "What the model learned": the data behind the model view that the study report, the dashboard
// and model_report.html show (rendered by hpt::report_html; reports/include/hpt/reports/
// model_view.hpp documents the JSON): the test embeddings on their two principal components
// with class labels and thumbnails, recall@k, and the hardest wrong test pairs.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "hpt/trainer/metrics.hpp"

namespace hpt::trainer {

struct ModelViewOptions {
  int64_t max_points = 800;   // Points on the map (evenly spaced over the split).
  int64_t thumbnail_px = 28;  // Thumbnail side: images are scaled down to fit, never up.
  int64_t hardest_pairs = 8;  // Pairs shown of each kind.
  std::vector<int64_t> ks{1, 5, 10};
  std::string title_folder;  // The folder the page's title names (default: where it is written).
};

// The coordinates [N, 2] (float) of embeddings [N, D] on their first two principal components
// (centred; each component's sign chosen so that its largest loading is positive) and the
// share of the total variance each explains. Requires N >= 1; D == 1 gives a zero second axis.
std::pair<torch::Tensor, std::array<double, 2>> pca_2d(const torch::Tensor& embeddings);

// A uint8 image [H, W, C] (C = 1 or 3), scaled down to fit px x px, as base64 PNG text.
std::string thumbnail_png_base64(const torch::Tensor& image, int64_t px);

// The model view document ("format": "hpt-model-view") of embeddings [N, D] with labels [N]
// and images uint8 [N, H, W, C] (no thumbnails when images is undefined or not [N, ...]),
// scored on the test pairs with their distances at the distance threshold.
nlohmann::json model_view_json(const torch::Tensor& embeddings, const torch::Tensor& labels,
                               const std::vector<std::string>& class_names,
                               const torch::Tensor& images, const PairSet& pairs,
                               const std::vector<double>& distances, double threshold,
                               const ModelViewOptions& options = {});

// Writes model_view_json(...) to dir/model_view.json and its page (hpt::report_html's
// render_model_report) to dir/model_report.html, each atomically. Throws std::runtime_error
// naming a file that cannot be written.
void write_model_view(const std::string& dir, const torch::Tensor& embeddings,
                      const torch::Tensor& labels, const std::vector<std::string>& class_names,
                      const torch::Tensor& images, const PairSet& pairs,
                      const std::vector<double>& distances, double threshold,
                      const ModelViewOptions& options = {});

}  // namespace hpt::trainer
