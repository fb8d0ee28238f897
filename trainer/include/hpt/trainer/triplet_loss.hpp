#pragma once
// Online-mined triplet losses on a batch of embeddings.

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

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
// The same with semihard_mining (CPU tensors; what the CPU runs).
std::pair<torch::Tensor, torch::Tensor> semihard_weights_loop(const torch::Tensor& distances,
                                                              const torch::Tensor& labels,
                                                              double margin);

// What a mining pass found: loss = hinge_sum / max(terms, 1).
struct MiningSums {
  double hinge_sum = 0;  // Sum of the active hinges max(d(a,p) - d(a,n) + margin, 0).
  int64_t terms = 0;     // What the loss averages over: positive pairs, or valid anchors.
};

// Scratch memory of the mining kernels, reused across calls (no allocation per batch).
template <typename T>
struct MiningScratch {
  std::vector<T> positive;  // One anchor's d(a,p), index order.
  std::vector<int32_t> positive_rank;
  std::vector<T> negative;  // One anchor's d(a,n), index order, and their indices.
  std::vector<int64_t> negative_index;
  std::vector<int32_t> negative_rank;
  std::vector<T> best;  // Closest negative per rank.
  std::vector<int64_t> best_index;
};

// The semi-hard rule of triplet_semihard_loss on raw CPU memory (semihard_weights_loop and
// the hand-written training step, head_step.hpp, run it).
// requires: d row-major [b, b] distances, labels [b], counts [b, b] all 0.
// ensures: counts[a * b + j] is the signed number of times d(a, j) enters the hinge sum (+1
// as a positive, -1 as a negative; ties go to the lowest index among equal negatives above
// d(a,p), the highest among equally far fallbacks); returns the hinge sum over positive
// pairs, summed anchor by anchor in index order, and their number.
template <typename T>
MiningSums semihard_mining(const T* d, const int64_t* labels, int64_t b, double margin, T* counts,
                           MiningScratch<T>& scratch);

// The batch-hard rule of triplet_batch_hard_loss on raw CPU memory (the hand-written step).
// requires: as semihard_mining. ensures: counts holds +1 at each active anchor's hardest
// positive and -1 at its hardest negative (the first index among ties); an anchor is active
// when its hinge is >= 0 (where the autograd path's clamp passes a gradient); returns the
// hinge sum and the number of anchors having a positive and a negative.
MiningSums batch_hard_mining(const float* d, const int64_t* labels, int64_t b, double margin,
                             float* counts);

// Batch-hard triplet loss (Hermans et al. 2017): mean over anchors having a positive and a
// negative of max(hardest d(a,p) - hardest d(a,n) + margin, 0).
torch::Tensor triplet_batch_hard_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                      double margin, Distance distance = Distance::Euclidean);

}  // namespace hpt::trainer
