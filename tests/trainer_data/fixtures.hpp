#pragma once
// Test fixtures for trainer_data: temporary folders and tiny IDX / PNG / JPEG files
// written independently of the code under test (zlib and stb_image_write directly).

#include <stb/stb_image_write.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace hpt::trainer::testing {

// The tests' one temporary folder (support/temp_dir.hpp), with str(): the folder's path,
// or that of relative inside it.
class TempDir : public hpt::test::TempDir {
 public:
  TempDir() : hpt::test::TempDir("data-test") {}
  std::string str(const std::string& relative = "") const {
    return relative.empty() ? path().string() : file(relative);
  }
};

inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes,
                        bool gzip) {
  std::filesystem::create_directories(path.parent_path());
  if (gzip) {
    gzFile file = gzopen(path.string().c_str(), "wb");
    gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(file);
  } else {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
}

// An unsigned-byte IDX file with big-endian dims.
inline void write_idx(const std::filesystem::path& path, const std::vector<uint32_t>& dims,
                      const std::vector<uint8_t>& data, bool gzip) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<uint8_t>(d >> shift));
    }
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  write_bytes(path, bytes, gzip);
}

// A w x h x c test image whose pixels encode id: value(x, y, ch) = (id*37 + x*5 + y*11 +
// ch*50) mod 256, so pixel (0, 0, 0) = id*37 mod 256 identifies the image.
inline std::vector<uint8_t> pattern(int id, int w, int h, int c) {
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * h * c);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        pixels[(static_cast<size_t>(y) * w + x) * c + ch] =
            static_cast<uint8_t>((id * 37 + x * 5 + y * 11 + ch * 50) % 256);
      }
    }
  }
  return pixels;
}

// Recovers id from pattern()'s first pixel (37 is invertible mod 256; 37 * 173 = 1 mod 256).
inline int pattern_id(uint8_t first_pixel) { return (first_pixel * 173) % 256; }

// A smooth image (JPEG-friendly): channel ch is the constant 20 + id*10 + ch*60.
inline std::vector<uint8_t> flat(int id, int w, int h, int c) {
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * h * c);
  for (size_t i = 0; i < pixels.size(); ++i) {
    pixels[i] = static_cast<uint8_t>(20 + id * 10 + static_cast<int>(i % c) * 60);
  }
  return pixels;
}

inline void write_png(const std::filesystem::path& path, int w, int h, int c,
                      const std::vector<uint8_t>& pixels) {
  std::filesystem::create_directories(path.parent_path());
  if (!stbi_write_png(path.string().c_str(), w, h, c, pixels.data(), w * c)) {
    throw std::runtime_error("stbi_write_png failed: " + path.string());
  }
}

inline void write_jpg(const std::filesystem::path& path, int w, int h, int c,
                      const std::vector<uint8_t>& pixels) {
  std::filesystem::create_directories(path.parent_path());
  if (!stbi_write_jpg(path.string().c_str(), w, h, c, pixels.data(), 100)) {
    throw std::runtime_error("stbi_write_jpg failed: " + path.string());
  }
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Overwrites a file with other bytes of the same size and restores its mtime, so that
// only a reader of the content (not the fingerprint) can notice.
inline void scramble_keeping_stat(const std::filesystem::path& path) {
  const auto mtime = std::filesystem::last_write_time(path);
  const auto size = std::filesystem::file_size(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(std::string(size, 'x').data(), static_cast<std::streamsize>(size));
  std::filesystem::last_write_time(path, mtime);
}

}  // namespace hpt::trainer::testing
