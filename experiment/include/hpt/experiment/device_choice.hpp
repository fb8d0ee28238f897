#pragma once
// Which device and precision a run can have, decided without LibTorch: the trainer resolves
// its device keys with it, and the engine checks a study's settings with it before the first
// trial, from what `hpt-train devices` says this machine's LibTorch offers.

#include <cstdint>
#include <string>

namespace hpt::trainer {

// What a LibTorch offers: whether it was built with CUDA, and the CUDA devices visible.
struct DeviceSupport {
  bool cuda_available = false;
  int64_t cuda_devices = 0;
};

// "auto", "cpu", "cuda" or "cuda:N" with N a small non-negative integer (at most 4 digits).
bool is_device_key(const std::string& key);

// The CUDA device index a device key ("auto", "cpu", "cuda", "cuda:N") resolves to, or -1 for
// the CPU. auto: CUDA device 0 when one is visible, else the CPU. Throws hpt::ConfigError
// "<origin>: ..." for an unknown key, or CUDA (device N) requested but not available.
int64_t device_index(const std::string& key, const std::string& origin,
                     const DeviceSupport& support);

// Throws hpt::ConfigError "<origin>: ..." for a precision key a run on that device cannot have:
// fp16 off CUDA (LibTorch's CPU autocast has only bf16), or a key not fp32, bf16 or fp16.
void check_precision(const std::string& precision, bool on_cuda, const std::string& origin);

}  // namespace hpt::trainer
