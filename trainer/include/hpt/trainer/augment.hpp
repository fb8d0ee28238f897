#pragma once
// Batched image augmentation with the semantics of the report's Keras layers:
// RandomZoom(0.3), RandomFlip("horizontal"), RandomRotation(0.2),
// RandomTranslation(0.2, 0.2), RandomBrightness(0.2), RandomContrast(0.2).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace hpt::trainer {

// Per-layer factors; the defaults are the report's, 0 (or false) disables a layer.
struct AugmentOptions {
  double zoom = 0.3;            // Scale 1 + U(-zoom, zoom), equal in x and y (> 1 zooms out).
  bool horizontal_flip = true;  // Mirror left-right with probability 1/2.
  double rotation = 0.2;        // Angle U(-rotation, rotation) * 2 pi about the centre.
  double height_shift = 0.2;    // Vertical shift U(-f, f) * height pixels.
  double width_shift = 0.2;     // Horizontal shift U(-f, f) * width pixels.
  double brightness = 0.2;      // Adds U(-f, f) (value range [0, 1]) per image, then clips.
  double contrast = 0.2;        // (x - mean) * U(1 - f, 1 + f) + mean per image and channel.
};

// Returns an augmented copy of images (floating [B, C, H, W] in [0, 1], any device).
// Zoom, flip, rotation and translation compose into one affine resampling per image
// (bilinear, fill mode "reflect" as in Keras: mirrored about the border pixels' edge);
// brightness then contrast follow, clipped to [0, 1]. All draws come from `seed`; each
// image uses the same number of draws whatever is enabled. Throws std::invalid_argument
// for a non-4-D or non-floating tensor, or a negative factor.
at::Tensor augment_images(const at::Tensor& images, const AugmentOptions& options, uint64_t seed);

// Converts uint8 [N, H, W, C] images to float [N, C, H, W] in [0, 1].
at::Tensor to_float_images(const at::Tensor& images);

}  // namespace hpt::trainer
