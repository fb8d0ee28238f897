// Regression trees fitted the way sklearn 1.2's BestSplitter + DepthFirstTreeBuilder fit them,
// but on presorted feature orders (each node keeps, per feature, its samples in sorted order and
// splits them by a stable partition), so a tree costs O(n * d * depth) instead of sorting again
// at every node.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "hpt/tuner/importance.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt {
namespace {

constexpr double k_epsilon = std::numeric_limits<double>::epsilon();
constexpr double k_feature_threshold = 1e-7;  // sklearn's FEATURE_THRESHOLD.

// Uniform integer in [0, n) without modulo bias, identical on every platform.
size_t uniform_below(Rng& rng, size_t n) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % static_cast<uint64_t>(n);
  uint64_t r = rng();
  while (r >= limit) {
    r = rng();
  }
  return static_cast<size_t>(r % n);
}

struct PendingNode {
  size_t start;
  size_t end;
  int depth;
  int parent;
  bool is_left;
};

}  // namespace

double RegressionTree::predict(const double* x) const {
  int node = 0;
  while (feature[node] >= 0) {
    node = x[feature[node]] <= threshold[node] ? left[node] : right[node];
  }
  return value[node];
}

RegressionTree fit_regression_tree(const std::vector<double>& x, size_t d,
                                   const std::vector<double>& y, const std::vector<int>& weights,
                                   const FanovaOptions& options, uint64_t rng_seed) {
  const size_t n_rows = y.size();
  if (d == 0 || x.size() != n_rows * d || weights.size() != n_rows) {
    throw std::invalid_argument("fit_regression_tree: inconsistent shapes (rows " +
                                std::to_string(n_rows) + ", d " + std::to_string(d) + ")");
  }
  std::vector<int> rows;
  for (size_t i = 0; i < n_rows; ++i) {
    if (weights[i] > 0) {
      rows.push_back(static_cast<int>(i));
    }
  }
  RegressionTree tree;
  if (rows.empty()) {
    throw std::invalid_argument("fit_regression_tree: every sample weight is 0");
  }
  const size_t n = rows.size();
  // order[f * n + k]: the k-th sample of its node's segment, sorted by feature f.
  std::vector<int> order(d * n);
  for (size_t f = 0; f < d; ++f) {
    int* seg = &order[f * n];
    std::copy(rows.begin(), rows.end(), seg);
    std::stable_sort(seg, seg + n, [&](int a, int b) { return x[a * d + f] < x[b * d + f]; });
  }
  std::vector<char> goes_left(n_rows, 0);
  std::vector<int> buffer(n);
  std::vector<size_t> features(d);
  std::iota(features.begin(), features.end(), 0);
  Rng rng(rng_seed);

  std::vector<PendingNode> stack{{0, n, 0, -1, false}};
  while (!stack.empty()) {
    const PendingNode node = stack.back();
    stack.pop_back();
    const int id = static_cast<int>(tree.n_nodes());
    if (node.parent >= 0) {
      (node.is_left ? tree.left : tree.right)[node.parent] = id;
    }
    double w_total = 0.0;
    double sum = 0.0;
    double sq_sum = 0.0;
    for (size_t k = node.start; k < node.end; ++k) {
      const int s = order[k];
      const double w = weights[s];
      w_total += w;
      sum += w * y[s];
      sq_sum += w * y[s] * y[s];
    }
    const double mean = sum / w_total;
    const double impurity = sq_sum / w_total - mean * mean;
    tree.feature.push_back(-1);
    tree.threshold.push_back(0.0);
    tree.left.push_back(-1);
    tree.right.push_back(-1);
    tree.value.push_back(mean);

    const size_t n_node = node.end - node.start;
    const size_t min_leaf = static_cast<size_t>(std::max(1, options.min_samples_leaf));
    if (node.depth >= options.max_depth ||
        n_node < static_cast<size_t>(options.min_samples_split) || n_node < 2 * min_leaf ||
        impurity <= k_epsilon) {
      continue;
    }

    // Best split: all features in a random order (sklearn's Fisher-Yates draw); the first
    // strictly better proxy improvement wins.
    int best_feature = -1;
    double best_threshold = 0.0;
    double best_proxy = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < d; ++i) {
      std::swap(features[i], features[i + uniform_below(rng, d - i)]);
    }
    for (size_t f : features) {
      const int* seg = &order[f * n];
      auto xf = [&](size_t k) { return x[seg[k] * d + f]; };
      if (xf(node.end - 1) <= xf(node.start) + k_feature_threshold) {
        continue;  // Constant in this node.
      }
      double w_left = 0.0;
      double sum_left = 0.0;
      for (size_t p = node.start + 1; p < node.end; ++p) {
        const int s = seg[p - 1];
        w_left += weights[s];
        sum_left += weights[s] * y[s];
        if (xf(p) <= xf(p - 1) + k_feature_threshold) {
          continue;
        }
        if (p - node.start < min_leaf || node.end - p < min_leaf) {
          continue;
        }
        const double w_right = w_total - w_left;
        const double sum_right = sum - sum_left;
        const double proxy = sum_left * sum_left / w_left + sum_right * sum_right / w_right;
        if (proxy > best_proxy) {
          best_proxy = proxy;
          best_feature = static_cast<int>(f);
          best_threshold = xf(p - 1) / 2.0 + xf(p) / 2.0;
          if (best_threshold == xf(p) || std::isinf(best_threshold) || std::isnan(best_threshold)) {
            best_threshold = xf(p - 1);
          }
        }
      }
    }
    if (best_feature < 0) {
      continue;
    }
    tree.feature[id] = best_feature;
    tree.threshold[id] = best_threshold;

    size_t n_left = 0;
    for (size_t k = node.start; k < node.end; ++k) {
      const int s = order[best_feature * n + k];
      goes_left[s] = x[s * d + best_feature] <= best_threshold ? 1 : 0;
      n_left += goes_left[s];
    }
    for (size_t f = 0; f < d; ++f) {
      int* seg = &order[f * n];
      size_t li = node.start;
      size_t ri = 0;
      for (size_t k = node.start; k < node.end; ++k) {
        if (goes_left[seg[k]]) {
          seg[li++] = seg[k];
        } else {
          buffer[ri++] = seg[k];
        }
      }
      std::copy(buffer.begin(), buffer.begin() + ri, seg + li);
    }
    const size_t mid = node.start + n_left;
    stack.push_back({mid, node.end, node.depth + 1, id, false});
    stack.push_back({node.start, mid, node.depth + 1, id, true});
  }
  return tree;
}

}  // namespace hpt
