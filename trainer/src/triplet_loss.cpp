#include "hpt/trainer/triplet_loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace hpt::trainer {

Distance distance_from_name(const std::string& name) {
  if (name == "euclidean") {
    return Distance::Euclidean;
  }
  if (name == "squared") {
    return Distance::Squared;
  }
  throw std::invalid_argument(
      fmt::format("distance: expected euclidean or squared, got \"{}\"", name));
}

torch::Tensor pairwise_distance(const torch::Tensor& e, Distance distance) {
  auto sq = e.pow(2).sum(1, /*keepdim=*/true);
  auto d2 = (sq + sq.t() - 2 * e.matmul(e.t())).clamp_min(0);
  auto off_diagonal = 1 - torch::eye(e.size(0), e.options());
  if (distance == Distance::Squared) {
    return d2 * off_diagonal;
  }
  auto zero = d2.le(0).to(e.scalar_type());
  auto d = (d2 + zero * 1e-16).sqrt() * (1 - zero);
  return d * off_diagonal;
}

namespace {

// Pairwise distances and label masks of a batch.
struct BatchPairs {
  int64_t b;
  torch::Tensor pd;         // [B, B] distances.
  torch::Tensor same;       // [B, B] same label (diagonal included).
  torch::Tensor positives;  // [B, B] same label, off the diagonal.
};

BatchPairs batch_pairs(const torch::Tensor& pd, const torch::Tensor& labels) {
  const int64_t b = pd.size(0);
  auto lab = labels.view({-1, 1});
  auto same = lab.eq(lab.t());
  auto positives = same.logical_and(torch::eye(b, same.options()).logical_not());
  return {b, pd, same, positives};
}

// loss = sum_ij W_ij d_ij: dL/de_k = sum_j S_kj (e_k - e_j) with S = (W + W^T) * d'(d),
// d' = 1/d for Euclidean distances (0 where d = 0, as TFA's zero-safe sqrt), 2 for squared.
class SemiHardFunction : public torch::autograd::Function<SemiHardFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& e,
                               const torch::Tensor& labels, double margin, bool squared) {
    const torch::Tensor x = e.detach();
    const torch::Tensor pd =
        pairwise_distance(x, squared ? Distance::Squared : Distance::Euclidean);
    auto [loss, w] = x.is_cpu() ? semihard_weights_loop(pd, labels, margin)
                                : semihard_weights_tensor(pd, labels, margin);
    torch::Tensor s = w + w.t();
    s = squared ? s * 2 : torch::where(pd.gt(0), s / pd, torch::zeros_like(s));
    ctx->save_for_backward({x, s});
    return loss;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& s = saved[1];
    auto g = (s.sum(1, /*keepdim=*/true) * x - s.mm(x)) * grad[0];
    return {g, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> semihard_weights_tensor(const torch::Tensor& pd,
                                                                const torch::Tensor& labels,
                                                                double margin) {
  const auto [b, d, same, positives] = batch_pairs(pd, labels);
  const auto n_pos = positives.sum().to(pd.scalar_type()).clamp_min(1);
  // Row a: distances to a's negatives ascending, non-negatives (+inf) at the end.
  auto neg_rows = pd.masked_fill(same, std::numeric_limits<double>::infinity());
  auto [sorted, order] = neg_rows.sort(1);
  auto num_neg = same.logical_not().sum(1, /*keepdim=*/true);  // [B, 1]
  // First negative strictly farther than d(a, p) for every (a, p), else the farthest.
  auto first = torch::searchsorted(sorted, pd.contiguous(), /*out_int32=*/false, /*right=*/true);
  auto column = torch::where(first.lt(num_neg), first, (num_neg - 1).expand({b, b}));
  auto has_neg = num_neg.gt(0).expand({b, b});
  auto negative_index = order.gather(1, column.clamp_min(0));
  auto negative = torch::where(has_neg, sorted.gather(1, column.clamp_min(0)),
                               torch::zeros_like(pd));
  auto hinge = pd - negative + margin;
  auto active = positives.logical_and(hinge.gt(0));
  auto loss = torch::where(active, hinge, torch::zeros_like(hinge)).sum() / n_pos;
  auto a = active.to(pd.scalar_type()) / n_pos;
  auto w = a.clone();
  w.scatter_add_(1, negative_index, -(a * has_neg.to(pd.scalar_type())));
  return {loss, w};
}

std::pair<torch::Tensor, torch::Tensor> semihard_weights_loop(const torch::Tensor& pd,
                                                              const torch::Tensor& labels,
                                                              double margin) {
  const int64_t b = pd.size(0);
  const torch::Tensor d = pd.to(torch::kFloat64).contiguous();
  const torch::Tensor y = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const double* dp = d.data_ptr<double>();
  const int64_t* yp = y.data_ptr<int64_t>();
  std::vector<double> w(static_cast<size_t>(b * b), 0.0);
  std::vector<std::pair<double, int64_t>> negatives;
  negatives.reserve(static_cast<size_t>(b));
  double loss = 0;
  int64_t n_pos = 0;
  for (int64_t a = 0; a < b; ++a) {
    const double* row = dp + a * b;
    negatives.clear();
    for (int64_t n = 0; n < b; ++n) {
      if (yp[n] != yp[a]) {
        negatives.emplace_back(row[n], n);
      }
    }
    std::sort(negatives.begin(), negatives.end());
    for (int64_t p = 0; p < b; ++p) {
      if (p == a || yp[p] != yp[a]) {
        continue;
      }
      ++n_pos;
      // The closest negative strictly farther than d(a, p), else the farthest one.
      auto it = std::upper_bound(negatives.begin(), negatives.end(),
                                 std::make_pair(row[p], std::numeric_limits<int64_t>::max()));
      const int64_t n = negatives.empty() ? -1 : (it != negatives.end() ? it : it - 1)->second;
      const double hinge = row[p] - (n >= 0 ? row[n] : 0.0) + margin;
      if (hinge > 0) {
        loss += hinge;
        w[static_cast<size_t>(a * b + p)] += 1;
        if (n >= 0) {
          w[static_cast<size_t>(a * b + n)] -= 1;
        }
      }
    }
  }
  const double scale = 1.0 / static_cast<double>(std::max<int64_t>(n_pos, 1));
  auto weights = torch::from_blob(w.data(), {b, b}, torch::kFloat64).mul(scale);
  return {torch::tensor(loss * scale, pd.options()), weights.to(pd.options())};
}

torch::Tensor triplet_semihard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                    double margin, Distance distance) {
  return SemiHardFunction::apply(embeddings, labels, margin, distance == Distance::Squared);
}

torch::Tensor triplet_batch_hard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                      double margin, Distance distance) {
  const auto [b, pd, same, positives] =
      batch_pairs(pairwise_distance(embeddings, distance), labels);
  auto negatives = same.logical_not();
  auto valid = positives.any(1).logical_and(negatives.any(1));
  if (!valid.any().item<bool>()) {
    return embeddings.sum() * 0;
  }
  auto hardest_pos = std::get<0>(pd.masked_fill(positives.logical_not(), -1.0).max(1));
  auto hardest_neg =
      std::get<0>(pd.masked_fill(same, std::numeric_limits<double>::infinity()).min(1));
  auto loss = (hardest_pos - hardest_neg + margin).clamp_min(0);
  return loss.masked_select(valid).mean();
}

}  // namespace hpt::trainer
