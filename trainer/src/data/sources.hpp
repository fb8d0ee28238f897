#pragma once
// Internal: what a dataset's files are (per format) and how they decode into pools.

#include <string>
#include <vector>

#include "hpt/trainer/image_cache.hpp"

namespace hpt::trainer {

// One labelled pool: image files with labels, or a pair of IDX files.
struct PoolSource {
  std::string name;
  std::vector<std::string> files;
  std::vector<int64_t> labels;
  std::string idx_images, idx_labels;
};

// The files of a dataset, found without decoding anything.
struct DatasetSources {
  std::vector<std::string> class_names;  // Empty for idx until the labels are read.
  std::vector<PoolSource> pools;
  std::vector<std::string> all_files;  // Everything the decoded pools depend on.
  std::vector<std::string> notes;      // What the listing left out, for the user to know.
};

// Lists the sources of `format` at `path`. Throws std::runtime_error naming a missing
// required file or folder, std::invalid_argument for an unknown format.
DatasetSources list_sources(const std::string& format, const std::string& path);

// Decodes the listed pools (resized to image_size when > 0).
// Throws std::runtime_error naming the first corrupt or unreadable file.
DecodedPools decode_sources(const DatasetSources& sources, const std::string& path, int image_size);

}  // namespace hpt::trainer
