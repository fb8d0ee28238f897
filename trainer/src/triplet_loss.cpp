#include "hpt/trainer/triplet_loss.hpp"

#include <limits>

namespace hpt::trainer {

torch::Tensor pairwise_distance(const torch::Tensor& e) {
  auto sq = e.pow(2).sum(1, /*keepdim=*/true);
  auto d2 = (sq + sq.t() - 2 * e.matmul(e.t())).clamp_min(0);
  auto zero = d2.le(0).to(e.scalar_type());
  auto d = (d2 + zero * 1e-16).sqrt() * (1 - zero);
  auto off_diagonal = 1 - torch::eye(e.size(0), e.options());
  return d * off_diagonal;
}

namespace {

// Pairwise distances and label masks of a batch, shared by both losses.
struct BatchPairs {
  int64_t b;
  torch::Tensor pd;         // [B, B] L2 distances.
  torch::Tensor same;       // [B, B] same label (diagonal included).
  torch::Tensor positives;  // [B, B] same label, off the diagonal.
};

BatchPairs batch_pairs(const torch::Tensor& embeddings, const torch::Tensor& labels) {
  const int64_t b = embeddings.size(0);
  auto lab = labels.view({-1, 1});
  auto same = lab.eq(lab.t());
  auto positives = same.logical_and(torch::eye(b, same.options()).logical_not());
  return {b, pairwise_distance(embeddings), same, positives};
}

}  // namespace

torch::Tensor triplet_semihard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                    double margin) {
  const auto [b, pd, same, positives] = batch_pairs(embeddings, labels);
  if (!positives.any().item<bool>()) {
    return embeddings.sum() * 0;
  }
  // Row a: distances to a's negatives ascending, non-negatives (+inf) at the end.
  auto neg_rows = pd.masked_fill(same, std::numeric_limits<double>::infinity());
  auto sorted = std::get<0>(neg_rows.sort(1));
  auto num_neg = same.logical_not().sum(1, /*keepdim=*/true);  // [B, 1]
  // First negative strictly farther than d(a, p) for every (a, p).
  auto first = torch::searchsorted(sorted.detach(), pd.detach().contiguous(),
                                   /*out_int32=*/false, /*right=*/true);
  auto has_outside = first.lt(num_neg);
  auto outside = sorted.gather(1, first.clamp_max(b - 1));
  auto inside = sorted.gather(1, (num_neg - 1).clamp_min(0));  // Farthest negative.
  inside = torch::where(num_neg.gt(0), inside, torch::zeros_like(inside));
  auto negative = torch::where(has_outside, outside, inside.expand({b, b}));
  auto loss = (pd - negative + margin).clamp_min(0);
  auto mask = positives.to(embeddings.scalar_type());
  // where() keeps +inf entries of unselected `outside` out of the sum and its gradient.
  loss = torch::where(positives, loss, torch::zeros_like(loss));
  return loss.sum() / mask.sum();
}

torch::Tensor triplet_batch_hard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                      double margin) {
  const auto [b, pd, same, positives] = batch_pairs(embeddings, labels);
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
