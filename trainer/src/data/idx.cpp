#include "hpt/trainer/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>

namespace hpt::trainer {
namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

// Reads exactly size bytes (gzread reads raw files transparently); false if short.
bool read_exact(gzFile file, uint8_t* out, size_t size) {
  constexpr size_t k_chunk = size_t{1} << 30;
  while (size > 0) {
    const unsigned want = static_cast<unsigned>(std::min(size, k_chunk));
    const int got = gzread(file, out, want);
    if (got <= 0) {
      return false;
    }
    out += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(fmt::format("IDX file not found: {}", path));
  }
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw std::runtime_error(fmt::format("cannot open IDX file {}", path));
  }
  gzbuffer(file.get(), 1 << 20);
  uint8_t magic[4];
  if (!read_exact(file.get(), magic, 4)) {
    throw std::runtime_error(fmt::format("IDX file {} is truncated (no header)", path));
  }
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    throw std::runtime_error(
        fmt::format("{} is not an unsigned-byte IDX file: magic {:02x}{:02x}{:02x}{:02x}", path,
                    magic[0], magic[1], magic[2], magic[3]));
  }
  IdxArray array;
  size_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    uint8_t b[4];
    if (!read_exact(file.get(), b, 4)) {
      throw std::runtime_error(fmt::format("IDX file {} is truncated (dimensions)", path));
    }
    const uint32_t dim =
        (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
    array.dims.push_back(dim);
    if (dim != 0 && total > std::numeric_limits<size_t>::max() / 2 / dim) {
      throw std::runtime_error(fmt::format("IDX file {} has absurd dimensions", path));
    }
    total *= dim;
  }
  array.data.resize(total);
  if (!read_exact(file.get(), array.data.data(), total)) {
    throw std::runtime_error(
        fmt::format("IDX file {} is truncated or corrupt: expected {} data bytes", path, total));
  }
  int error = Z_OK;
  gzerror(file.get(), &error);
  if (error != Z_OK && error != Z_STREAM_END) {
    throw std::runtime_error(fmt::format("IDX file {} is corrupt (gzip error {})", path, error));
  }
  return array;
}

std::string find_idx_file(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) {
    return path;
  }
  if (std::filesystem::is_regular_file(path + ".gz")) {
    return path + ".gz";
  }
  return "";
}

}  // namespace hpt::trainer
