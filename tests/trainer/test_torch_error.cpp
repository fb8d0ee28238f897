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
  CHECK(torch_error_line(std::runtime_error("plain\nmessage")) == "plain");
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

// Other exceptions read as their first non-empty line: a TorchScript compilation error starts
// with a blank line and goes on to quote the module's source (it was quoted whole, cut at 200
// bytes).
TEST_CASE("torch_error_line of a compilation error is its first line", "[torch_error]") {
  torch::jit::Module module("__torch__.Unknown");
  try {
    module.define("def forward(self, x):\n  return torch.mean_from_the_future(x)\n");
    FAIL("an unknown op compiled");
  } catch (const std::exception& e) {
    REQUIRE(std::string(e.what()).find('\n') != std::string::npos);
    CHECK(torch_error_line(e) == "Unknown builtin op: aten::mean_from_the_future.");
  }
  CHECK(torch_error_line(std::runtime_error("\n\n  first  \nsecond")) == "first");
  CHECK(torch_error_line(std::runtime_error("")).empty());
}

// shortened keeps a message whole when it fits and otherwise cuts it after a whole word (the
// error of a file from a newer PyTorch was cut "... may be too o").
TEST_CASE("shortened cuts at a word", "[torch_error]") {
  using hpt::trainer::shortened;
  const std::string newer =
      "[enforce fail at inline_container.cc:165] . Attempted to read a PyTorch file with version "
      "99, but the maximum supported version for reading is 10. The version of your PyTorch "
      "installation may be too old, please upgrade PyTorch to latest version to mitigate this "
      "issue.";
  CHECK(shortened(newer, 300) == newer);
  CHECK(shortened(newer, 200) ==
        "[enforce fail at inline_container.cc:165] . Attempted to read a PyTorch file with version "
        "99, but the maximum supported version for reading is 10. The version of your PyTorch "
        "installation may be too...");
  CHECK(shortened("one two", 4) == "one...");  // The space just after the limit counts.
  CHECK(shortened("one, two", 5) == "one...");
  CHECK(shortened("abcdefgh", 3) == "abc...");               // One long word: cut inside it.
  CHECK(shortened("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9...");  // Never inside a character.
}
