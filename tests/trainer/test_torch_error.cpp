#include <torch/script.h>

#include <fstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/torch_error.hpp"
#include "support/temp_dir.hpp"

using hpt::trainer::torch_error_line;

// A LibTorch error (here: loading a file that is no TorchScript archive) reads as its first
// line, without the C++ backtrace; any other exception as its message.
TEST_CASE("torch_error_line", "[torch_error]") {
  hpt::test::TempDir tmp("torch-error");
  std::ofstream(tmp.file("junk.pt")) << "not a zip archive";
  std::string line;
  try {
    torch::jit::load(tmp.file("junk.pt"));
    FAIL("torch::jit::load accepted junk");
  } catch (const c10::Error& e) {
    REQUIRE(std::string(e.what()).find("\n") != std::string::npos);  // LibTorch's backtrace.
    line = torch_error_line(e);
  }
  CHECK_THAT(line, Catch::Contains("PytorchStreamReader failed reading zip archive"));
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find("Exception raised from") == std::string::npos);
  CHECK(torch_error_line(std::runtime_error("plain\nmessage")) == "plain\nmessage");
}

// An error inside a TorchScript module (here an op given the wrong shapes) reads as its last
// line, the error itself, not the interpreter's tracebacks of the module's source.
TEST_CASE("torch_error_line of a TorchScript module's error", "[torch_error]") {
  torch::jit::Module module("__torch__.Raises");
  module.define("def forward(self, x):\n  return x.mm(x)\n");
  try {
    module.forward({torch::zeros({2, 3})});
    FAIL("the module did not raise");
  } catch (const std::exception& e) {
    REQUIRE(std::string(e.what()).find("Traceback of TorchScript") != std::string::npos);
    CHECK(torch_error_line(e) ==
          "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
  }
}
