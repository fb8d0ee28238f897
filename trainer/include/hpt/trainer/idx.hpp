#pragma once
// IDX files (MNIST / Fashion-MNIST), gzipped or raw, read into memory.

#include <cstdint>
#include <string>
#include <vector>

namespace hpt::trainer {

// An unsigned-byte IDX array: dims (big-endian in the file) and row-major data.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads an unsigned-byte IDX file (magic 0x00 0x00 0x08 ndim); gzip is detected and
// inflated. Throws std::runtime_error naming the path if missing, truncated or malformed; a
// header claiming more data than the file can hold (a raw file's size, 1032x a gzip file's)
// is refused with its dims before anything is allocated.
IdxArray read_idx(const std::string& path);

// Returns path, or path + ".gz" when only that exists; "" when neither does.
std::string find_idx_file(const std::string& path);

}  // namespace hpt::trainer
