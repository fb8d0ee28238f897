#include "hpt/trainer/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace hpt::trainer {
namespace {

// The one order every sort and tie test here uses: numbers (infinities included) as usual,
// NaN below all of them and tied with each other. A total order, so std::sort is defined and
// every tie run advances past NaN (plain < and == made the tie loops spin forever).
bool score_less(double a, double b) {
  if (std::isnan(a)) {
    return !std::isnan(b);
  }
  return !std::isnan(b) && a < b;
}

bool same_score(double a, double b) { return !score_less(a, b) && !score_less(b, a); }

}  // namespace

PairSet make_pairs(const std::vector<int64_t>& labels, int64_t count, uint64_t seed) {
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) {
    by_class[labels[i]].push_back(static_cast<int64_t>(i));
  }
  std::vector<const std::vector<int64_t>*> pairable;  // Classes with >= 2 images.
  std::vector<double> weights;
  for (const auto& [label, members] : by_class) {
    if (members.size() >= 2) {
      pairable.push_back(&members);
      weights.push_back(static_cast<double>(members.size()));
    }
  }
  if (pairable.empty() || by_class.size() < 2) {
    throw std::invalid_argument(fmt::format(
        "make_pairs: need two classes and one with two images, got {} classes over {} images",
        by_class.size(), labels.size()));
  }
  std::mt19937_64 rng(seed);
  std::discrete_distribution<size_t> pick_class(weights.begin(), weights.end());
  std::uniform_int_distribution<size_t> pick_any(0, labels.size() - 1);
  PairSet out;
  const int64_t n_same = count / 2;
  for (int64_t i = 0; i < count; ++i) {
    int64_t a = 0;
    int64_t b = 0;
    if (i < n_same) {
      const auto& m = *pairable[pick_class(rng)];
      std::uniform_int_distribution<size_t> pick(0, m.size() - 1);
      a = m[pick(rng)];
      do {
        b = m[pick(rng)];
      } while (b == a);
    } else {
      a = static_cast<int64_t>(pick_any(rng));
      do {
        b = static_cast<int64_t>(pick_any(rng));
      } while (labels[b] == labels[a]);
    }
    out.first.push_back(a);
    out.second.push_back(b);
    out.same.push_back(i < n_same);
  }
  return out;
}

std::vector<double> pair_distances(const torch::Tensor& embeddings, const PairSet& pairs,
                                   int64_t chunk_elements) {
  torch::NoGradGuard no_grad;
  auto e = embeddings.to(torch::kFloat64);
  const int64_t n = static_cast<int64_t>(pairs.first.size());
  const int64_t width = std::max<int64_t>(1, e.numel() / std::max<int64_t>(1, e.size(0)));
  if (chunk_elements == 0 && e.device().is_cpu()) {
    // One pass over the pairs, reading rows in place: scoring 200,000 validation pairs (ROC
    // AUC included) took 0.67 s an epoch on one core with the tensor path's gathered copies,
    // 35 ms with this (bench/trainer, val_pairs_scored).
    e = e.contiguous();
    const int64_t rows = e.size(0);
    const double* data = e.data_ptr<double>();
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t ia = pairs.first[static_cast<size_t>(i)];
      const int64_t ib = pairs.second[static_cast<size_t>(i)];
      if (ia < 0 || ib < 0 || ia >= rows || ib >= rows) {
        throw std::out_of_range(
            fmt::format("pair_distances: pair ({}, {}) outside {} embeddings", ia, ib, rows));
      }
      const double* a = data + ia * width;
      const double* b = data + ib * width;
      double sum = 0;
      for (int64_t k = 0; k < width; ++k) {
        const double t = a[k] - b[k];
        sum += t * t;
      }
      out[static_cast<size_t>(i)] = std::sqrt(sum);
    }
    return out;
  }
  // In tensor chunks (on a GPU): each chunk's indices in, one distance vector out at the end.
  chunk_elements = chunk_elements > 0 ? chunk_elements : kPairChunkElements;
  const int64_t chunk = std::max<int64_t>(1, chunk_elements / width);
  auto d = torch::empty({n}, e.options());
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t end = std::min(i + chunk, n);
    auto rows = [&](const std::vector<int64_t>& index) {
      const std::vector<int64_t> part(index.begin() + i, index.begin() + end);
      return e.index_select(0, torch::tensor(part, torch::kInt64).to(e.device()));
    };
    d.slice(0, i, end).copy_(rows(pairs.first).sub_(rows(pairs.second)).pow_(2).sum(1).sqrt_());
  }
  d = d.to(torch::kCPU).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + n};
}

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return score_less(scores[a], scores[b]); });
  double rank_sum = 0;  // Sum of (1-based, tie-averaged) ranks of the positives.
  size_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && same_score(scores[order[j]], scores[order[i]])) {
      ++j;
    }
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        rank_sum += avg_rank;
        ++n_pos;
      }
    }
    i = j;
  }
  const size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) {
    return 0.5;
  }
  const double np = static_cast<double>(n_pos);
  return (rank_sum - np * (np + 1) / 2.0) / (np * static_cast<double>(n_neg));
}

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return score_less(scores[b], scores[a]); });
  const double n_pos = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double n_neg = static_cast<double>(scores.size()) - n_pos;
  RocCurve c;
  c.fpr.push_back(0);
  c.tpr.push_back(0);
  c.thresholds.push_back(std::numeric_limits<double>::infinity());
  double tp = 0;
  double fp = 0;
  for (size_t i = 0; i < order.size();) {
    const double s = scores[order[i]];
    while (i < order.size() && same_score(scores[order[i]], s)) {
      (positive[order[i]] ? tp : fp) += 1;
      ++i;
    }
    c.fpr.push_back(n_neg > 0 ? fp / n_neg : 0);
    c.tpr.push_back(n_pos > 0 ? tp / n_pos : 0);
    c.thresholds.push_back(s);
  }
  return c;
}

RocCurve downsample(const RocCurve& curve, size_t max_points) {
  const size_t n = curve.fpr.size();
  if (n <= max_points || max_points < 2) {
    return curve;
  }
  RocCurve out;
  for (size_t k = 0; k < max_points; ++k) {
    const size_t i = k * (n - 1) / (max_points - 1);
    out.fpr.push_back(curve.fpr[i]);
    out.tpr.push_back(curve.tpr[i]);
    out.thresholds.push_back(curve.thresholds[i]);
  }
  return out;
}

double youden_threshold(const std::vector<double>& distances, const std::vector<bool>& same) {
  std::vector<double> scores(distances.size());
  std::transform(distances.begin(), distances.end(), scores.begin(), [](double d) { return -d; });
  const RocCurve c = roc_curve(scores, same);
  size_t best = 0;
  for (size_t i = 1; i < c.fpr.size(); ++i) {
    if (c.tpr[i] - c.fpr[i] > c.tpr[best] - c.fpr[best]) {
      best = i;
    }
  }
  // score >= t  <=>  distance <= -t. Point 0 (+inf) predicts nothing as "same": when no point
  // beats it (every distance tied, a model that separates nothing) take the smallest distance,
  // so that identical images still match, never -DBL_MAX; 0 when no distance is finite.
  const size_t at = best == 0 ? 1 : best;
  const double t = at < c.thresholds.size() ? -c.thresholds[at] : 0.0;
  if (!std::isfinite(t)) {
    return 0.0;
  }
  double next = std::numeric_limits<double>::infinity();
  for (double d : distances) {
    if (d > t && d < next) {  // NaN is neither.
      next = d;
    }
  }
  if (!std::isfinite(next)) {
    return t + 1e-4;
  }
  const double mid = t + (next - t) / 2;
  return mid < next ? mid : t;  // next the double after t: halfway rounds to it.
}

std::array<std::array<int64_t, 2>, 2> confusion_matrix(const std::vector<double>& distances,
                                                       const std::vector<bool>& same,
                                                       double threshold) {
  std::array<std::array<int64_t, 2>, 2> m{};
  for (size_t i = 0; i < distances.size(); ++i) {
    ++m[same[i] ? 1 : 0][distances[i] <= threshold ? 1 : 0];
  }
  return m;
}

double recall_at_1(const torch::Tensor& embeddings, const torch::Tensor& labels) {
  return recall_at_k(embeddings, labels, {1}).front();
}

std::vector<double> recall_at_k(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                const std::vector<int64_t>& ks) {
  torch::NoGradGuard no_grad;
  const int64_t n = embeddings.size(0);
  std::vector<double> out(ks.size(), 0.0);
  if (n < 2 || ks.empty()) {
    return out;
  }
  const int64_t k_max = std::min<int64_t>(*std::max_element(ks.begin(), ks.end()), n - 1);
  // Float64: squared distances of nearly collapsed embeddings (1e-9) are below float32's
  // resolution of |a|^2 + |b|^2 - 2ab (1e-7), and the nearest neighbour would be noise.
  auto e = embeddings.to(torch::kFloat64);
  auto y = labels.to(e.device()).to(torch::kInt64);
  auto sq = e.pow(2).sum(1);
  // Hit counts stay on the device: one sync at the end, not one per block and k.
  std::vector<torch::Tensor> hits;  // One tensor each: += works in place.
  for (size_t j = 0; j < ks.size(); ++j) {
    hits.push_back(torch::zeros({}, torch::TensorOptions(e.device()).dtype(torch::kInt64)));
  }
  for (int64_t i = 0; i < n; i += 1024) {
    const int64_t end = std::min(i + 1024, n);
    auto d2 =
        sq.slice(0, i, end).unsqueeze(1) + sq.unsqueeze(0) - 2 * e.slice(0, i, end).matmul(e.t());
    auto rows = torch::arange(i, end, torch::TensorOptions(e.device()).dtype(torch::kInt64));
    // NaN distances (non-finite embeddings) rank last, after every number but before the row
    // itself, so topk sees a total order and never returns the row.
    d2.nan_to_num_(std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
    d2.index_put_({rows - i, rows}, std::numeric_limits<float>::infinity());  // Not itself.
    auto nearest = std::get<1>(d2.topk(k_max, 1, /*largest=*/false, /*sorted=*/true));
    auto same = y.index_select(0, nearest.reshape(-1))
                    .reshape(nearest.sizes())
                    .eq(y.slice(0, i, end).unsqueeze(1));
    for (size_t j = 0; j < ks.size(); ++j) {
      const int64_t k = std::clamp<int64_t>(ks[j], 1, k_max);
      hits[j] += same.slice(1, 0, k).any(1).sum();
    }
  }
  for (size_t j = 0; j < ks.size(); ++j) {
    out[j] = hits[j].item<double>() / static_cast<double>(n);
  }
  return out;
}

}  // namespace hpt::trainer
