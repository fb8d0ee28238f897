#include "hpt/trainer/flat_adam.hpp"

#include <cmath>
#include <stdexcept>

namespace hpt::trainer {

namespace {

constexpr double k_beta1 = 0.9;
constexpr double k_beta2 = 0.999;
constexpr double k_eps = 1e-8;

bool flat_fp32_cpu(const torch::Tensor& t) {
  return t.defined() && t.is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

}  // namespace

FlatAdam::FlatAdam(torch::Tensor param, torch::Tensor grad)
    : m_param(std::move(param)), m_grad(std::move(grad)) {
  if (!flat_fp32_cpu(m_param) || !flat_fp32_cpu(m_grad) || m_param.numel() != m_grad.numel()) {
    throw std::invalid_argument(
        "FlatAdam: expected contiguous fp32 CPU parameter and gradient "
        "of the same size");
  }
  m_exp_avg = torch::zeros_like(m_param);
  m_exp_avg_sq = torch::zeros_like(m_param);
}

void FlatAdam::step(double lr) {
  ++m_step;
  // Scalars as torch::optim::Adam computes them (double), cast to float where its tensor
  // ops cast their scalar arguments.
  const double bias_correction1 = 1 - std::pow(k_beta1, static_cast<double>(m_step));
  const double bias_correction2 = 1 - std::pow(k_beta2, static_cast<double>(m_step));
  const auto beta1 = static_cast<float>(k_beta1);
  const auto one_minus_beta1 = static_cast<float>(1 - k_beta1);
  const auto beta2 = static_cast<float>(k_beta2);
  const auto one_minus_beta2 = static_cast<float>(1 - k_beta2);
  const auto sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
  const auto eps = static_cast<float>(k_eps);
  const auto minus_step_size = static_cast<float>(-(lr / bias_correction1));
  float* p = m_param.data_ptr<float>();
  const float* g = m_grad.data_ptr<float>();
  float* m = m_exp_avg.data_ptr<float>();
  float* v = m_exp_avg_sq.data_ptr<float>();
  const int64_t n = m_param.numel();
  for (int64_t i = 0; i < n; ++i) {
    // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
    m[i] = m[i] * beta1 + one_minus_beta1 * g[i];
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    v[i] = v[i] * beta2 + one_minus_beta2 * g[i] * g[i];
    // denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
    const float denom = std::sqrt(v[i]) / sqrt_bias_correction2 + eps;
    // p.addcdiv_(exp_avg, denom, -step_size)
    p[i] = p[i] + minus_step_size * (m[i] / denom);
  }
}

}  // namespace hpt::trainer
