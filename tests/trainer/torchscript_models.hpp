#pragma once
// Small TorchScript models written by Debian's python3-torch (1.13, LibTorch's version), as a
// user would export them: cnn_a.pt / cnn_b.pt (3-channel CNNs, seeds 0 and 1, 64 features),
// cnn_gray.pt (1-channel CNN), echo.pt (returns its input flattened) and echo_gray.pt
// (returns (flattened input, input), declaring hpt_input_channels/size/mean/std);
// echo_huge.pt and echo_zero_std.pt declare an input size of 100000 and a std of 0;
// bn_traced_train.pt is a conv and BatchNorm traced in training mode (batch statistics baked
// in, whatever eval() says).

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support/temp_dir.hpp"

namespace hpt::test {

inline constexpr const char* k_torchscript_script = R"PY(
import sys
try:
    import torch
    import torch.nn as nn
except ImportError:
    sys.exit(77)
from typing import Tuple

out = sys.argv[1]


class Cnn(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2))

    def forward(self, x):
        return self.body(x).flatten(1)


class Echo(nn.Module):
    def forward(self, x):
        return x.flatten(1)


class EchoGray(nn.Module):
    def __init__(self):
        super().__init__()
        self.hpt_input_channels = 1
        self.hpt_input_size = 4
        self.hpt_input_mean = [0.5]
        self.hpt_input_std = [0.25]

    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        return x.flatten(1), x


class EchoDeclaring(nn.Module):
    """Declares an input size and std, as a careless or hostile export might."""

    def __init__(self, size: int, std: float):
        super().__init__()
        self.hpt_input_size = size
        self.hpt_input_std = [std, std, std]

    def forward(self, x):
        return x.flatten(1)


for seed, name, channels in ((0, "cnn_a", 3), (1, "cnn_b", 3), (2, "cnn_gray", 1)):
    torch.manual_seed(seed)
    torch.jit.script(Cnn(channels).eval()).save(f"{out}/{name}.pt")
torch.jit.script(Echo()).save(f"{out}/echo.pt")
torch.jit.script(EchoGray()).save(f"{out}/echo_gray.pt")
torch.jit.script(EchoDeclaring(100000, 0.25)).save(f"{out}/echo_huge.pt")
torch.jit.script(EchoDeclaring(8, 0.0)).save(f"{out}/echo_zero_std.pt")
torch.manual_seed(3)
bn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Flatten(1)).train()
torch.jit.trace(bn, torch.rand(4, 3, 8, 8)).save(f"{out}/bn_traced_train.pt")
)PY";

// The folder holding the models (written once per test process), or "" when python3 cannot
// import torch. Throws if the script fails otherwise.
inline std::string torchscript_models() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    const fs::path d = process_temp_dir("ts");
    std::ofstream(d / "make_models.py") << k_torchscript_script;
    const std::string cmd = "/usr/bin/python3 " + (d / "make_models.py").string() + " " +
                            d.string() + " > " + (d / "python.log").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    if (WIFEXITED(rc) && (WEXITSTATUS(rc) == 77 || WEXITSTATUS(rc) == 127)) {  // No torch.
      return std::string();
    }
    if (rc != 0) {
      throw std::runtime_error("writing TorchScript models failed: see " +
                               (d / "python.log").string());
    }
    return d.string();
  }();
  return dir;
}

}  // namespace hpt::test
