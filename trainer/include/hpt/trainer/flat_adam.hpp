#pragma once
// torch::optim::Adam's update fused into one pass over one flat fp32 CPU parameter buffer
// (the hand-written head step's optimiser; training.cpp's flatten_parameters makes the
// buffer).

#include <torch/torch.h>

#include <cstdint>

namespace hpt::trainer {

// Adam with torch::optim::AdamOptions' defaults (betas 0.9 / 0.999, eps 1e-8, no weight
// decay, no AMSGrad, bias correction), the same arithmetic in the same order per element
// as torch::optim::Adam::step, in one loop instead of six tensor passes.
class FlatAdam {
 public:
  // param and grad: contiguous fp32 CPU tensors of the same size (grad is read at each
  // step). Throws std::invalid_argument otherwise.
  FlatAdam(torch::Tensor param, torch::Tensor grad);

  // One update with learning rate lr (the moments start at 0; step counts from 1).
  void step(double lr);
  int64_t steps() const { return m_step; }

 private:
  torch::Tensor m_param;
  torch::Tensor m_grad;
  torch::Tensor m_exp_avg;
  torch::Tensor m_exp_avg_sq;
  int64_t m_step = 0;
};

}  // namespace hpt::trainer
