#pragma once
// Where and in which precision the trainer runs: the experiment's device and precision
// keys, autocast, fp16 loss scaling and host -> device copies.

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hpt::trainer {

// Resolves a device key ("auto", "cpu", "cuda", "cuda:N"). auto: CUDA device 0 when this
// LibTorch has CUDA and a device is visible, else the CPU. Throws hpt::ConfigError
// "<origin>: ..." when CUDA (or device N) is requested but not available.
torch::Device resolve_device(const std::string& key, const std::string& origin,
                             bool cuda_available, int64_t cuda_devices);
// The same with this process's LibTorch and visible devices.
torch::Device resolve_device(const std::string& key, const std::string& origin);

// One line for the log: "cpu (2 threads)" or "cuda:0 (1 visible CUDA device)".
std::string describe_device(const torch::Device& device);

// The autocast dtype of a precision key on a device: nullopt for fp32. Throws
// hpt::ConfigError "<origin>: ..." for fp16 on the CPU (LibTorch's CPU autocast only has
// bf16) or an unknown key.
std::optional<torch::ScalarType> autocast_dtype(const std::string& precision,
                                                const torch::Device& device,
                                                const std::string& origin);

// Enables autocast for the device type with dtype for its lifetime (nothing for nullopt);
// restores the previous state and clears the cast cache when it ends.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, std::optional<torch::ScalarType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool m_active = false;
  bool m_cuda = false;
  bool m_was_enabled = false;
  torch::ScalarType m_was_dtype = torch::kFloat32;
};

// Dynamic loss scaling for fp16 (PyTorch's GradScaler rule): scale the loss, unscale the
// gradients, skip the step when any is inf/NaN and halve the scale; double it after
// `growth_interval` clean steps. Disabled, it passes everything through.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double init_scale = 65536.0, int64_t growth_interval = 2000);
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Unscales the gradients of params in place; returns false (step must be skipped) if any
  // is not finite, and updates the scale.
  bool unscale_and_check(const std::vector<torch::Tensor>& params);
  double current_scale() const { return m_scale; }

 private:
  bool m_enabled;
  double m_scale;
  int64_t m_growth_interval;
  int64_t m_clean_steps = 0;
};

// A whole tensor on the device in one copy: pinned and non-blocking when the device is
// CUDA, unchanged when it is already there.
torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device);

// Converts a module's 4-D parameters and buffers to channels-last memory format (conv
// weights); inputs must then be made channels-last too.
void to_channels_last(const std::vector<torch::Tensor>& tensors);

}  // namespace hpt::trainer
