#include "hpt/trainer/model_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "hpt/io/atomic_file.hpp"
#include "hpt/reports/model_view.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/projector.hpp"

namespace hpt::trainer {
namespace {

std::string base64(const unsigned char* data, size_t size) {
  static const char* k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b = (uint32_t{data[i]} << 16) | (i + 1 < size ? uint32_t{data[i + 1]} << 8 : 0) |
                       (i + 2 < size ? uint32_t{data[i + 2]} : 0);
    out += k_alphabet[(b >> 18) & 63];
    out += k_alphabet[(b >> 12) & 63];
    out += i + 1 < size ? k_alphabet[(b >> 6) & 63] : '=';
    out += i + 2 < size ? k_alphabet[b & 63] : '=';
  }
  return out;
}

// Requires: a symmetric k x k float64 matrix m. Ensures: its top eigenvector by power
// iteration from a fixed start (deterministic), unit length; zeros when m has nothing left.
torch::Tensor top_eigenvector(const torch::Tensor& m) {
  const int64_t k = m.size(0);
  torch::Tensor v = 1.0 + 0.01 * torch::arange(k, torch::kFloat64);
  for (int iter = 0; iter < 500; ++iter) {
    torch::Tensor next = m.mv(v);
    const double norm = next.norm().item<double>();
    if (!(norm > 0.0)) {
      return torch::zeros({k}, torch::kFloat64);  // Nothing left to explain.
    }
    next /= norm;
    const double change = (next - v).abs().sum().item<double>();
    v = next;
    if (change < 1e-10) {
      break;
    }
  }
  return v;
}

// The pair entries ({"distance", "a", "b"}) of pairs[order[0..count)].
nlohmann::json pair_entries(const std::vector<size_t>& order, size_t count, const PairSet& pairs,
                            const std::vector<double>& distances, const torch::Tensor& labels,
                            const torch::Tensor& images, int64_t px) {
  nlohmann::json out = nlohmann::json::array();
  const bool have_images =
      images.defined() && images.dim() == 4 && images.size(0) == labels.size(0);
  auto side = [&](int64_t i) {
    nlohmann::json s = {{"label", labels[i].item<int64_t>()}};
    if (have_images) {
      s["thumb"] = thumbnail_png_base64(images[i], px);
    }
    return s;
  };
  // Pairs are drawn with replacement: a small split repeats one pair, in either order.
  std::set<std::pair<int64_t, int64_t>> shown;
  for (size_t k = 0; k < order.size() && out.size() < count; ++k) {
    const size_t p = order[k];
    const int64_t a = pairs.first[p];
    const int64_t b = pairs.second[p];
    if (shown.emplace(std::min(a, b), std::max(a, b)).second) {
      out.push_back({{"distance", distances[p]}, {"a", side(a)}, {"b", side(b)}});
    }
  }
  return out;
}

}  // namespace

std::pair<torch::Tensor, std::array<double, 2>> pca_2d(const torch::Tensor& embeddings) {
  torch::NoGradGuard no_grad;
  auto x = embeddings.to(torch::kCPU, torch::kFloat64).contiguous();
  x = x - x.mean(0, /*keepdim=*/true);
  const int64_t n = x.size(0);
  const int64_t d = x.size(1);
  // The smaller of the covariance (d x d) and the Gram matrix (n x n): they share their
  // non-zero eigenvalues, and a Gram eigenvector u gives the axis x' u / sqrt(lambda). A
  // 16384-wide embedding of 2,000 test images takes 32 MB, not 2 GB.
  const bool gram = n < d;
  torch::Tensor m = gram ? x.matmul(x.t()) : x.t().matmul(x);
  const double total = m.trace().item<double>();
  auto basis = torch::zeros({d, 2}, torch::kFloat64);
  std::array<double, 2> explained{0.0, 0.0};
  for (int64_t a = 0; a < 2; ++a) {
    const torch::Tensor u = top_eigenvector(m);
    const double lambda = std::max(u.dot(m.mv(u)).item<double>(), 0.0);  // u' M u
    explained[a] = total > 0.0 ? lambda / total : 0.0;
    m -= lambda * torch::outer(u, u);  // Deflate: the next axis is orthogonal to this one.
    torch::Tensor v = !gram          ? u
                      : lambda > 0.0 ? x.t().mv(u) / std::sqrt(lambda)
                                     : torch::zeros({d}, torch::kFloat64);
    // Sign: the largest loading positive (the same embedding gives the same picture).
    if (d > 0 && v[v.abs().argmax()].item<double>() < 0) {
      v = -v;
    }
    basis.select(1, a).copy_(v);
  }
  return {x.matmul(basis).to(torch::kFloat32), explained};
}

std::string thumbnail_png_base64(const torch::Tensor& image, int64_t px) {
  torch::NoGradGuard no_grad;
  auto img = image.to(torch::kCPU).to(torch::kFloat32).permute({2, 0, 1}).unsqueeze(0);
  const int64_t h = img.size(2);
  const int64_t w = img.size(3);
  const double scale = std::min(1.0, static_cast<double>(px) / static_cast<double>(std::max(h, w)));
  const int64_t th = std::max<int64_t>(1, std::lround(h * scale));
  const int64_t tw = std::max<int64_t>(1, std::lround(w * scale));
  if (th != h || tw != w) {
    img = torch::nn::functional::interpolate(img, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{th, tw})
                                                      .mode(torch::kArea));
  }
  auto pixels =
      img.squeeze(0).permute({1, 2, 0}).clamp(0, 255).round().to(torch::kUInt8).contiguous();
  const int channels = static_cast<int>(pixels.size(2));
  const std::string png =
      encode_png(pixels.data_ptr<uint8_t>(), static_cast<int>(tw), static_cast<int>(th), channels);
  return base64(reinterpret_cast<const unsigned char*>(png.data()), png.size());
}

nlohmann::json model_view_json(const torch::Tensor& embeddings, const torch::Tensor& labels,
                               const std::vector<std::string>& class_names,
                               const torch::Tensor& images, const PairSet& pairs,
                               const std::vector<double>& distances, double threshold,
                               const ModelViewOptions& options) {
  torch::NoGradGuard no_grad;
  const int64_t n = embeddings.size(0);
  auto y = labels.to(torch::kCPU).to(torch::kInt64).contiguous();
  nlohmann::json view = {{"format", reports::k_model_view_format},
                         {"version", 1},
                         {"split", "test"},
                         {"n_images", n},
                         {"embedding_dim", embeddings.dim() == 2 ? embeddings.size(1) : 0},
                         {"class_names", class_names},
                         {"threshold", threshold}};
  const bool have_images = images.defined() && images.dim() == 4 && images.size(0) == n;
  nlohmann::json points = nlohmann::json::array();
  nlohmann::json thumbs = nlohmann::json::array();
  if (n > 0) {
    const auto [xy, explained] = pca_2d(embeddings);
    view["pca_explained"] = {explained[0], explained[1]};
    auto c = xy.contiguous();
    const float* p = c.data_ptr<float>();
    for (const int64_t i : evenly_spaced_rows(n, options.max_points)) {
      int64_t thumb = -1;
      if (have_images) {
        thumb = static_cast<int64_t>(thumbs.size());
        thumbs.push_back(thumbnail_png_base64(images[i], options.thumbnail_px));
      }
      points.push_back({p[2 * i], p[2 * i + 1], y[i].item<int64_t>(), thumb});
    }
  }
  view["points"] = std::move(points);
  view["thumbnails"] = std::move(thumbs);
  const std::vector<double> recall = recall_at_k(embeddings, y, options.ks);
  nlohmann::json recall_rows = nlohmann::json::array();
  for (size_t j = 0; j < options.ks.size(); ++j) {
    recall_rows.push_back({options.ks[j], recall[j]});
  }
  view["recall_at_k"] = std::move(recall_rows);
  // Wrong pairs at the threshold ("same" when distance <= threshold), hardest first.
  std::vector<size_t> false_matches;
  std::vector<size_t> false_non_matches;
  for (size_t p = 0; p < distances.size() && p < pairs.same.size(); ++p) {
    const bool said_same = distances[p] <= threshold;
    if (said_same && !pairs.same[p]) {
      false_matches.push_back(p);
    } else if (!said_same && pairs.same[p]) {
      false_non_matches.push_back(p);
    }
  }
  std::stable_sort(false_matches.begin(), false_matches.end(),
                   [&](size_t a, size_t b) { return distances[a] < distances[b]; });
  std::stable_sort(false_non_matches.begin(), false_non_matches.end(),
                   [&](size_t a, size_t b) { return distances[a] > distances[b]; });
  view["pairs"] = distances.size();
  view["false_matches"] = false_matches.size();
  view["false_non_matches"] = false_non_matches.size();
  const auto count = static_cast<size_t>(std::max<int64_t>(options.hardest_pairs, 0));
  const torch::Tensor no_images;
  view["hardest_false_matches"] =
      pair_entries(false_matches, count, pairs, distances, y, have_images ? images : no_images,
                   options.thumbnail_px);
  view["hardest_false_non_matches"] =
      pair_entries(false_non_matches, count, pairs, distances, y, have_images ? images : no_images,
                   options.thumbnail_px);
  return view;
}

void write_model_view(const std::string& dir, const torch::Tensor& embeddings,
                      const torch::Tensor& labels, const std::vector<std::string>& class_names,
                      const torch::Tensor& images, const PairSet& pairs,
                      const std::vector<double>& distances, double threshold,
                      const ModelViewOptions& options) {
  const nlohmann::json view = model_view_json(embeddings, labels, class_names, images, pairs,
                                              distances, threshold, options);
  write_file_atomically(dir + "/model_view.json",
                        view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomically(dir + "/model_report.html",
                        reports::render_model_report(
                            view, "hpt model report: " +
                                      (options.title_folder.empty() ? dir : options.title_folder)));
}

}  // namespace hpt::trainer
