#include "hpt/trainer/augment.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "hpt/tuner/rng.hpp"

namespace hpt::trainer {
namespace {

constexpr double k_two_pi = 6.283185307179586;

// Uniform double in [lo, hi) from 53 random bits (platform-independent).
double uniform(Rng& rng, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The random parameters of one image.
struct Draw {
  double zoom, rotation, shift_y, shift_x, brightness, contrast;
  bool flip;
};

void check_factor(double value, const char* name) {
  if (!(value >= 0.0)) {
    throw std::invalid_argument(fmt::format("augmentation {} must be >= 0, got {}", name, value));
  }
}

// Each image's random draws, from seed alone (the same for a batch whatever its device).
std::vector<Draw> draw_augmentations(const AugmentOptions& options, int64_t batch, double height,
                                     double width, uint64_t seed) {
  Rng rng(derive_seed(seed, 0, "augment"));
  std::vector<Draw> draws(static_cast<size_t>(batch));
  for (auto& d : draws) {
    d.zoom = 1.0 + uniform(rng, -options.zoom, options.zoom);
    d.flip = options.horizontal_flip && uniform(rng, 0.0, 1.0) < 0.5;
    d.rotation = uniform(rng, -options.rotation, options.rotation) * k_two_pi;
    d.shift_y = uniform(rng, -options.height_shift, options.height_shift) * height;
    d.shift_x = uniform(rng, -options.width_shift, options.width_shift) * width;
    d.brightness = uniform(rng, -options.brightness, options.brightness);
    d.contrast = 1.0 + uniform(rng, -options.contrast, options.contrast);
  }
  return draws;
}

// The images zoomed, flipped, rotated and shifted by draws, in one grid_sample.
at::Tensor warp_images(const at::Tensor& images, const std::vector<Draw>& draws) {
  const int64_t batch = images.size(0);
  const double height = static_cast<double>(images.size(2));
  const double width = static_cast<double>(images.size(3));
  // Output pixel -> input pixel, centred coordinates u: in = Z F R (out - shift), as
  // Keras applies zoom, flip, rotation, translation in sequence. Normalised grid
  // coordinates (align_corners = false) are S u with S = diag(2 / W, 2 / H).
  std::vector<float> theta(static_cast<size_t>(batch) * 6);
  for (int64_t b = 0; b < batch; ++b) {
    const Draw& d = draws[static_cast<size_t>(b)];
    const double c = std::cos(d.rotation);
    const double s = std::sin(d.rotation);
    const double f = d.flip ? -1.0 : 1.0;
    // M = Z F R.
    const double m00 = d.zoom * f * c, m01 = -d.zoom * f * s;
    const double m10 = d.zoom * s, m11 = d.zoom * c;
    const double sx = 2.0 / width, sy = 2.0 / height;
    float* t = &theta[static_cast<size_t>(b) * 6];
    t[0] = static_cast<float>(m00);
    t[1] = static_cast<float>(sx * m01 / sy);
    t[2] = static_cast<float>(-sx * (m00 * d.shift_x + m01 * d.shift_y));
    t[3] = static_cast<float>(sy * m10 / sx);
    t[4] = static_cast<float>(m11);
    t[5] = static_cast<float>(-sy * (m10 * d.shift_x + m11 * d.shift_y));
  }
  const at::Tensor theta_t =
      at::from_blob(theta.data(), {batch, 2, 3}, at::kFloat).to(images.options(), false, true);
  const at::Tensor grid = at::affine_grid_generator(theta_t, images.sizes(), false);
  return at::grid_sampler(images, grid, /*bilinear*/ 0, /*reflection*/ 2, false);
}

// The images mirrored where draws say so (no resampling).
at::Tensor flip_images(const at::Tensor& images, const std::vector<Draw>& draws) {
  std::vector<uint8_t> flips;
  for (const auto& d : draws) {
    flips.push_back(d.flip ? 1 : 0);
  }
  const at::Tensor mask = at::from_blob(flips.data(), {images.size(0), 1, 1, 1}, at::kByte)
                              .to(images.device(), at::kBool, false, true);
  return at::where(mask, images.flip({3}), images);
}

}  // namespace

at::Tensor augment_images(const at::Tensor& images, const AugmentOptions& options, uint64_t seed) {
  if (images.dim() != 4 || !images.is_floating_point()) {
    throw std::invalid_argument(
        fmt::format("augment_images needs floating images [B, C, H, W], got {} of {} dims",
                    std::string(images.dtype().name()), images.dim()));
  }
  check_factor(options.zoom, "zoom");
  check_factor(options.rotation, "rotation");
  check_factor(options.height_shift, "height_shift");
  check_factor(options.width_shift, "width_shift");
  check_factor(options.brightness, "brightness");
  check_factor(options.contrast, "contrast");
  const int64_t batch = images.size(0);
  const std::vector<Draw> draws =
      draw_augmentations(options, batch, static_cast<double>(images.size(2)),
                         static_cast<double>(images.size(3)), seed);
  at::Tensor out = images;
  if (options.zoom > 0 || options.rotation > 0 || options.height_shift > 0 ||
      options.width_shift > 0) {
    out = warp_images(images, draws);
  } else if (options.horizontal_flip) {
    out = flip_images(images, draws);
  }
  auto per_image = [&](auto value_of) {
    std::vector<float> values;
    for (const auto& d : draws) {
      values.push_back(static_cast<float>(value_of(d)));
    }
    return at::from_blob(values.data(), {batch, 1, 1, 1}, at::kFloat)
        .to(images.options(), /*non_blocking=*/false, /*copy=*/true);
  };
  if (options.brightness > 0) {
    out = (out + per_image([](const Draw& d) { return d.brightness; })).clamp(0.0, 1.0);
  }
  if (options.contrast > 0) {
    const at::Tensor mean = out.mean({2, 3}, /*keepdim=*/true);
    out =
        ((out - mean) * per_image([](const Draw& d) { return d.contrast; }) + mean).clamp(0.0, 1.0);
  }
  return out.is_same(images) ? images.clone() : out;
}

at::Tensor to_float_images(const at::Tensor& images) {
  if (images.dim() != 4 || images.scalar_type() != at::kByte) {
    throw std::invalid_argument(
        fmt::format("to_float_images needs uint8 images [N, H, W, C], got {} of {} dims",
                    std::string(images.dtype().name()), images.dim()));
  }
  return images.permute({0, 3, 1, 2}).to(at::kFloat).div_(255.0f).contiguous();
}

}  // namespace hpt::trainer
