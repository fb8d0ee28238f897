#include <chrono>

#include "catch_torch.hpp"
#include "hpt/trainer/augment.hpp"

using namespace hpt::trainer;

namespace {

AugmentOptions none() {
  AugmentOptions o;
  o.zoom = o.rotation = o.height_shift = o.width_shift = o.brightness = o.contrast = 0.0;
  o.horizontal_flip = false;
  return o;
}

torch::Tensor random_images(int64_t b, int64_t c, int64_t h, int64_t w, double lo, double hi) {
  torch::manual_seed(1);  // Test input only; augment_images itself never uses global RNG.
  return torch::rand({b, c, h, w}) * (hi - lo) + lo;
}

}  // namespace

// Full report augmentation keeps the shape, stays in [0, 1], is seeded, and does change images.
TEST_CASE("augment_images shape, range and determinism", "[augment]") {
  const auto images = random_images(8, 3, 12, 16, 0.0, 1.0);
  const auto a = augment_images(images, AugmentOptions{}, 42);
  CHECK(a.sizes() == images.sizes());
  CHECK(a.min().item<float>() >= 0.0f);
  CHECK(a.max().item<float>() <= 1.0f);
  CHECK(a.equal(augment_images(images, AugmentOptions{}, 42)));
  CHECK_FALSE(a.equal(augment_images(images, AugmentOptions{}, 43)));
  CHECK((a - images).abs().mean().item<float>() > 0.05f);
}

// All factors zero is the identity (a copy, not the same storage).
TEST_CASE("augment_images with nothing enabled is the identity", "[augment]") {
  const auto images = random_images(4, 1, 5, 5, 0.0, 1.0);
  const auto out = augment_images(images, none(), 3);
  CHECK(out.equal(images));
  CHECK_FALSE(out.is_same(images));
}

// Flip only: each image is exactly itself or its mirror, and both happen in a batch.
TEST_CASE("horizontal flip flips", "[augment]") {
  const auto images = random_images(32, 3, 4, 6, 0.0, 1.0);
  AugmentOptions options = none();
  options.horizontal_flip = true;
  const auto out = augment_images(images, options, 5);
  int flipped = 0, kept = 0;
  for (int64_t b = 0; b < 32; ++b) {
    if (out[b].equal(images[b].flip({2}))) {
      ++flipped;
    } else if (out[b].equal(images[b])) {
      ++kept;
    }
  }
  CHECK(flipped + kept == 32);
  CHECK(flipped > 0);
  CHECK(kept > 0);
  // Through the affine path (a negligible zoom) the flip lands on pixel centres exactly.
  options.zoom = 1e-9;
  const auto warped = augment_images(images, options, 5);
  for (int64_t b = 0; b < 32; ++b) {
    const bool is_flip = (warped[b] - images[b].flip({2})).abs().max().item<float>() < 1e-4f;
    const bool is_same = (warped[b] - images[b]).abs().max().item<float>() < 1e-4f;
    REQUIRE((is_flip || is_same));
  }
}

// Reflect fill: a constant image stays constant under zoom, rotation and translation.
TEST_CASE("geometric transforms fill by reflection", "[augment]") {
  const auto images = torch::full({16, 1, 9, 7}, 0.625f);
  AugmentOptions options;
  options.brightness = options.contrast = 0.0;
  const auto out = augment_images(images, options, 8);
  CHECK((out - 0.625f).abs().max().item<float>() < 1e-5f);
}

// Brightness adds one offset per image within +-factor; contrast scales about the
// per-channel mean by a factor within [1 - f, 1 + f] (no clipping for mid-grey input).
TEST_CASE("brightness and contrast follow Keras semantics", "[augment]") {
  const auto images = random_images(16, 3, 5, 5, 0.35, 0.65);
  AugmentOptions options = none();
  options.brightness = 0.2;
  const auto bright = augment_images(images, options, 1) - images;
  for (int64_t b = 0; b < 16; ++b) {
    const float delta = bright[b].mean().item<float>();
    CHECK(std::abs(delta) <= 0.2f);
    CHECK((bright[b] - delta).abs().max().item<float>() < 1e-5f);
  }
  CHECK(bright.mean({1, 2, 3}).std().item<float>() > 0.01f);
  options = none();
  options.contrast = 0.2;
  const auto out = augment_images(images, options, 2);
  const auto mean = images.mean({2, 3}, true);
  CHECK((out.mean({2, 3}, true) - mean).abs().max().item<float>() < 1e-5f);
  const auto ratio = ((out - mean) / (images - mean)).flatten(1);
  for (int64_t b = 0; b < 16; ++b) {
    const auto r = ratio[b].median().item<float>();
    CHECK(r >= 0.8f - 1e-4f);
    CHECK(r <= 1.2f + 1e-4f);
  }
}

// to_float_images maps uint8 NHWC to float NCHW / 255; bad inputs are rejected.
TEST_CASE("to_float_images and input checks", "[augment]") {
  auto bytes = torch::arange(2 * 3 * 4 * 3, torch::kInt64)
                   .remainder(256)
                   .to(torch::kUInt8)
                   .reshape({2, 3, 4, 3});
  const auto f = to_float_images(bytes);
  CHECK(f.sizes() == torch::IntArrayRef({2, 3, 3, 4}));
  CHECK(f[1][2][0][3].item<float>() == Approx(bytes[1][0][3][2].item<int>() / 255.0));
  CHECK_THROWS_AS(augment_images(bytes, AugmentOptions{}, 0), std::invalid_argument);
  CHECK_THROWS_AS(augment_images(torch::rand({3, 4, 4}), AugmentOptions{}, 0),
                  std::invalid_argument);
  AugmentOptions bad;
  bad.zoom = -0.1;
  CHECK_THROWS_AS(augment_images(torch::rand({1, 1, 4, 4}), bad, 0), std::invalid_argument);
}

// Benchmark (hidden, run with "[.bench]"): images per second for batches of 256.
TEST_CASE("augment_images throughput", "[.bench]") {
  for (auto shape : {std::vector<int64_t>{256, 1, 28, 28}, std::vector<int64_t>{256, 3, 64, 64}}) {
    const auto images = random_images(shape[0], shape[1], shape[2], shape[3], 0.0, 1.0);
    augment_images(images, AugmentOptions{}, 0);
    const int reps = 20;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) {
      augment_images(images, AugmentOptions{}, static_cast<uint64_t>(r));
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    WARN(shape[1] << "x" << shape[2] << "x" << shape[3] << ": "
                  << static_cast<int64_t>(reps * 256 / took.count()) << " images/s, torch threads "
                  << torch::get_num_threads());
  }
}
