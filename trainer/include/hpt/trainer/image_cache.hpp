#pragma once
// The decoded-image cache: one binary file per (format, path, image_size) holding the
// labelled pools before splitting, keyed by a fingerprint of the source files.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hpt::trainer {

// One labelled pool of decoded images (e.g. "train", "t10k", "val").
struct ImagePool {
  std::string name;
  int64_t count = 0;
  std::vector<uint8_t> images;  // count x H x W x C.
  std::vector<int64_t> labels;  // count.
};

// Every pool of a dataset, all images sharing one shape.
struct DecodedPools {
  std::string source_fingerprint;  // Hash of the source files (paths, sizes, mtimes).
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<std::string> class_names;
  std::vector<ImagePool> pools;
};

// Returns the pools stored at path if the file is a complete, uncorrupted cache whose
// fingerprint equals `fingerprint`; std::nullopt otherwise (missing, stale or corrupt).
std::optional<DecodedPools> read_image_cache(const std::string& path,
                                             const std::string& fingerprint);

// Writes pools to path atomically (AtomicFile: a temporary, then rename; the temporaries that
// killed writers left beside path go first), creating the folder.
// Throws std::runtime_error (FileError) naming the path if it cannot be written.
void write_image_cache(const std::string& path, const DecodedPools& pools);

// Returns a hex digest of the files' paths, sizes and modification times.
// Throws std::runtime_error naming a file that does not exist.
std::string files_fingerprint(const std::vector<std::string>& paths);

// A 64-bit FNV-1a/SplitMix hash of text as 16 hex digits (stable across platforms).
std::string hash_hex(const std::string& text);

}  // namespace hpt::trainer
