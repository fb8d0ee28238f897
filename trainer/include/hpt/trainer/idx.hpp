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

// The dims of an IDX file's header, checked as read_idx checks them, its data left unread.
std::vector<int64_t> read_idx_dims(const std::string& path);

// Whether an images file and a labels file are spelt as one pair: the same name but for
// images/labels and idx3/idx1, in any case, with '-', '_' or '.' between the parts, ".gz" or
// not ("emnist-letters-train-images-idx3-ubyte" pairs with "emnist-letters-train-labels-..."
// and not with "emnist-digits-train-labels-...").
bool idx_files_pair(const std::string& images, const std::string& labels);

// "<pool>-<kind>-idx{3,1}-ubyte", as MNIST and Fashion-MNIST name their files.
std::string idx_file_name(const std::string& pool, const std::string& kind);

// The IDX file of pool ("train" or "t10k") and kind ("images" or "labels") in folder:
// "<pool>-<kind>-idx{3,1}-ubyte", else that name + ".gz" (either also as the one file of a folder
// of its name, as Kaggle's MNIST unpacks), else the one file spelt otherwise
// (".idx3-ubyte", underscores, any case, a prefix such as "emnist-digits-", "test" for "t10k");
// "" when there is none. Throws std::runtime_error naming them when several files could be it.
std::string find_idx_file(const std::string& folder, const std::string& pool,
                          const std::string& kind);

}  // namespace hpt::trainer
