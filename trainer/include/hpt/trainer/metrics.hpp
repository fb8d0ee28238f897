#pragma once
// Pair metrics for image matching: balanced same/different pairs, ROC AUC and curve, the
// decision threshold, the confusion matrix, and recall@1.
// Every function is total and bounded on NaN / inf inputs: a NaN score ranks below every
// number (ties with other NaNs), a NaN distance is never "same" (it ranks as the farthest). Such
// values mean a broken model; run_experiment refuses them before computing metrics.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace hpt::trainer {

struct PairSet {
  std::vector<int64_t> first, second;  // Indices into one split.
  std::vector<bool> same;              // Whether the two share a label.
};

// count/2 same-label pairs (distinct images) and count - count/2 different-label pairs,
// drawn uniformly with `seed`. Throws std::invalid_argument if the split has no class with
// two images or only one class.
PairSet make_pairs(const std::vector<int64_t>& labels, int64_t count, uint64_t seed);

// The most pair-feature elements pair_distances holds per intermediate tensor at once (65,536
// pairs of 64-wide features): its memory is bounded by this, not by pairs x width.
inline constexpr int64_t kPairChunkElements = int64_t{1} << 22;

// Euclidean distance of each pair's embeddings ([N, D] float tensor), in float64. With
// chunk_elements 0: on the CPU in one pass over the pairs (throwing std::out_of_range for an
// index outside the rows), on a GPU in tensor chunks of kPairChunkElements; otherwise in
// tensor chunks of max(1, chunk_elements / D) pairs on any device. Every chunking gives the
// same bits; the one pass agrees with them to a few ulps (another summation order).
std::vector<double> pair_distances(const torch::Tensor& embeddings, const PairSet& pairs,
                                   int64_t chunk_elements = 0);

// Exact ROC AUC of scores (higher = more likely positive) with tied scores counted as
// half (average ranks). Returns 0.5 when one of the classes is empty.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

struct RocCurve {
  std::vector<double> fpr, tpr;
  std::vector<double> thresholds;  // Score threshold (predict positive if score >= t).
};

// The ROC curve over all distinct scores, starting at (0, 0) with threshold +inf.
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive);

// At most max_points points of curve, always keeping its first and last point.
RocCurve downsample(const RocCurve& curve, size_t max_points);

// The distance threshold maximising Youden's J = TPR - FPR over the given pairs (predict
// "same" when distance <= threshold). hpt chooses it on the VALIDATION pairs and applies
// it unchanged to the test pairs. It lies halfway between the J point's distance and the next
// larger one (1e-4 above it when none is larger): every given pair is decided as at the J
// point, and a pair at that distance, embedded again with float rounding, still is.
double youden_threshold(const std::vector<double>& distances, const std::vector<bool>& same);

// Confusion matrix at a distance threshold, rows = actual, columns = predicted, index
// 0 = different, 1 = same: {{TN, FP}, {FN, TP}} (scikit-learn's layout).
std::array<std::array<int64_t, 2>, 2> confusion_matrix(const std::vector<double>& distances,
                                                       const std::vector<bool>& same,
                                                       double threshold);

// For each k of ks: the share of rows whose k nearest other rows (Euclidean) include one with
// the same label (recall@k as metric-learning papers report it; k >= N - 1 looks at all
// others). 0 for every k when N < 2.
std::vector<double> recall_at_k(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                const std::vector<int64_t>& ks);

// recall_at_k at k = 1: the fraction of embeddings whose nearest other embedding has the same
// label.
double recall_at_1(const torch::Tensor& embeddings, const torch::Tensor& labels);

}  // namespace hpt::trainer
