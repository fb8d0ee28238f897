#include <catch2/catch.hpp>

#include <filesystem>

#include "hpt/trainer/model.hpp"

using namespace hpt::trainer;

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

// The built-in CNN takes 1 or 3 channels and any side >= 16, giving 8 * width features.
TEST_CASE("builtin cnn sizes", "[model]") {
  for (int64_t c : {1, 3}) {
    for (int64_t side : {16, 28, 40}) {
      BuiltinCnn cnn(BuiltinCnnOptions().in_channels(c).width(4));
      cnn->eval();
      CHECK((cnn->forward(torch::randn({2, c, side, side})).sizes() == torch::IntArrayRef{2, 32}));
    }
  }
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
  const auto dir = std::filesystem::temp_directory_path() / "hpt-test-extractor";
  std::filesystem::create_directories(dir);
  auto entry = ex.save(dir.string());
  auto loaded = FeatureExtractor::load(entry, dir.string());
  auto images = torch::randint(0, 256, {3, 16, 16, 1}).to(torch::kUInt8);
  CHECK(torch::allclose(ex.extract(images), loaded.extract(images)));
  CHECK(loaded.identity() == "id");
  CHECK_THROWS_WITH(FeatureExtractor::torchscript("/nonexistent/model.pt", 32),
                    Catch::Contains("/nonexistent/model.pt"));
}
