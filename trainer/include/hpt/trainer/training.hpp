#pragma once
// Training the embedding head: early stopping, the learning-rate schedule and the epoch loop.
// extractors.hpp builds the feature extractor; experiment_run.hpp runs a whole experiment.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/trainer/dataset.hpp"
#include "hpt/trainer/metrics.hpp"
#include "hpt/trainer/model.hpp"

namespace hpt::trainer {

struct EpochReport {
  int64_t epoch = 0;  // 1-based.
  double val_auc = 0;
  double train_loss = 0;
  double seconds = 0;
};
using EpochCallback = std::function<void(const EpochReport&)>;

// Tracks the best validation value (higher is better). should_stop() turns true once
// `patience` consecutive epochs brought no improvement; patience 0 never stops.
class EarlyStopping {
 public:
  explicit EarlyStopping(int64_t patience) : m_patience(patience) {}
  // Records the next epoch's value; returns true if it is a new best.
  bool update(double value);
  bool should_stop() const { return m_patience > 0 && m_since_best >= m_patience; }
  double best() const { return m_best; }
  int64_t best_epoch() const { return m_best_epoch; }  // 1-based; 0 before any update.

 private:
  int64_t m_patience;
  int64_t m_epoch = 0;
  int64_t m_best_epoch = 0;
  int64_t m_since_best = 0;
  double m_best = -1e300;
};

// Inputs are either cached features (float [N, F]) or images (uint8 [N, H, W, C]).
struct TrainData {
  torch::Tensor inputs;
  torch::Tensor labels;  // int64 [N].
};

// The loop's options: the experiment's loop keys (LoopSettings, with the experiment's
// defaults) and what a run decides.
struct LoopOptions : LoopSettings {
  torch::Device device = torch::kCPU;         // Where inputs, head and extractor live.
  std::optional<torch::ScalarType> autocast;  // Mixed precision (device.hpp); nullopt: fp32.
  uint64_t seed = 0;       // Batches, augmentation and (hand-written step) dropout masks.
  uint64_t pair_seed = 0;  // Validation pairs (fixed across trials).
  // Lets training take head_step.hpp's hand-written step when fused_step_blocker allows;
  // false always runs autograd (comparisons, tests).
  bool fused_cpu_step = true;
};

// The learning rate of step t (0-based) of total steps: linear warm-up over
// o.warmup_steps, then o.learning_rate constant or on a cosine decaying to 0 at total.
double scheduled_lr(const LoopOptions& o, int64_t t, int64_t total);

struct LoopResult {
  double best_val_auc = 0;
  int64_t best_epoch = 0;
  int64_t epochs_run = 0;
  std::vector<EpochReport> history;
};

// Why train_embedding cannot take the hand-written CPU step (head_step.hpp, flat_adam.hpp)
// for head on train with o and batches of `batch`, or "" when it takes it: it needs
// o.fused_cpu_step, the CPU, fp32 (no autocast), fp32 features (not images, no trainable
// extractor) and a head HeadStep::unsupported accepts.
std::string fused_step_blocker(EmbeddingHead& head, const FeatureExtractor* extractor,
                               const TrainData& train, const LoopOptions& o, int64_t batch);

// Trains head (and extractor when given and trainable) with Adam on P x K batches on
// o.device (inputs and labels are moved there once; each step only sends its indices), scores
// every epoch with `validate` (default: validation pair ROC AUC), stops early, and
// restores the best epoch's weights before returning. Where fused_step_blocker is "" the
// steps run without autograd (same losses, gradients and updates; own dropout masks).
LoopResult train_embedding(EmbeddingHead& head, FeatureExtractor* extractor, const TrainData& train,
                           const TrainData& val, const LoopOptions& o,
                           const EpochCallback& on_epoch,
                           const std::function<double()>& validate = {});

// Embeddings [N, D] (float, on the head's device) of inputs (features, or images when
// extractor is given; any device), eval mode.
torch::Tensor embed(EmbeddingHead& head, FeatureExtractor* extractor, const torch::Tensor& inputs,
                    int64_t batch_size = 512);

// The device of a module's first parameter (the CPU for a module without parameters).
torch::Device device_of(torch::nn::Module& module);

// Pair ROC AUC of embeddings (or raw features, L2-normalised first when normalise) on pairs.
double pair_roc_auc(const torch::Tensor& embeddings, const PairSet& pairs, bool normalise = false);

}  // namespace hpt::trainer
