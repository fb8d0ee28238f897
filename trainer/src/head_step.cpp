#include "hpt/trainer/head_step.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace hpt::trainer {

namespace {

// F::normalize's eps (EmbeddingHeadImpl::forward).
constexpr double k_norm_eps = 1e-12;

template <typename M>
M* child(EmbeddingHead& head, const std::string& name) {
  const auto modules = head->named_modules("", /*include_self=*/false);
  const auto* found = modules.find(name);
  return found ? (*found)->as<M>() : nullptr;
}

std::string block_name(size_t i, const char* part) { return fmt::format("blocks.{}.{}", i, part); }

bool fp32_cpu(const torch::Tensor& t) {
  return t.defined() && t.is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

// The gradient of p (a zero one if it has none), detached.
torch::Tensor grad_of(torch::Tensor p) {
  if (!p.grad().defined()) {
    p.mutable_grad() = torch::zeros_like(p);
  }
  return p.grad().detach();
}

float* ptr(const torch::Tensor& t) { return t.data_ptr<float>(); }

// out = input W^T + bias as at::linear's addmm computes it (bias rows, then BLAS adds the
// product), without ATen's parallel copy of the bias: an OpenMP region next to OpenBLAS's
// own threads makes both wait on each other on a busy machine.
void linear_forward(const torch::Tensor& weight, const torch::Tensor& bias,
                    const torch::Tensor& input, torch::Tensor& out) {
  const int64_t units = out.size(1);
  const float* b = bias.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < out.size(0); ++i) {
    std::copy(b, b + units, o + i * units);
  }
  out.addmm_(input, weight.t());
}

// Column sums of a row-major [rows, cols] matrix into out (fp32, row by row).
void column_sums(const float* m, int64_t rows, int64_t cols, float* out) {
  std::fill(out, out + cols, 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    const float* r = m + i * cols;
    for (int64_t j = 0; j < cols; ++j) {
      out[j] += r[j];
    }
  }
}

}  // namespace

std::string HeadStep::unsupported(EmbeddingHead& head, int64_t batch) {
  for (const auto& p : head->parameters()) {
    if (!fp32_cpu(p)) {
      return "parameters not contiguous fp32 on the CPU";
    }
  }
  const size_t blocks = head->options().units().size();
  for (size_t i = 0; i < blocks; ++i) {
    auto* linear = child<torch::nn::LinearImpl>(head, block_name(i, "linear"));
    auto* norm = child<torch::nn::BatchNorm1dImpl>(head, block_name(i, "norm"));
    auto* dropout = child<torch::nn::DropoutImpl>(head, block_name(i, "dropout"));
    if (!linear || !norm || !dropout || !linear->options.bias()) {
      return "FF block layout not Linear -> BatchNorm1d -> Dropout";
    }
    if (!norm->options.affine() || !norm->options.track_running_stats() ||
        !fp32_cpu(norm->running_mean) || !fp32_cpu(norm->running_var) ||
        !norm->num_batches_tracked.defined()) {
      return "BatchNorm without affine parameters or fp32 running statistics";
    }
    if (dropout->options.p() < 0 || dropout->options.p() >= 1) {
      return "dropout outside [0, 1)";
    }
  }
  auto* out = child<torch::nn::LinearImpl>(head, "out");
  if (!out || !out->options.bias()) {
    return "embedding layer not a Linear with bias";
  }
  if (blocks > 0 && batch < 2) {
    return "BatchNorm needs batches of at least 2";
  }
  return "";
}

torch::Tensor HeadStep::rows_of(const torch::Tensor& buffer, int64_t width) const {
  return buffer.narrow(0, 0, m_batch * width).view({m_batch, width});
}

HeadStep::HeadStep(EmbeddingHead& head, const torch::Tensor& inputs, std::vector<int64_t> labels,
                   int64_t batch, const HeadStepOptions& options)
    : m_options(options),
      m_labels(std::move(labels)),
      m_batch(batch),
      m_features(head->options().in_features()),
      m_batch_labels(static_cast<size_t>(batch)),
      m_rng(options.dropout_seed) {
  if (inputs.scalar_type() != torch::kFloat32 || !inputs.is_cpu() || inputs.dim() < 1 ||
      inputs.size(0) != static_cast<int64_t>(m_labels.size()) ||
      (inputs.size(0) > 0 && inputs.numel() / inputs.size(0) != m_features)) {
    throw std::invalid_argument(fmt::format(
        "HeadStep: expected fp32 CPU inputs [{}, {}], got {} [{}]", m_labels.size(), m_features,
        c10::toString(inputs.scalar_type()), fmt::join(inputs.sizes(), ", ")));
  }
  torch::NoGradGuard no_grad;
  m_inputs = inputs.reshape({inputs.size(0), m_features}).contiguous();
  const auto linear_of = [](torch::nn::LinearImpl* l) {
    return Linear{l->weight.detach(), l->bias.detach(), grad_of(l->weight), grad_of(l->bias)};
  };
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  int64_t widest = 1;
  for (size_t i = 0; i < head->options().units().size(); ++i) {
    auto* norm = child<torch::nn::BatchNorm1dImpl>(head, block_name(i, "norm"));
    Block b;
    b.linear = linear_of(child<torch::nn::LinearImpl>(head, block_name(i, "linear")));
    b.gamma = norm->weight.detach();
    b.beta = norm->bias.detach();
    b.gamma_grad = grad_of(norm->weight);
    b.beta_grad = grad_of(norm->bias);
    b.running_mean = norm->running_mean.detach();
    b.running_var = norm->running_var.detach();
    b.num_batches_tracked = norm->num_batches_tracked.detach();
    b.eps = norm->options.eps();
    if (norm->options.momentum()) {
      b.momentum = *norm->options.momentum();
    }
    b.dropout = child<torch::nn::DropoutImpl>(head, block_name(i, "dropout"))->options.p();
    const int64_t units = b.gamma.numel();
    widest = std::max(widest, units);
    b.z = torch::empty({batch, units}, f32);
    b.h = torch::empty({batch, units}, f32);
    for (auto* v : {&b.mean, &b.invstd, &b.scale, &b.shift, &b.gain}) {
      v->resize(static_cast<size_t>(units));
    }
    b.sum.resize(static_cast<size_t>(units));
    b.sum2.resize(static_cast<size_t>(units));
    b.noise.assign(b.dropout > 0 ? static_cast<size_t>(batch * units) : 0, 1.0f);
    m_blocks.push_back(std::move(b));
  }
  m_out = linear_of(child<torch::nn::LinearImpl>(head, "out"));
  const int64_t dim = m_out.bias.numel();
  m_x = torch::empty({batch, m_features}, f32);
  m_e0 = torch::empty({batch, dim}, f32);
  m_e = torch::empty({batch, dim}, f32);
  m_norm.resize(static_cast<size_t>(batch));
  m_d = torch::empty({batch, batch}, f32);
  m_s = torch::empty({batch, batch}, f32);
  m_counts.resize(static_cast<size_t>(batch * batch));
  m_se = torch::empty({batch, dim}, f32);
  m_grad_e = torch::empty({batch, dim}, f32);
  m_grad_a = torch::empty({batch * widest}, f32);
  m_grad_b = torch::empty({batch * widest}, f32);
}

double HeadStep::run(const std::vector<int64_t>& rows) {
  if (static_cast<int64_t>(rows.size()) != m_batch) {
    throw std::invalid_argument(
        fmt::format("HeadStep: expected {} rows, got {}", m_batch, rows.size()));
  }
  torch::NoGradGuard no_grad;
  const float* in = ptr(m_inputs);
  float* x = ptr(m_x);
  for (int64_t i = 0; i < m_batch; ++i) {
    const int64_t r = rows[static_cast<size_t>(i)];
    m_batch_labels[static_cast<size_t>(i)] = m_labels.at(static_cast<size_t>(r));  // Checks r.
    std::memcpy(x + i * m_features, in + r * m_features, sizeof(float) * m_features);
  }
  // Forward: blocks, then the embedding layer (at::linear's addmm) and F::normalize.
  torch::Tensor h = m_x;
  for (auto& block : m_blocks) {
    forward_block(block, h);
    h = block.h;
  }
  linear_forward(m_out.weight, m_out.bias, h, m_e0);
  const int64_t dim = m_e.size(1);
  for (int64_t i = 0; i < m_batch; ++i) {
    const float* e0 = ptr(m_e0) + i * dim;
    float* e = ptr(m_e) + i * dim;
    float sq = 0;
    for (int64_t j = 0; j < dim; ++j) {
      sq += e0[j] * e0[j];
    }
    m_norm[static_cast<size_t>(i)] = std::sqrt(sq);
    const float denom = std::max(std::sqrt(sq), static_cast<float>(k_norm_eps));
    for (int64_t j = 0; j < dim; ++j) {
      e[j] = e0[j] / denom;
    }
  }
  const double loss = loss_and_embedding_grad();
  // Backward: normalisation, the embedding layer, then the blocks in reverse.
  normalise_backward();
  at::mm_out(m_out.weight_grad, m_grad_e.t(), h);
  column_sums(ptr(m_grad_e), m_batch, dim, ptr(m_out.bias_grad));
  if (m_blocks.empty()) {
    return loss;
  }
  torch::Tensor grad_h = rows_of(m_grad_a, m_blocks.back().h.size(1));
  at::mm_out(grad_h, m_grad_e, m_out.weight);
  for (size_t k = m_blocks.size(); k-- > 0;) {
    Block& block = m_blocks[k];
    const int64_t units = block.h.size(1);
    grad_h = rows_of(m_grad_a, units);
    torch::Tensor grad_z = rows_of(m_grad_b, units);
    backward_block(block, grad_h, grad_z);
    const torch::Tensor& input = k == 0 ? m_x : m_blocks[k - 1].h;
    at::mm_out(block.linear.weight_grad, grad_z.t(), input);
    column_sums(ptr(grad_z), m_batch, units, ptr(block.linear.bias_grad));
    if (k > 0) {
      torch::Tensor below = rows_of(m_grad_a, input.size(1));
      at::mm_out(below, grad_z, block.linear.weight);
    }
  }
  return loss;
}

void HeadStep::forward_block(Block& b, const torch::Tensor& input) {
  linear_forward(b.linear.weight, b.linear.bias, input, b.z);
  const int64_t n = m_batch;
  const int64_t units = b.z.size(1);
  const float* z = ptr(b.z);
  // Batch statistics: two passes accumulated in double (ATen's CPU accumulation type).
  std::fill(b.sum.begin(), b.sum.end(), 0.0);
  std::fill(b.sum2.begin(), b.sum2.end(), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < units; ++j) {
      b.sum[j] += z[i * units + j];
    }
  }
  for (int64_t j = 0; j < units; ++j) {
    b.sum[j] /= static_cast<double>(n);  // The mean.
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < units; ++j) {
      const double c = z[i * units + j] - b.sum[j];
      b.sum2[j] += c * c;
    }
  }
  // Running statistics as BatchNormImplBase::forward and ATen's batch_norm update them;
  // mean and invstd saved in fp32 and folded into y = z * scale + shift as ATen does.
  int64_t* batches = b.num_batches_tracked.data_ptr<int64_t>();
  *batches += 1;
  const double factor = b.momentum ? *b.momentum : 1.0 / static_cast<double>(*batches);
  float* running_mean = ptr(b.running_mean);
  float* running_var = ptr(b.running_var);
  const float* gamma = ptr(b.gamma);
  const float* beta = ptr(b.beta);
  for (int64_t j = 0; j < units; ++j) {
    const double var_sum = b.sum2[j];
    b.mean[j] = static_cast<float>(b.sum[j]);
    b.invstd[j] = static_cast<float>(1.0 / std::sqrt(var_sum / static_cast<double>(n) + b.eps));
    running_mean[j] = static_cast<float>(factor * b.sum[j] + (1 - factor) * running_mean[j]);
    running_var[j] = static_cast<float>(factor * var_sum / static_cast<double>(n - 1) +
                                        (1 - factor) * running_var[j]);
    b.scale[j] = b.invstd[j] * gamma[j];
    b.shift[j] = beta[j] - b.mean[j] * b.scale[j];
  }
  // ReLU, then dropout (LibTorch's rule: keep with probability 1 - p, times 1 / (1 - p)).
  float* out = ptr(b.h);
  if (b.dropout > 0) {
    const double keep = 1 - b.dropout;
    const auto threshold = static_cast<uint64_t>(std::ldexp(keep, 32));
    const float scale = 1.0f / static_cast<float>(keep);
    for (size_t i = 0; i < b.noise.size(); i += 2) {
      const uint64_t r = m_rng();
      b.noise[i] = (r & 0xffffffffu) < threshold ? scale : 0.0f;
      if (i + 1 < b.noise.size()) {
        b.noise[i + 1] = (r >> 32) < threshold ? scale : 0.0f;
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < units; ++j) {
      out[i * units + j] = std::max(z[i * units + j] * b.scale[j] + b.shift[j], 0.0f);
    }
  }
  if (b.dropout > 0) {
    for (int64_t i = 0; i < n * units; ++i) {
      out[i] *= b.noise[i];
    }
  }
}

void HeadStep::backward_block(Block& b, torch::Tensor& grad_h, torch::Tensor& grad_z) {
  const int64_t n = m_batch;
  const int64_t units = b.z.size(1);
  float* dy = ptr(grad_h);
  const float* out = ptr(b.h);
  // Dropout and ReLU: the gradient passes where the output is positive, times the mask.
  if (b.dropout > 0) {
    for (int64_t i = 0; i < n * units; ++i) {
      dy[i] *= b.noise[i];
    }
  }
  for (int64_t i = 0; i < n * units; ++i) {
    dy[i] = out[i] > 0 ? dy[i] : 0.0f;
  }
  // BatchNorm in training mode, as ATen's batch_norm_backward_cpu: sums in double, with
  // gamma' = sum(dy (z - mean)) invstd, beta' = sum(dy) and
  // dz = (dy - sum(dy) / n - (z - mean) sum(dy (z - mean)) invstd^2 / n) invstd gamma.
  const float* z = ptr(b.z);
  std::fill(b.sum.begin(), b.sum.end(), 0.0);
  std::fill(b.sum2.begin(), b.sum2.end(), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < units; ++j) {
      const float g = dy[i * units + j];
      b.sum[j] += g;
      b.sum2[j] += static_cast<double>((z[i * units + j] - b.mean[j]) * g);
    }
  }
  const float* gamma = ptr(b.gamma);
  float* gamma_grad = ptr(b.gamma_grad);
  float* beta_grad = ptr(b.beta_grad);
  float* grad_mean = b.scale.data();  // The forward's scale and shift are spent: reuse.
  float* k = b.shift.data();
  std::vector<float>& gain = b.gain;
  for (int64_t j = 0; j < units; ++j) {
    const double invstd = b.invstd[j];
    k[j] = static_cast<float>(b.sum2[j] * invstd * invstd / static_cast<double>(n));
    grad_mean[j] = static_cast<float>(b.sum[j] / static_cast<double>(n));
    gain[j] = static_cast<float>(invstd * gamma[j]);
    gamma_grad[j] = static_cast<float>(b.sum2[j] * invstd);
    beta_grad[j] = static_cast<float>(b.sum[j]);
  }
  float* dz = ptr(grad_z);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < units; ++j) {
      const float c = z[i * units + j] - b.mean[j];
      dz[i * units + j] = (dy[i * units + j] - grad_mean[j] - c * k[j]) * gain[j];
    }
  }
}

double HeadStep::loss_and_embedding_grad() {
  const int64_t n = m_batch;
  const int64_t dim = m_e.size(1);
  const bool squared = m_options.distance == Distance::Squared;
  // Distances as pairwise_distance: ||a||^2 + ||b||^2 - 2ab, clamped, zero-safe sqrt, 0 on
  // the diagonal.
  at::mm_out(m_d, m_e, m_e.t());
  std::vector<float> sq(static_cast<size_t>(n));
  const float* e = ptr(m_e);
  for (int64_t i = 0; i < n; ++i) {
    float s = 0;
    for (int64_t j = 0; j < dim; ++j) {
      s += e[i * dim + j] * e[i * dim + j];
    }
    sq[i] = s;
  }
  float* d = ptr(m_d);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float v = std::max(sq[i] + sq[j] - 2 * d[i * n + j], 0.0f);
      if (!squared) {
        v = v > 0 ? std::sqrt(v) : 0.0f;
      }
      d[i * n + j] = i == j ? 0.0f : v;
    }
  }
  std::fill(m_counts.begin(), m_counts.end(), 0.0f);
  const MiningSums sums =
      m_options.batch_hard
          ? batch_hard_mining(d, m_batch_labels.data(), n, m_options.margin, m_counts.data())
          : semihard_mining(d, m_batch_labels.data(), n, m_options.margin, m_counts.data(),
                            m_scratch);
  const double scale = 1.0 / static_cast<double>(std::max<int64_t>(sums.terms, 1));
  // d loss / d e_k = sum_j S_kj (e_k - e_j), S = (W + W^T) d'(d) with W = counts * scale
  // (as SemiHardFunction): d' = 1/d (0 where d = 0) for Euclidean distances, 2 for squared.
  float* s = ptr(m_s);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const auto w_ij = static_cast<float>(m_counts[i * n + j] * scale);
      const auto w_ji = static_cast<float>(m_counts[j * n + i] * scale);
      const float sym = w_ij + w_ji;
      const float dist = d[i * n + j];
      s[i * n + j] = squared ? sym * 2 : (dist > 0 ? sym / dist : 0.0f);
    }
  }
  at::mm_out(m_se, m_s, m_e);
  const float* se = ptr(m_se);
  float* grad = ptr(m_grad_e);
  for (int64_t i = 0; i < n; ++i) {
    float row_sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      row_sum += s[i * n + j];
    }
    for (int64_t j = 0; j < dim; ++j) {
      grad[i * dim + j] = row_sum * e[i * dim + j] - se[i * dim + j];
    }
  }
  return static_cast<float>(sums.hinge_sum * scale);
}

void HeadStep::normalise_backward() {
  // e = e0 / max(||e0||, eps): de0 = (de - e (de . e)) / ||e0||; below eps the clamp
  // passes no gradient to the norm, so de0 = de / eps.
  const int64_t dim = m_e.size(1);
  const float* e = ptr(m_e);
  float* g = ptr(m_grad_e);
  for (int64_t i = 0; i < m_batch; ++i) {
    const float norm = m_norm[static_cast<size_t>(i)];
    const float denom = std::max(norm, static_cast<float>(k_norm_eps));
    float* gi = g + i * dim;
    const float* ei = e + i * dim;
    float dot = 0;
    if (norm >= static_cast<float>(k_norm_eps)) {
      for (int64_t j = 0; j < dim; ++j) {
        dot += gi[j] * ei[j];
      }
    }
    for (int64_t j = 0; j < dim; ++j) {
      gi[j] = (gi[j] - ei[j] * dot) / denom;
    }
  }
}

}  // namespace hpt::trainer
