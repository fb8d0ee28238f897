#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/schema/config_error.hpp"
#include "hpt/trainer/device.hpp"

using namespace hpt::trainer;
using hpt::ConfigError;

// auto picks CUDA device 0 only when CUDA is built in and a device is visible, else the CPU.
TEST_CASE("auto device follows what is available", "[device]") {
  CHECK(resolve_device("auto", "x", false, 0) == torch::Device(torch::kCPU));
  CHECK(resolve_device("auto", "x", true, 0) == torch::Device(torch::kCPU));
  CHECK(resolve_device("auto", "x", true, 2) == torch::Device(torch::kCUDA, 0));
  CHECK(resolve_device("cpu", "x", true, 2) == torch::Device(torch::kCPU));
  CHECK(resolve_device("cuda:1", "x", true, 2) == torch::Device(torch::kCUDA, 1));
  // This machine's LibTorch: auto is whatever it has, and never throws.
  const torch::Device here = resolve_device("auto", "x");
  CHECK(here.is_cuda() == (torch::cuda::is_available() && torch::cuda::device_count() > 0));
}

// Requesting CUDA where there is none (or too few devices) is one line naming the key.
TEST_CASE("cuda without CUDA is an error naming the key", "[device]") {
  CHECK_THROWS_WITH(resolve_device("cuda", "exp.yaml:4: device", false, 0),
                    Catch::StartsWith("exp.yaml:4: device: cuda requested, but this hpt was "
                                      "built with a CPU-only LibTorch"));
  CHECK_THROWS_WITH(resolve_device("cuda:0", "d", true, 0),
                    Catch::Contains("no CUDA device is visible"));
  CHECK_THROWS_WITH(resolve_device("cuda:2", "d", true, 2),
                    "d: cuda:2 requested, but only 2 CUDA devices are visible");
  CHECK_THROWS_AS(resolve_device("tpu", "d", true, 1), ConfigError);
  if (!torch::cuda::is_available()) {
    CHECK_THROWS_AS(resolve_device("cuda", "d"), ConfigError);
  }
}

// fp32 needs no autocast, bf16 autocasts anywhere, fp16 is refused on the CPU.
TEST_CASE("precision maps to an autocast dtype", "[device][precision]") {
  CHECK_FALSE(autocast_dtype("fp32", torch::kCPU, "precision").has_value());
  CHECK(autocast_dtype("bf16", torch::kCPU, "precision") == torch::kBFloat16);
  CHECK(autocast_dtype("fp16", torch::Device(torch::kCUDA, 0), "p") == torch::kFloat16);
  CHECK_THROWS_WITH(autocast_dtype("fp16", torch::kCPU, "x.yaml:3: precision"),
                    Catch::StartsWith("x.yaml:3: precision: fp16 needs a CUDA device"));
  CHECK_THROWS_AS(autocast_dtype("fp8", torch::kCPU, "p"), ConfigError);
}

// bf16 autocast works on the CPU: a Linear inside the guard computes in bf16, and the
// previous state is back afterwards.
TEST_CASE("bf16 autocast on the CPU", "[device][precision]") {
  torch::nn::Linear linear(8, 4);
  auto x = torch::randn({3, 8});
  {
    AutocastGuard guard(torch::kCPU, torch::kBFloat16);
    auto y = linear(x);
    CHECK(y.scalar_type() == torch::kBFloat16);
    y.to(torch::kFloat32).sum().backward();  // Gradients flow back to fp32 weights.
  }
  CHECK(linear->weight.grad().scalar_type() == torch::kFloat32);
  CHECK(linear->weight.grad().abs().sum().item<double>() > 0);
  CHECK(linear(x).scalar_type() == torch::kFloat32);
  {
    AutocastGuard none(torch::kCPU, std::nullopt);
    CHECK(linear(x).scalar_type() == torch::kFloat32);
  }
}

// The loss scaler unscales gradients, skips steps with inf/NaN and halves its scale, and
// doubles it after growth_interval clean steps; disabled, it changes nothing.
TEST_CASE("fp16 loss scaling", "[device][precision]") {
  auto p = torch::ones({2}).set_requires_grad(true);
  LossScaler scaler(true, 8.0, 2);
  scaler.scale(p.sum()).backward();
  CHECK(p.grad().equal(torch::full({2}, 8.0)));
  CHECK(scaler.unscale_and_check({p}));
  CHECK(p.grad().equal(torch::ones({2})));
  p.mutable_grad().fill_(std::numeric_limits<float>::infinity());
  CHECK_FALSE(scaler.unscale_and_check({p}));
  CHECK(scaler.current_scale() == 4.0);
  p.mutable_grad().fill_(1.0);
  CHECK(scaler.unscale_and_check({p}));
  CHECK(scaler.unscale_and_check({p}));
  CHECK(scaler.current_scale() == 8.0);
  LossScaler off(false);
  auto loss = p.sum();
  CHECK(off.scale(loss).equal(loss));
  p.mutable_grad().fill_(std::numeric_limits<float>::quiet_NaN());
  CHECK(off.unscale_and_check({p}));
}

// to_device is a no-op on the same device; channels-last converts only 4-D tensors.
TEST_CASE("device copies and channels-last", "[device]") {
  auto t = torch::arange(6);
  CHECK(to_device(t, torch::kCPU).data_ptr() == t.data_ptr());
  auto w = torch::randn({4, 3, 3, 3});
  auto b = torch::randn({4});
  to_channels_last({w, b});
  CHECK(w.is_contiguous(torch::MemoryFormat::ChannelsLast));
  CHECK_FALSE(w.is_contiguous());
  CHECK(b.is_contiguous());
}
