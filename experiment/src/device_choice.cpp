#include "hpt/experiment/device_choice.hpp"

#include <fmt/format.h>

#include "hpt/schema/config_error.hpp"

namespace hpt::trainer {

bool is_device_key(const std::string& key) {
  if (key == "auto" || key == "cpu" || key == "cuda") {
    return true;
  }
  const std::string digits = key.rfind("cuda:", 0) == 0 ? key.substr(5) : "";
  return !digits.empty() && digits.size() <= 4 &&
         digits.find_first_not_of("0123456789") == std::string::npos;
}

int64_t device_index(const std::string& key, const std::string& origin,
                     const DeviceSupport& support) {
  const bool has_cuda = support.cuda_available && support.cuda_devices > 0;
  if (key == "cpu" || (key == "auto" && !has_cuda)) {
    return -1;
  }
  if (key == "auto") {
    return 0;
  }
  if (!is_device_key(key)) {
    throw ConfigError(
        fmt::format("{}: expected auto, cpu, cuda or cuda:N, got \"{}\"", origin, key));
  }
  if (!has_cuda) {
    throw ConfigError(fmt::format(
        "{}: {} requested, but {}", origin, key,
        support.cuda_available
            ? "no CUDA device is visible (CUDA_VISIBLE_DEVICES?)"
            : "this hpt was built with a CPU-only LibTorch (see scripts/gpu-check.sh)"));
  }
  const int64_t index = key == "cuda" ? 0 : std::stoll(key.substr(5));
  if (index >= support.cuda_devices) {
    throw ConfigError(fmt::format("{}: {} requested, but only {} CUDA device{} visible", origin,
                                  key, support.cuda_devices,
                                  support.cuda_devices == 1 ? " is" : "s are"));
  }
  return index;
}

void check_precision(const std::string& precision, bool on_cuda, const std::string& origin) {
  if (precision != "fp32" && precision != "bf16" && precision != "fp16") {
    throw ConfigError(
        fmt::format("{}: expected fp32, bf16 or fp16, got \"{}\"", origin, precision));
  }
  if (precision == "fp16" && !on_cuda) {
    throw ConfigError(fmt::format(
        "{}: fp16 needs a CUDA device (LibTorch's CPU autocast has only bf16); use bf16 or fp32",
        origin));
  }
}

}  // namespace hpt::trainer
