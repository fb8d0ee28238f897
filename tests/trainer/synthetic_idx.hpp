#pragma once
// A tiny synthetic IDX dataset (4 classes of 16x16 grey images, a bright quadrant per
// class plus seeded noise) written to a temporary folder for trainer tests.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace hpt::test {

inline void write_be32(std::ofstream& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.write(b, 4);
}

// Writes <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte with n_per_class images.
inline void write_idx_pool(const std::string& dir, const std::string& prefix, int n_per_class,
                           uint64_t seed) {
  const int side = 16;
  const int classes = 4;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60);
  std::ofstream images(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary);
  std::ofstream labels(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary);
  const uint32_t n = static_cast<uint32_t>(n_per_class * classes);
  write_be32(images, 0x803);
  write_be32(images, n);
  write_be32(images, side);
  write_be32(images, side);
  write_be32(labels, 0x801);
  write_be32(labels, n);
  for (uint32_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % classes);
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        const bool lit = (y < side / 2) == (c / 2 == 0) && (x < side / 2) == (c % 2 == 0);
        images.put(static_cast<char>((lit ? 170 : 20) + noise(rng)));
      }
    }
    labels.put(static_cast<char>(c));
  }
}

// A fresh temporary folder holding train (n_train per class) and t10k pools.
inline std::string make_synthetic_idx(const std::string& name, int n_train = 24, int n_test = 20) {
  const std::string dir = process_temp_dir("idx-" + name);
  write_idx_pool(dir, "train", n_train, 1);
  write_idx_pool(dir, "t10k", n_test, 2);
  return dir;
}

}  // namespace hpt::test
