#pragma once
// Tiny dataset layouts (IDX, class folders, Tiny ImageNet) for trainer_data tests.

#include <cmath>

#include "fixtures.hpp"

namespace hpt::trainer::testing {

// IDX train pool: 30 images 4x5 with pattern(i) and label i % 3; t10k pool: 12 images
// pattern(100 + i), label i % 3.
inline void write_idx_dataset(const std::filesystem::path& root, bool gzip, bool with_test) {
  const std::string ext = gzip ? ".gz" : "";
  auto write_pool = [&](const std::string& prefix, int count, int first_id) {
    std::vector<uint8_t> images, labels;
    for (int i = 0; i < count; ++i) {
      const auto p = pattern(first_id + i, 5, 4, 1);
      images.insert(images.end(), p.begin(), p.end());
      labels.push_back(static_cast<uint8_t>(i % 3));
    }
    write_idx(root / (prefix + "-images-idx3-ubyte" + ext), {static_cast<uint32_t>(count), 4, 5},
              images, gzip);
    write_idx(root / (prefix + "-labels-idx1-ubyte" + ext), {static_cast<uint32_t>(count)}, labels,
              gzip);
  };
  write_pool("train", 30, 0);
  if (with_test) {
    write_pool("t10k", 12, 100);
  }
}

// Class folders a_cat (5 RGB PNG, pattern ids 0-4, extension .PNG), b_dog (5 grey PNG,
// ids 5-9) and c_eel (5 flat RGB JPEG, ids 10-14), 6x6, plus files that must be ignored.
inline void write_folder_dataset(const std::filesystem::path& root) {
  for (int i = 0; i < 5; ++i) {
    write_png(root / "a_cat" / ("img" + std::to_string(i) + ".PNG"), 6, 6, 3, pattern(i, 6, 6, 3));
    write_png(root / "b_dog" / ("img" + std::to_string(i) + ".png"), 6, 6, 1,
              pattern(5 + i, 6, 6, 1));
    write_jpg(root / "c_eel" / ("img" + std::to_string(i) + ".jpg"), 6, 6, 3,
              flat(10 + i, 6, 6, 3));
  }
  write_text(root / "a_cat" / "notes.txt", "not an image");
  write_png(root / ".hidden" / "x.png", 6, 6, 3, pattern(99, 6, 6, 3));
}

// Tiny ImageNet: classes n03 (lemon), n01 (goldfish), n02 (tabby) listed unsorted; 4
// train JPEGs per class (flat id = 10 * class + k), 2 val JPEGs per class (flat id =
// class), 8x8 RGB.
inline void write_tiny_imagenet(const std::filesystem::path& root) {
  write_text(root / "wnids.txt", "n03\nn01\nn02\n");
  write_text(root / "words.txt",
             "n99\tother\nn01\tgoldfish, Carassius auratus\nn02\ttabby, tabby cat\nn03\tlemon\n");
  const char* wnids[3] = {"n01", "n02", "n03"};
  std::string annotations;
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 4; ++k) {
      write_jpg(root / "train" / wnids[c] / "images" /
                    (std::string(wnids[c]) + "_" + std::to_string(k) + ".JPEG"),
                8, 8, 3, flat(c * 4 + k, 8, 8, 3));
    }
    write_text(root / "train" / wnids[c] / (std::string(wnids[c]) + "_boxes.txt"), "");
    for (int k = 0; k < 2; ++k) {
      const std::string file = "val_" + std::to_string(c * 2 + k) + ".JPEG";
      write_jpg(root / "val" / "images" / file, 8, 8, 3, flat(c, 8, 8, 3));
      annotations += file + "\t" + wnids[c] + "\t0\t0\t7\t7\n";
    }
  }
  write_text(root / "val" / "val_annotations.txt", annotations);
  write_jpg(root / "test" / "images" / "test_0.JPEG", 8, 8, 3, flat(0, 8, 8, 3));
}

// The id of a flat() image from its first channel value.
inline int flat_id(uint8_t first) { return static_cast<int>(std::lround((first - 20) / 10.0)); }

}  // namespace hpt::trainer::testing
