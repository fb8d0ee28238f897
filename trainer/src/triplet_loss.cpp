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

template <typename T>
MiningSums semihard_mining(const T* d, const int64_t* labels, int64_t b, double margin, T* counts,
                           MiningScratch<T>& scratch) {
  constexpr T k_inf = std::numeric_limits<T>::infinity();
  MiningSums sums;
  // Branch-free counting instead of sorting: rank(v) = #{positives p : d(a,p) < v}. A
  // negative at distance v is a candidate for positive p iff rank(d(a,p)) < rank(v), so p
  // takes the closest negative of any rank above its own.
  auto& pos = scratch.positive;
  auto& pos_rank = scratch.positive_rank;
  auto& neg = scratch.negative;
  auto& neg_index = scratch.negative_index;
  auto& neg_rank = scratch.negative_rank;
  auto& best = scratch.best;
  auto& best_index = scratch.best_index;
  for (int64_t a = 0; a < b; ++a) {
    const T* row = d + a * b;
    const int64_t ya = labels[a];
    // Branch-free compaction into positives and negatives (index order).
    pos.resize(static_cast<size_t>(b));
    neg.resize(static_cast<size_t>(b));
    neg_index.resize(static_cast<size_t>(b));
    size_t np = 0;
    size_t nn = 0;
    for (int64_t j = 0; j < b; ++j) {
      const bool same = labels[j] == ya;
      pos[np] = row[j];
      np += same && j != a;
      neg[nn] = row[j];
      neg_index[nn] = j;
      nn += !same;
    }
    if (np == 0) {
      continue;
    }
    pos_rank.assign(np, 0);
    for (size_t i = 0; i < np; ++i) {
      for (size_t j = 0; j < np; ++j) {
        pos_rank[i] += pos[j] < pos[i];
      }
    }
    neg_rank.assign(nn, 0);
    for (size_t i = 0; i < np; ++i) {
      const T q = pos[i];
      for (size_t m = 0; m < nn; ++m) {
        neg_rank[m] += q < neg[m];
      }
    }
    // best[k]: the closest negative of rank k (lowest index on ties); then suffix minima.
    best.assign(np + 2, k_inf);
    best_index.assign(np + 2, -1);
    T far = -k_inf;
    int64_t far_index = -1;
    for (size_t m = 0; m < nn; ++m) {  // Selects, not branches: the outcomes are random.
      const T v = neg[m];
      const auto k = static_cast<size_t>(neg_rank[m]);
      const bool closer = v < best[k];
      best[k] = closer ? v : best[k];
      best_index[k] = closer ? neg_index[m] : best_index[k];
      const bool farther = v >= far;  // The farthest, highest index on ties.
      far = farther ? v : far;
      far_index = farther ? neg_index[m] : far_index;
    }
    for (size_t k = np; k-- > 0;) {
      if (!(best[k] < best[k + 1])) {
        best[k] = best[k + 1];
        best_index[k] = best_index[k + 1];
      }
    }
    size_t i = 0;
    for (int64_t p = 0; p < b; ++p) {
      if (p == a || labels[p] != ya) {
        continue;
      }
      ++sums.terms;
      const int64_t closest = best_index[static_cast<size_t>(pos_rank[i++]) + 1];
      const int64_t n = closest >= 0 ? closest : far_index;
      const double hinge =
          static_cast<double>(row[p]) - (n >= 0 ? static_cast<double>(row[n]) : 0.0) + margin;
      if (hinge > 0) {
        sums.hinge_sum += hinge;
        counts[a * b + p] += 1;
        if (n >= 0) {
          counts[a * b + n] -= 1;
        }
      }
    }
  }
  return sums;
}

template MiningSums semihard_mining<float>(const float*, const int64_t*, int64_t, double, float*,
                                           MiningScratch<float>&);
template MiningSums semihard_mining<double>(const double*, const int64_t*, int64_t, double, double*,
                                            MiningScratch<double>&);

MiningSums batch_hard_mining(const float* d, const int64_t* labels, int64_t b, double margin,
                             float* counts) {
  MiningSums sums;
  for (int64_t a = 0; a < b; ++a) {
    const float* row = d + a * b;
    // Selects, not branches; the first index wins ties, as LibTorch's max / min.
    float positive = -std::numeric_limits<float>::infinity();
    float negative = std::numeric_limits<float>::infinity();
    int64_t hardest_positive = -1;
    int64_t hardest_negative = -1;
    for (int64_t j = 0; j < b; ++j) {
      const float v = row[j];
      const bool same = labels[j] == labels[a];
      const bool harder_positive = same && j != a && v > positive;
      positive = harder_positive ? v : positive;
      hardest_positive = harder_positive ? j : hardest_positive;
      const bool harder_negative = !same && v < negative;
      negative = harder_negative ? v : negative;
      hardest_negative = harder_negative ? j : hardest_negative;
    }
    if (hardest_positive < 0 || hardest_negative < 0) {
      continue;
    }
    ++sums.terms;
    const double hinge = static_cast<double>(row[hardest_positive]) -
                         static_cast<double>(row[hardest_negative]) + margin;
    if (hinge >= 0) {
      sums.hinge_sum += hinge;
      counts[a * b + hardest_positive] += 1;
      counts[a * b + hardest_negative] -= 1;
    }
  }
  return sums;
}

std::pair<torch::Tensor, torch::Tensor> semihard_weights_loop(const torch::Tensor& pd,
                                                              const torch::Tensor& labels,
                                                              double margin) {
  const int64_t b = pd.size(0);
  const torch::Tensor y = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    const torch::Tensor d = pd.to(torch::CppTypeToScalarType<T>::value).contiguous();
    auto counts = torch::zeros({b, b}, d.options());
    MiningScratch<T> scratch;
    const MiningSums sums = semihard_mining(d.data_ptr<T>(), y.data_ptr<int64_t>(), b, margin,
                                            counts.data_ptr<T>(), scratch);
    const double scale = 1.0 / static_cast<double>(std::max<int64_t>(sums.terms, 1));
    return std::make_pair(torch::tensor(sums.hinge_sum * scale, pd.options()),
                          counts.to(torch::kFloat64).mul(scale).to(pd.options()));
  };
  return pd.scalar_type() == torch::kFloat32 ? run(float{}) : run(double{});
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
