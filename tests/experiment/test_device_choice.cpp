#include <catch2/catch.hpp>

#include "hpt/experiment/device_choice.hpp"
#include "hpt/schema/config_error.hpp"

using hpt::trainer::check_precision;
using hpt::trainer::device_index;
using hpt::trainer::DeviceSupport;
using hpt::trainer::is_device_key;

// auto is CUDA device 0 only when CUDA is built in and a device is visible; cpu never needs it.
TEST_CASE("device_index resolves keys against what LibTorch offers", "[device_choice]") {
  const DeviceSupport cpu_only{false, 0};
  const DeviceSupport none_visible{true, 0};
  const DeviceSupport two{true, 2};
  CHECK(device_index("auto", "o", cpu_only) == -1);
  CHECK(device_index("auto", "o", none_visible) == -1);
  CHECK(device_index("auto", "o", two) == 0);
  CHECK(device_index("cpu", "o", two) == -1);
  CHECK(device_index("cuda", "o", two) == 0);
  CHECK(device_index("cuda:1", "o", two) == 1);
  CHECK_THROWS_WITH(device_index("cuda", "cfg.yaml: fixed.device", cpu_only),
                    "cfg.yaml: fixed.device: cuda requested, but this hpt was built with a "
                    "CPU-only LibTorch (see scripts/gpu-check.sh)");
  CHECK_THROWS_WITH(device_index("cuda:0", "o", none_visible),
                    "o: cuda:0 requested, but no CUDA device is visible (CUDA_VISIBLE_DEVICES?)");
  CHECK_THROWS_WITH(device_index("cuda:2", "o", two),
                    "o: cuda:2 requested, but only 2 CUDA devices are visible");
  CHECK_THROWS_WITH(device_index("cuda:1", "o", DeviceSupport{true, 1}),
                    "o: cuda:1 requested, but only 1 CUDA device is visible");
  CHECK_THROWS_AS(device_index("gpu", "o", two), hpt::ConfigError);
}

TEST_CASE("is_device_key", "[device_choice]") {
  for (const char* key : {"auto", "cpu", "cuda", "cuda:0", "cuda:9999"}) {
    CHECK(is_device_key(key));
  }
  for (const char* key : {"", "gpu", "cuda:", "cuda:-1", "cuda:10000", "cuda:1x", "CPU"}) {
    CHECK_FALSE(is_device_key(key));
  }
}

// fp16 needs CUDA (LibTorch's CPU autocast has only bf16); fp32 and bf16 run anywhere.
TEST_CASE("check_precision", "[device_choice]") {
  CHECK_NOTHROW(check_precision("fp32", false, "o"));
  CHECK_NOTHROW(check_precision("bf16", false, "o"));
  CHECK_NOTHROW(check_precision("fp16", true, "o"));
  CHECK_THROWS_WITH(check_precision("fp16", false, "o"),
                    "o: fp16 needs a CUDA device (LibTorch's CPU autocast has only bf16); use "
                    "bf16 or fp32");
  CHECK_THROWS_WITH(check_precision("fp8", true, "o"), "o: expected fp32, bf16 or fp16, got \"fp8\"");
}
