#pragma once
// Online-mined triplet losses on a batch of embeddings.

#include <torch/torch.h>

namespace hpt::trainer {

// The distance the triplet losses compare: TensorFlow Addons >= 0.11 uses plain Euclidean
// distances; FaceNet and the report write the loss with squared ones.
enum class Distance { Euclidean, Squared };

// Distance from its experiment key ("euclidean" or "squared"); throws std::invalid_argument.
Distance distance_from_name(const std::string& name);

// Pairwise Euclidean distances [B, B] computed as TensorFlow Addons does
// (||a||^2 + ||b||^2 - 2ab, clamped at 0, zero-safe sqrt, exact zero diagonal); Squared
// skips the square root.
torch::Tensor pairwise_distance(const torch::Tensor& embeddings,
                                Distance distance = Distance::Euclidean);

// TensorFlow Addons' TripletSemiHardLoss (distance_metric "L2"): for every positive pair
// (a, p), a != p, the negative is the closest one farther than d(a, p), else the farthest
// negative (0 when a has none); loss = mean over positive pairs of
// max(d(a,p) - d(a,n) + margin, 0). Returns 0 (still differentiable) when the batch has no
// positive pair, where TFA gives NaN.
// Mining runs without autograd (a sorted-row loop on the CPU, sort + searchsorted on other
// devices) and records each distance's weight in the loss; the backward pass is then two
// [B, B] x [B, D] products instead of an autograd graph of ~30 small ops.
torch::Tensor triplet_semihard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                    double margin, Distance distance = Distance::Euclidean);

// The mining step of triplet_semihard_loss with tensor ops on any device (what CUDA runs):
// returns {loss, W} where W[i][j] is the weight of d(i, j) in the loss.
std::pair<torch::Tensor, torch::Tensor> semihard_weights_tensor(const torch::Tensor& distances,
                                                                const torch::Tensor& labels,
                                                                double margin);
// The same as a loop over sorted rows (CPU tensors; what the CPU runs).
std::pair<torch::Tensor, torch::Tensor> semihard_weights_loop(const torch::Tensor& distances,
                                                              const torch::Tensor& labels,
                                                              double margin);

// Batch-hard triplet loss (Hermans et al. 2017): mean over anchors having a positive and a
// negative of max(hardest d(a,p) - hardest d(a,n) + margin, 0).
torch::Tensor triplet_batch_hard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                      double margin, Distance distance = Distance::Euclidean);

}  // namespace hpt::trainer
