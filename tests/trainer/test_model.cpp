#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <tuple>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/model.hpp"
#include "support/temp_dir.hpp"
#include "torchscript_models.hpp"

using namespace hpt::trainer;

namespace {

// A TorchScript module built and saved by LibTorch itself (no Python): `methods` is its
// TorchScript source; attributes and parameters are added as given. Returns the file's path.
std::string script_file(const hpt::test::TempDir& dir, const std::string& name,
                        const std::string& methods,
                        const std::vector<std::pair<std::string, torch::IValue>>& attributes = {},
                        const std::vector<std::pair<std::string, torch::Tensor>>& parameters = {}) {
  torch::jit::Module module("__torch__." + name);
  for (const auto& [attribute, value] : attributes) {
    module.register_attribute(attribute, value.type(), value);
  }
  for (const auto& [parameter, value] : parameters) {
    module.register_parameter(parameter, value, false);
  }
  module.define(methods);
  const std::string path = dir.file(name + ".pt");
  module.save(path);
  return path;
}

}  // namespace

// The head maps [N, F] to unit-norm [N, D] through the configured FF blocks.
TEST_CASE("embedding head shape and L2 norm", "[model]") {
  torch::manual_seed(0);
  EmbeddingHead head(EmbeddingHeadOptions(10, 4).units({8, 6}).dropout(0.2));
  head->eval();
  auto out = head->forward(torch::randn({5, 10}));
  CHECK((out.sizes() == torch::IntArrayRef{5, 4}));
  CHECK((torch::allclose(out.norm(2, 1), torch::ones({5}), 1e-5, 1e-6)));
  // Linear + BN + ReLU + Dropout per block, then the output Linear.
  CHECK(head->parameters().size() == 2 * 4 + 2);
  EmbeddingHead plain(EmbeddingHeadOptions(3, 2));
  CHECK((plain->forward(torch::randn({2, 3, 1, 1})).sizes() == torch::IntArrayRef{2, 2}));
}

// The built-in CNN takes 1 or 3 channels and any side >= 16, giving 16 * width features
// (average and max pooled), or 8 * width with the average pool alone.
TEST_CASE("builtin cnn sizes", "[model]") {
  for (int64_t c : {1, 3}) {
    for (int64_t side : {16, 28, 40}) {
      BuiltinCnn cnn(BuiltinCnnOptions().in_channels(c).width(4));
      cnn->eval();
      CHECK((cnn->forward(torch::randn({2, c, side, side})).sizes() == torch::IntArrayRef{2, 64}));
      CHECK(cnn->feature_dim() == 64);
    }
  }
  BuiltinCnn average(BuiltinCnnOptions().width(4).avg_max(false));
  average->eval();
  const auto x = torch::randn({3, 1, 20, 20});
  CHECK((average->forward(x).sizes() == torch::IntArrayRef{3, 32}));
  CHECK(average->feature_dim() == 32);
  // Both poolings see the same maps: the first half of avg+max is the average, the second
  // half is at least as large everywhere.
  BuiltinCnn both(BuiltinCnnOptions().width(4));
  both->eval();
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < both->parameters().size(); ++i) {
    both->parameters()[i].copy_(average->parameters()[i]);
  }
  const auto f = both->forward(x);
  CHECK(torch::allclose(f.narrow(1, 0, 32), average->forward(x)));
  CHECK((f.narrow(1, 32, 32) >= f.narrow(1, 0, 32) - 1e-6).all().item<bool>());
}

// double_conv_stages adds a second conv-BN-ReLU to the last stages: 4 convolutions without,
// 6 with the default 2.
TEST_CASE("builtin cnn depth", "[model]") {
  auto convs = [](const BuiltinCnn& cnn) {
    int n = 0;
    for (const auto& m : cnn->modules(false)) {
      n += m->as<torch::nn::Conv2d>() != nullptr ? 1 : 0;
    }
    return n;
  };
  CHECK(convs(BuiltinCnn(BuiltinCnnOptions().width(4).double_conv_stages(0))) == 4);
  CHECK(convs(BuiltinCnn(BuiltinCnnOptions().width(4))) == 6);
  CHECK(convs(BuiltinCnn(BuiltinCnnOptions().width(4).double_conv_stages(4))) == 8);
}

// An ensemble of members CNNs gives each member's L2-normalised features side by side; member
// 0's weights keep the names of a one-member CNN ("body.*"), so its parameters load into it,
// and the members start from different weights.
TEST_CASE("builtin cnn ensemble", "[model]") {
  torch::manual_seed(3);
  BuiltinCnn pair(BuiltinCnnOptions().width(4).members(2));
  pair->eval();
  CHECK(pair->member_dim() == 64);
  CHECK(pair->feature_dim() == 128);
  const auto x = torch::randn({3, 1, 20, 20});
  const auto members = pair->member_features(x);
  REQUIRE(members.size() == 2);
  CHECK_FALSE(torch::allclose(members[0], members[1]));
  const auto f = pair->forward(x);
  CHECK((f.sizes() == torch::IntArrayRef{3, 128}));
  namespace F = torch::nn::functional;
  const auto unit = F::NormalizeFuncOptions().dim(1);
  CHECK(torch::allclose(f.narrow(1, 0, 64), F::normalize(members[0], unit), 1e-5, 1e-6));
  CHECK(torch::allclose(f.narrow(1, 64, 64), F::normalize(members[1], unit), 1e-5, 1e-6));
  BuiltinCnn single(BuiltinCnnOptions().width(4));
  single->eval();
  torch::NoGradGuard no_grad;
  const auto named = pair->named_parameters();
  for (const auto& p : single->named_parameters()) {
    INFO(p.key());
    REQUIRE(named.contains(p.key()));
    p.value().copy_(named[p.key()]);
  }
  CHECK(named.contains("body1.0.weight"));
  CHECK(torch::allclose(single->forward(x), members[0]));
}

// to_input converts channels, resizes and normalises with the spec.
TEST_CASE("input normalisation", "[model]") {
  auto img = torch::full({1, 4, 4, 1}, 51, torch::kUInt8);  // 0.2
  InputSpec spec;
  spec.channels = 3;
  spec.size = 8;
  spec.mean = {0.1, 0.2, 0.3};
  spec.std = {0.5, 0.5, 0.5};
  auto x = to_input(img, spec);
  CHECK((x.sizes() == torch::IntArrayRef{1, 3, 8, 8}));
  CHECK(x[0][0][3][3].item<float>() == Approx(0.2));
  CHECK(x[0][1][0][0].item<float>() == Approx(0.0).margin(1e-6));
  auto fitted = fit_input_spec(torch::tensor({0, 255}, torch::kUInt8).view({2, 1, 1, 1}));
  CHECK(fitted.mean[0] == Approx(0.5));
  CHECK(input_spec_from_json(to_json(spec)).mean == spec.mean);
}

// The uint8 histogram path of fit_input_spec gives the float64 tensor path's mean and
// unbiased std per channel.
TEST_CASE("fit_input_spec on uint8 images matches the float computation", "[model]") {
  torch::manual_seed(3);
  const auto images = torch::randint(0, 256, {7, 5, 4, 3}, torch::kUInt8);
  const auto fast = fit_input_spec(images);
  const auto slow = fit_input_spec(images.to(torch::kFloat32));  // The tensor path.
  REQUIRE(fast.mean.size() == 3);
  for (size_t k = 0; k < 3; ++k) {
    CHECK(fast.mean[k] == Approx(slow.mean[k]).epsilon(1e-9));
    CHECK(fast.std[k] == Approx(slow.std[k]).epsilon(1e-9));
  }
  const auto x = images.reshape({-1, 3}).to(torch::kFloat64).div(255.0);
  CHECK(fast.mean[1] == Approx(x.select(1, 1).mean().item<double>()).epsilon(1e-12));
  CHECK(fast.std[2] == Approx(x.select(1, 2).std().item<double>()).epsilon(1e-12));
}

// A frozen extractor has no gradients; save/load reproduces its features.
TEST_CASE("extractor freeze and save/load", "[model]") {
  torch::manual_seed(1);
  InputSpec spec;
  FeatureExtractor ex(BuiltinCnn(BuiltinCnnOptions().width(4)), spec, "id");
  for (auto& p : ex.parameters()) {
    CHECK_FALSE(p.requires_grad());
  }
  ex.set_trainable(true);
  CHECK(ex.parameters()[0].requires_grad());
  hpt::test::TempDir tmp("extractor");
  const auto& dir = tmp.path();
  auto entry = ex.save(dir.string());
  auto loaded = FeatureExtractor::load(entry, dir.string());
  auto images = torch::randint(0, 256, {3, 16, 16, 1}).to(torch::kUInt8);
  CHECK(torch::allclose(ex.extract(images), loaded.extract(images)));
  CHECK(loaded.identity() == "id");
  FeatureExtractor pair(BuiltinCnn(BuiltinCnnOptions().width(4).members(3)), spec, "pair");
  auto pair_entry = pair.save(dir.string());
  CHECK(pair_entry.at("members") == 3);
  auto pair_loaded = FeatureExtractor::load(pair_entry, dir.string());
  CHECK(pair_loaded.feature_dim() == 192);
  CHECK(torch::allclose(pair.extract(images), pair_loaded.extract(images)));
  pair_entry["members"] = 9;  // More than hpt makes: refused before anything is allocated.
  CHECK_THROWS_WITH(FeatureExtractor::load(pair_entry, dir.string()),
                    "extractor.members: expected an integer from 1 to 8, got 9");
  CHECK_THROWS_WITH(FeatureExtractor::torchscript("/nonexistent/model.pt", 32),
                    Catch::Contains("/nonexistent/model.pt"));
}

// Declared attributes no extractor can take are refused when the model is loaded, naming the
// file: an input size of 100000 (10^10 pixels an image at the first batch), a std of 0.
TEST_CASE("torchscript input attributes are checked", "[model][torchscript]") {
  const std::string dir = hpt::test::torchscript_models();
  if (dir.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  CHECK_THROWS_WITH(FeatureExtractor::torchscript(dir + "/echo_huge.pt", 28),
                    "TorchScript extractor " + dir +
                        "/echo_huge.pt: the module's hpt_input_* attributes: size must be 0 "
                        "(any) to 2048, got 100000");
  CHECK_THROWS_WITH(FeatureExtractor::torchscript(dir + "/echo_zero_std.pt", 28),
                    Catch::Contains("echo_zero_std.pt: the module's hpt_input_* attributes: std: "
                                    "expected positive finite values, got 0"));
}

// A TorchScript extractor gets float NCHW (pixel / 255 - mean) / std: by default 3 channels
// (grey repeated) with ImageNet statistics at the dataset size; declared attributes override
// channels, size, mean and std; a 1-channel conv is detected from its first weight.
TEST_CASE("torchscript input contract", "[model][torchscript]") {
  const std::string dir = hpt::test::torchscript_models();
  if (dir.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  const double k_mean[] = {0.485, 0.456, 0.406};
  const double k_std[] = {0.229, 0.224, 0.225};
  auto echo = FeatureExtractor::torchscript(dir + "/echo.pt", 6);
  CHECK(echo.input_spec().channels == 3);
  CHECK(echo.input_spec().size == 6);
  auto grey = torch::full({2, 6, 6, 1}, 51, torch::kUInt8);  // 0.2
  auto f = echo.extract(grey);
  REQUIRE((f.sizes() == torch::IntArrayRef{2, 3 * 36}));
  for (int c = 0; c < 3; ++c) {
    CHECK(f[1][c * 36 + 7].item<double>() == Approx((0.2 - k_mean[c]) / k_std[c]).epsilon(1e-5));
  }
  CHECK(echo.feature_dim() == 108);
  // RGB input of another size is resized to 6 x 6.
  CHECK((echo.extract(torch::zeros({1, 9, 9, 3}, torch::kUInt8)).sizes() ==
         torch::IntArrayRef{1, 108}));

  auto echo_gray = FeatureExtractor::torchscript(dir + "/echo_gray.pt", 6);
  CHECK(echo_gray.input_spec().channels == 1);
  CHECK(echo_gray.input_spec().size == 4);
  auto red = torch::zeros({1, 8, 8, 3}, torch::kUInt8);
  red.select(3, 0).fill_(255);
  auto g = echo_gray.extract(red);  // Tuple output: the first element is the features.
  REQUIRE((g.sizes() == torch::IntArrayRef{1, 16}));
  CHECK(g[0][5].item<double>() == Approx((0.299 - 0.5) / 0.25).epsilon(1e-4));

  auto cnn_gray = FeatureExtractor::torchscript(dir + "/cnn_gray.pt", 16);
  CHECK(cnn_gray.input_spec().channels == 1);
  CHECK(cnn_gray.input_spec().mean == std::vector<double>{0.449});
  CHECK(cnn_gray.feature_dim() == 64);
  CHECK((cnn_gray.extract(torch::zeros({2, 16, 16, 1}, torch::kUInt8)).sizes() ==
         torch::IntArrayRef{2, 64}));
  auto cnn = FeatureExtractor::torchscript(dir + "/cnn_a.pt", 16);
  CHECK(cnn.input_spec().channels == 3);
  CHECK(cnn.parameters().size() == 8);  // Two conv (weight, bias) + two BN (weight, bias).
  CHECK_FALSE(cnn.parameters()[0].requires_grad());
}

// An output that breaks the extractor contract is refused when the module is loaded (a probe
// batch), one line naming the file and what came out, instead of a LibTorch error later
// inside the head; float16 and float64 features are taken as float32.
TEST_CASE("torchscript extractor outputs are checked", "[model][torchscript]") {
  hpt::test::TempDir dir("ts-outputs");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"sum", "return x.sum()"},
      {"flat", "return x.flatten()"},
      {"extra_row", "return torch.cat([x.flatten(1), x.flatten(1)[:1]])"},
      {"no_features", "return x.flatten(1)[:, :0]"},
      {"empty_tuple", "return ()"},
      {"text", "return 'features'"},
      {"long", "return x.flatten(1).long()"},
      {"bools", "return x.flatten(1) > 0"},
      {"complex", "return torch.complex(x, x).flatten(1)"},
      {"raises", "return x.flatten(1).mm(x.flatten(1))"},  // An op fails inside.
  };
  for (const auto& [name, body] : bad) {
    INFO(name);
    const std::string path = script_file(dir, name, "def forward(self, x):\n  " + body + "\n");
    try {
      FeatureExtractor::torchscript(path, 8);
      FAIL("accepted");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::StartsWith("TorchScript extractor " + path + ": "));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.find("frame #") == std::string::npos);
      if (name == "raises") {  // A module that declares no size is told how to declare one.
        CHECK_THAT(what, Catch::EndsWith("forward failed: RuntimeError: mat1 and mat2 shapes "
                                         "cannot be multiplied (2x192 and 2x192) (on hpt's probe "
                                         "batch (8 x 8 px) of 3 channels, the size of the "
                                         "dataset's images or dataset.image_size; a module "
                                         "attribute hpt_input_size sets the size it takes)"));
        const std::string sized =
            script_file(dir, "raises_sized", "def forward(self, x):\n  " + body + "\n",
                        {{"hpt_input_size", torch::IValue(int64_t{8})}});
        CHECK_THROWS_WITH(FeatureExtractor::torchscript(sized, 8),
                          Catch::EndsWith("cannot be multiplied (2x192 and 2x192)"));
      } else {
        CHECK_THAT(what,
                   Catch::Contains("its output must be floating-point features [batch, ...]"));
      }
    }
  }
  for (const char* cast : {"half", "double"}) {
    INFO(cast);
    const std::string path = script_file(
        dir, cast, fmt::format("def forward(self, x):\n  return x.flatten(1).{}()\n", cast));
    auto e = FeatureExtractor::torchscript(path, 4);
    CHECK(e.feature_dim() == 48);
    const auto f = e.extract(torch::zeros({3, 4, 4, 1}, torch::kUInt8));
    CHECK(f.scalar_type() == torch::kFloat32);
    CHECK((f.sizes() == torch::IntArrayRef{3, 48}));
  }
}

// hpt_input_* attributes of another type than declared are one line naming the attribute
// (IValue::toInt() would assert with PyTorch's backtrace).
TEST_CASE("torchscript input attributes of the wrong type", "[model][torchscript]") {
  hpt::test::TempDir dir("ts-attributes");
  const std::string forward = "def forward(self, x):\n  return x.flatten(1)\n";
  const std::vector<std::tuple<std::string, torch::IValue, std::string>> cases = {
      {"hpt_input_channels", torch::IValue("three"),
       "hpt_input_channels: expected an int, got String"},
      {"hpt_input_size", torch::IValue(8.5), "hpt_input_size: expected an int, got Double"},
      {"hpt_input_mean", torch::IValue("0.5"),
       "hpt_input_mean: expected a List[float], got String"},
      {"hpt_input_std", torch::IValue(c10::List<std::string>({"a", "b", "c"})),
       "hpt_input_std: expected a List[float], got List[str]"},
  };
  for (const auto& [attribute, value, message] : cases) {
    INFO(attribute);
    const std::string path = script_file(dir, attribute, forward, {{attribute, value}});
    CHECK_THROWS_WITH(FeatureExtractor::torchscript(path, 8),
                      "TorchScript extractor " + path + ": " + message);
  }
  // Integers are taken as floats in the lists.
  const std::string path = script_file(
      dir, "int_std", forward, {{"hpt_input_std", torch::IValue(c10::List<int64_t>({1, 2, 3}))}});
  CHECK(FeatureExtractor::torchscript(path, 8).input_spec().std == std::vector<double>{1, 2, 3});
}

// A frozen TorchScript extractor is copied into the model folder and loaded from there, so
// replacing or removing the original changes nothing (model.json named the absolute file and
// hpt match used whatever was there). A model saved before (absolute "file") still loads
// while the file holds its bytes and is refused naming it when it changed; a relative "file"
// that leaves the folder is refused.
TEST_CASE("a frozen torchscript extractor travels with the model", "[model][torchscript]") {
  hpt::test::TempDir tmp("extractor-copy");
  const std::string original =
      script_file(tmp, "twice", "def forward(self, x):\n  return x.flatten(1) * 2.0\n");
  const std::string changed =
      script_file(tmp, "thrice", "def forward(self, x):\n  return x.flatten(1) * 3.0\n");
  const std::string out = tmp.file("model");
  std::filesystem::create_directory(out);
  auto ex = FeatureExtractor::torchscript(original, 4);
  const auto entry = ex.save(out);
  CHECK(entry.at("file") == "extractor.pt");
  CHECK(entry.at("frozen") == true);
  // A copy of its own: never a link to the user's file.
  CHECK(std::filesystem::hard_link_count(out + "/extractor.pt") == 1);
  const auto images = torch::randint(0, 256, {2, 4, 4, 3}).to(torch::kUInt8);
  const auto want = ex.extract(images);
  {  // With a shared folder (a study's): models link to one copy kept there by fingerprint.
    const std::string shared = tmp.file("shared");
    std::vector<std::string> models;
    for (const char* name : {"trial0", "trial1"}) {
      models.push_back(tmp.file(name));
      std::filesystem::create_directory(models.back());
      ex.save(models.back(), shared);
    }
    CHECK(std::filesystem::hard_link_count(models[0] + "/extractor.pt") == 3);
    const std::string kept_name = std::filesystem::directory_iterator(shared)->path().filename();
    CHECK(std::regex_match(kept_name, std::regex("[0-9a-f]{16}-[0-9]+\\.pt")));
    CHECK(std::filesystem::equivalent(models[0] + "/extractor.pt", models[1] + "/extractor.pt"));
    // The user's file rewritten in place (torch.jit.save truncates it) changes no model.
    const std::string backup = tmp.file("backup.pt");
    std::filesystem::copy_file(original, backup);
    const auto overwrite = [](const std::string& from, const std::string& to) {
      std::ifstream in(from, std::ios::binary);
      std::ofstream(to, std::ios::binary | std::ios::trunc) << in.rdbuf();
    };
    overwrite(changed, original);
    for (const auto& m : models) {
      CHECK(torch::equal(FeatureExtractor::load(entry, m).extract(images), want));
    }
    overwrite(backup, original);
    // A kept copy that no longer matches its fingerprint is made again, not linked.
    const auto kept = std::filesystem::directory_iterator(shared)->path();
    std::ofstream(kept, std::ios::app) << "x";
    models.push_back(tmp.file("trial2"));
    std::filesystem::create_directory(models.back());
    ex.save(models.back(), shared);
    CHECK(torch::equal(FeatureExtractor::load(entry, models.back()).extract(images), want));
    CHECK(std::filesystem::equivalent(kept, models.back() + "/extractor.pt"));
    CHECK_FALSE(std::filesystem::equivalent(kept, models[0] + "/extractor.pt"));
    // A shared folder that cannot be made (a file in its way): a copy of its own, no error.
    std::ofstream(tmp.file("blocked")) << "a file";
    models.push_back(tmp.file("trial3"));
    std::filesystem::create_directory(models.back());
    ex.save(models.back(), tmp.file("blocked") + "/shared");
    CHECK(std::filesystem::hard_link_count(models.back() + "/extractor.pt") == 1);
    CHECK(torch::equal(FeatureExtractor::load(entry, models.back()).extract(images), want));
  }

  auto old_entry = entry;  // As hpt wrote it before copying the file.
  old_entry["file"] = original;
  CHECK(torch::equal(FeatureExtractor::load(old_entry, out).extract(images), want));
  std::filesystem::rename(changed, original);  // Replaced by another module.
  CHECK_THROWS_WITH(FeatureExtractor::load(old_entry, out),
                    Catch::StartsWith(original + ": the TorchScript extractor's bytes changed "
                                                 "since the model was trained") &&
                        !Catch::Contains("\n"));
  std::filesystem::remove(original);
  CHECK(torch::equal(FeatureExtractor::load(entry, out).extract(images), want));
  {  // The folder's file rewritten in place (as torch.jit.save over a linked source would).
    const std::string copy = out + "/extractor.pt";
    const std::string other =
        script_file(tmp, "four", "def forward(self, x):\n  return x.flatten(1) * 4.0\n");
    std::ifstream in(other, std::ios::binary);
    std::ofstream(copy, std::ios::binary | std::ios::trunc) << in.rdbuf();
    CHECK_THROWS_WITH(FeatureExtractor::load(entry, out),
                      Catch::StartsWith(copy + ": the TorchScript extractor's bytes changed"));
  }

  for (const char* escape : {"../twice.pt", "a/../../twice.pt", "", "."}) {
    auto hostile = entry;
    hostile["file"] = escape;
    CHECK_THROWS_WITH(FeatureExtractor::load(hostile, out),
                      fmt::format("extractor.file: \"{}\" leaves the model folder", escape));
  }
  FeatureExtractor cnn(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec{}, "id");
  auto cnn_entry = cnn.save(out);
  cnn_entry["file"] = "../other/cnn.pt";
  CHECK_THROWS_WITH(FeatureExtractor::load(cnn_entry, out),
                    "extractor.file: \"../other/cnn.pt\" leaves the model folder");
}

// The probe runs two different images, then the first alone, as hpt match and embed run it:
// a module that drops the batch dimension of one image (.squeeze()), mixes the rows of a batch
// (subtracts the batch mean; a BatchNorm traced in training mode uses batch statistics) or is
// random gives training features match and embed cannot reproduce, and is refused at load in
// one line naming the file. Two blank images passed all of them. The probe leaves LibTorch's
// global generator as it was (seeded runs draw from it later).
TEST_CASE("the probe refuses extractors whose features depend on the batch",
          "[model][torchscript]") {
  hpt::test::TempDir dir("ts-probe");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"squeeze", "return x.mean([2, 3]).squeeze()"},
      {"rowmix", "f = x.mean([2, 3])\n  return f - f.mean(0, True)"},
      {"minusfirst", "f = x.mean([2, 3])\n  return f - f[:1]"},  // Row 0 alone passes.
      {"noisy", "return x.mean([2, 3]) + torch.rand([x.size(0), 1])"},
  };
  const std::map<std::string, std::string> problems = {
      {"squeeze",
       "got shape [3] for a batch of 1 (on one image: hpt match and embed run it one image at a "
       "time"},
      {"rowmix",
       "its output for one image differs from the same image in a batch of two: the module "
       "mixes the rows of a batch (a BatchNorm in training mode? export it after .eval())"},
      {"minusfirst", "mixes the rows of a batch"},
      {"noisy", "its output for the same image differs from run to run"},
  };
  for (const auto& [name, body] : bad) {
    INFO(name);
    const std::string path = script_file(dir, name, "def forward(self, x):\n  " + body + "\n");
    CHECK_THROWS_WITH(FeatureExtractor::torchscript(path, 8),
                      Catch::StartsWith("TorchScript extractor " + path + ": ") &&
                          Catch::Contains(problems.at(name)) && !Catch::Contains("\n"));
  }
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: the traced BatchNorm case skipped");
  } else {
    CHECK_THROWS_WITH(FeatureExtractor::torchscript(models + "/bn_traced_train.pt", 8),
                      Catch::Contains("mixes the rows of a batch"));
  }
  torch::manual_seed(5);
  const auto want = torch::rand({4});
  torch::manual_seed(5);
  const std::string echo =
      script_file(dir, "echo", "def forward(self, x):\n  return x.flatten(1)\n");
  CHECK(FeatureExtractor::torchscript(echo, 8).feature_dim() == 192);
  CHECK(torch::equal(torch::rand({4}), want));
}

// A module that does not declare its input channels gets hpt's guess (its first 4-d weight's
// in-channels, else 3); when the probe's first forward fails on them, the error says that hpt
// guessed them, how, and that hpt_input_channels sets them. A declared count gets no such hint.
TEST_CASE("a guessed channel count is said when the first forward fails", "[model][torchscript]") {
  hpt::test::TempDir dir("ts-channels");
  // A depthwise convolution first: its weight [3, 1, 3, 3] reads as 1 input channel.
  const std::string depthwise = script_file(
      dir, "depthwise",
      "def forward(self, x):\n  return torch.conv2d(x, self.w, groups=3).mean([2, 3])\n", {},
      {{"w", torch::ones({3, 1, 3, 3})}});
  CHECK_THROWS_WITH(
      FeatureExtractor::torchscript(depthwise, 8),
      Catch::StartsWith("TorchScript extractor " + depthwise + ": forward failed: ") &&
          Catch::EndsWith("(on hpt's probe batch (8 x 8 px) of 1 channel: hpt guessed that "
                          "count, read from its first 4-d weight w [3, 1, 3, 3]; a module "
                          "attribute hpt_input_channels (1 or 3) sets it)"));
  // No 4-d weight: 3 channels by default, where its convolution takes 1.
  const std::string conv =
      "def forward(self, x):\n  return torch.conv2d(x, torch.ones([4, 1, 3, 3])).mean([2, 3])\n";
  const std::string fixed = script_file(dir, "fixed", conv);
  CHECK_THROWS_WITH(FeatureExtractor::torchscript(fixed, 8),
                    Catch::Contains("to have 1 channels, but got 3 channels instead (on hpt's "
                                    "probe batch (8 x 8 px) of 3 channels: hpt guessed that count, "
                                    "hpt's default: it has no 4-d weight to read them from"));
  // Declared: no hint about channels, nor about the size (the error is not the size's);
  // failing on something else: the size hint (the module declares no hpt_input_size).
  const std::string declared =
      script_file(dir, "declared", conv, {{"hpt_input_channels", torch::IValue(int64_t{3})}});
  CHECK_THROWS_WITH(FeatureExtractor::torchscript(declared, 8),
                    Catch::EndsWith("but got 3 channels instead"));
  const std::string linear =
      script_file(dir, "linear", "def forward(self, x):\n  return x.flatten(1).mm(self.w)\n", {},
                  {{"w", torch::ones({64, 4})}});
  CHECK_THROWS_WITH(FeatureExtractor::torchscript(linear, 8),
                    Catch::Contains("cannot be multiplied (2x192 and 64x4) (on hpt's probe batch "
                                    "(8 x 8 px) of 3 channels, the size of the dataset's images") &&
                        Catch::EndsWith("a module attribute hpt_input_size sets the size it "
                                        "takes)"));
}
