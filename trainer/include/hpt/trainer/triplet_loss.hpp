#pragma once
// Online-mined triplet losses on a batch of embeddings.

#include <torch/torch.h>

namespace hpt::trainer {

// Pairwise Euclidean distances [B, B] computed as TensorFlow Addons does
// (||a||^2 + ||b||^2 - 2ab, clamped at 0, zero-safe sqrt, exact zero diagonal).
torch::Tensor pairwise_distance(const torch::Tensor& embeddings);

// TensorFlow Addons' TripletSemiHardLoss (distance_metric "L2"): for every positive pair
// (a, p), a != p, the negative is the closest one farther than d(a, p), else the farthest
// negative (0 when a has none); loss = mean over positive pairs of
// max(d(a,p) - d(a,n) + margin, 0). O(B^2 log B): sorted negative rows + searchsorted.
// Returns 0 (still differentiable) when the batch has no positive pair, where TFA gives NaN.
torch::Tensor triplet_semihard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                    double margin);

// Batch-hard triplet loss (Hermans et al. 2017): mean over anchors having a positive and a
// negative of max(hardest d(a,p) - hardest d(a,n) + margin, 0).
torch::Tensor triplet_batch_hard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                      double margin);

}  // namespace hpt::trainer
