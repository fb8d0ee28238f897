#include "hpt/trainer/device.hpp"

#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "hpt/experiment/device_choice.hpp"
#include "hpt/schema/config_error.hpp"

namespace hpt::trainer {

torch::Device resolve_device(const std::string& key, const std::string& origin,
                             bool cuda_available, int64_t cuda_devices) {
  const int64_t index = device_index(key, origin, {cuda_available, cuda_devices});
  return index < 0 ? torch::Device(torch::kCPU)
                   : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Device resolve_device(const std::string& key, const std::string& origin) {
  const bool available = torch::cuda::is_available();
  return resolve_device(key, origin, available,
                        available ? static_cast<int64_t>(torch::cuda::device_count()) : 0);
}

std::string describe_device(const torch::Device& device) {
  if (device.is_cuda()) {
    const auto n = torch::cuda::device_count();
    return fmt::format("{} ({} visible CUDA device{})", device.str(), n, n == 1 ? "" : "s");
  }
  return fmt::format("cpu ({} thread{})", torch::get_num_threads(),
                     torch::get_num_threads() == 1 ? "" : "s");
}

std::optional<torch::ScalarType> autocast_dtype(const std::string& precision,
                                                const torch::Device& device,
                                                const std::string& origin) {
  check_precision(precision, device.is_cuda(), origin);
  if (precision == "fp32") {
    return std::nullopt;
  }
  return precision == "bf16" ? torch::kBFloat16 : torch::kFloat16;
}

namespace {

// LibTorch 2.4 made autocast's state per device type and deprecated the CUDA/CPU pairs (which
// then warn at run time); 1.13 (Debian's) has only the pairs.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
at::DeviceType autocast_device(bool cuda) { return cuda ? at::kCUDA : at::kCPU; }
bool autocast_enabled(bool cuda) {
  return at::autocast::is_autocast_enabled(autocast_device(cuda));
}
void set_autocast_enabled(bool cuda, bool enabled) {
  at::autocast::set_autocast_enabled(autocast_device(cuda), enabled);
}
torch::ScalarType autocast_dtype_of(bool cuda) {
  return at::autocast::get_autocast_dtype(autocast_device(cuda));
}
void set_autocast_dtype(bool cuda, torch::ScalarType dtype) {
  at::autocast::set_autocast_dtype(autocast_device(cuda), dtype);
}
#else
bool autocast_enabled(bool cuda) {
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(bool cuda, bool enabled) {
  cuda ? at::autocast::set_enabled(enabled) : at::autocast::set_cpu_enabled(enabled);
}
torch::ScalarType autocast_dtype_of(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(bool cuda, torch::ScalarType dtype) {
  cuda ? at::autocast::set_autocast_gpu_dtype(dtype) : at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

}  // namespace

AutocastGuard::AutocastGuard(const torch::Device& device, std::optional<torch::ScalarType> dtype) {
  if (!dtype) {
    return;
  }
  m_active = true;
  m_cuda = device.is_cuda();
  m_was_enabled = autocast_enabled(m_cuda);
  m_was_dtype = autocast_dtype_of(m_cuda);
  set_autocast_dtype(m_cuda, *dtype);
  set_autocast_enabled(m_cuda, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!m_active) {
    return;
  }
  if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
  set_autocast_enabled(m_cuda, m_was_enabled);
  set_autocast_dtype(m_cuda, m_was_dtype);
}

LossScaler::LossScaler(bool enabled, double init_scale, int64_t growth_interval)
    : m_enabled(enabled), m_scale(init_scale), m_growth_interval(growth_interval) {}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) const {
  return m_enabled ? loss * m_scale : loss;
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  if (!m_enabled) {
    return true;
  }
  torch::NoGradGuard no_grad;
  torch::Tensor bad;
  for (const auto& p : params) {
    if (!p.grad().defined()) {
      continue;
    }
    auto g = p.mutable_grad();
    g.mul_(1.0 / m_scale);
    auto b = torch::isfinite(g).all().logical_not();
    bad = bad.defined() ? bad.logical_or(b) : b;
  }
  const bool finite = !bad.defined() || !bad.item<bool>();  // One sync per step.
  if (!finite) {
    m_scale /= 2;
    m_clean_steps = 0;
  } else if (++m_clean_steps >= m_growth_interval) {
    m_scale *= 2;
    m_clean_steps = 0;
  }
  return finite;
}

torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  if (t.device() == device) {
    return t;
  }
  if (device.is_cuda() && t.device().is_cpu()) {
    return t.pin_memory().to(device, /*non_blocking=*/true);
  }
  return t.to(device);
}

void to_channels_last(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (auto t : tensors) {
    if (t.dim() == 4) {
      t.set_data(t.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

}  // namespace hpt::trainer
