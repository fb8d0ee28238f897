#pragma once
// The hand-written training step of the common CPU case: fp32 features -> EmbeddingHead
// (FF blocks Linear -> BatchNorm1d -> ReLU -> Dropout, then Linear and L2 normalisation)
// -> semi-hard or batch-hard triplet loss, forward and backward without autograd, in
// buffers allocated once. It computes what autograd computes for the head in training mode
// (the loss, every gradient, BatchNorm's running statistics); only dropout's mask comes
// from the step's own seeded generator instead of LibTorch's.

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hpt/trainer/model.hpp"
#include "hpt/trainer/triplet_loss.hpp"

namespace hpt::trainer {

struct HeadStepOptions {
  double margin = 1.0;
  Distance distance = Distance::Euclidean;
  bool batch_hard = false;    // Else semi-hard.
  uint64_t dropout_seed = 0;  // Seeds the dropout masks (unused without dropout).
};

class HeadStep {
 public:
  // Why HeadStep cannot train head on batches of `batch` rows, or "" when it can: every
  // parameter and buffer fp32 on the CPU, contiguous; BatchNorm affine with running
  // statistics; batch >= 2 when the head has FF blocks (BatchNorm needs two values per
  // channel in training mode).
  static std::string unsupported(EmbeddingHead& head, int64_t batch);

  // A step for head on rows of inputs (fp32 CPU [N, in_features], or [N, ...] flattening
  // to it) with labels [N]. requires: unsupported(head, batch) is "". Parameters without a
  // gradient get a zero one. Holds aliases of the parameters, their gradients and the
  // BatchNorm buffers: they must keep their storage while the step is used (set_data on
  // them afterwards is fine). Throws std::invalid_argument for inputs of another shape.
  HeadStep(EmbeddingHead& head, const torch::Tensor& inputs, std::vector<int64_t> labels,
           int64_t batch, const HeadStepOptions& options);

  // Forward and backward on inputs' rows `rows` (batch of them) as in training mode:
  // overwrites every parameter's gradient with d loss / d parameter, updates BatchNorm's
  // running statistics and num_batches_tracked, and returns the loss, rounded to fp32 as
  // the autograd path's loss tensor is.
  double run(const std::vector<int64_t>& rows);

  // The dropout multipliers (0 or 1 / (1 - p)) block `block` applied in the last run,
  // [B * units] row-major; empty when its dropout is 0 (tests, diagnostics).
  const std::vector<float>& dropout_noise(size_t block) const { return m_blocks.at(block).noise; }

 private:
  struct Linear {
    torch::Tensor weight, bias, weight_grad, bias_grad;  // Detached aliases.
  };
  struct Block {
    Linear linear;
    torch::Tensor gamma, beta, gamma_grad, beta_grad;
    torch::Tensor running_mean, running_var, num_batches_tracked;
    double eps = 1e-5;
    std::optional<double> momentum;  // nullopt: cumulative average (1 / batches).
    double dropout = 0;
    torch::Tensor z;                        // [B, units] Linear output (BatchNorm input).
    torch::Tensor h;                        // [B, units] block output.
    std::vector<float> mean, invstd;        // Batch statistics, fp32 as ATen saves them.
    std::vector<float> noise;               // Dropout multipliers 0 or 1 / (1 - p), [B * units].
    std::vector<double> sum, sum2;          // Per-unit scratch: statistics and gradient sums.
    std::vector<float> scale, shift, gain;  // Folded BatchNorm terms (forward, backward).
  };

  // input -> block.h; updates the block's running statistics and draws its dropout mask.
  void forward_block(Block& block, const torch::Tensor& input);
  // grad_h (d loss / d block.h, overwritten) -> grad_z (d loss / d block.z); fills the
  // BatchNorm parameters' gradients.
  void backward_block(Block& block, torch::Tensor& grad_h, torch::Tensor& grad_z);
  // Distances of m_e, mining, d loss / d e into m_grad_e; returns the loss.
  double loss_and_embedding_grad();
  // m_grad_e from d loss / d e to d loss / d e0 (through F::normalize).
  void normalise_backward();
  // The first batch * width elements of a flat buffer as a contiguous [batch, width].
  torch::Tensor rows_of(const torch::Tensor& buffer, int64_t width) const;

  std::vector<Block> m_blocks;
  Linear m_out;
  HeadStepOptions m_options;
  torch::Tensor m_inputs;  // Contiguous fp32 [N, F].
  std::vector<int64_t> m_labels;
  int64_t m_batch;
  int64_t m_features;
  std::vector<int64_t> m_batch_labels;
  torch::Tensor m_x;            // [B, F] gathered rows.
  torch::Tensor m_e0;           // [B, D] before normalisation.
  torch::Tensor m_e;            // [B, D] embeddings.
  std::vector<float> m_norm;    // [B] norms of m_e0's rows.
  torch::Tensor m_d;            // [B, B] Gram matrix, then distances.
  torch::Tensor m_s;            // [B, B] S: each distance's weight in d loss / d e.
  std::vector<float> m_counts;  // [B * B] mining counts (semihard_mining).
  torch::Tensor m_se;           // [B, D] S E.
  torch::Tensor m_grad_e;       // [B, D] d loss / d e, then d loss / d e0.
  torch::Tensor m_grad_a;       // [B * max units]: block output gradients.
  torch::Tensor m_grad_b;       // [B * max units]: Linear output gradients.
  MiningScratch<float> m_scratch;
  std::mt19937_64 m_rng;
};

}  // namespace hpt::trainer
