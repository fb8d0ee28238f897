#include "hpt/trainer/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "hpt/io/terminal_text.hpp"
#include "hpt/trainer/idx.hpp"
#include "hpt/trainer/image_cache.hpp"
#include "hpt/trainer/split.hpp"
#include "sources.hpp"

namespace hpt::trainer {
namespace {

// Wraps a pool's buffers as tensors without copying (the tensors own the buffers).
ImageSet pool_to_set(ImagePool& pool, int height, int width, int channels) {
  ImageSet set;
  if (pool.count == 0) {
    set.images = torch::empty({0, height, width, channels}, torch::kUInt8);
    set.labels = torch::empty({0}, torch::kInt64);
    return set;
  }
  auto* images = new std::vector<uint8_t>(std::move(pool.images));
  set.images = torch::from_blob(
      images->data(), {pool.count, height, width, channels}, [images](void*) { delete images; },
      torch::kUInt8);
  auto* labels = new std::vector<int64_t>(std::move(pool.labels));
  set.labels = torch::from_blob(
      labels->data(), {pool.count}, [labels](void*) { delete labels; }, torch::kInt64);
  return set;
}

// Splits set into parts (each a sorted list of row indices; together every row once), as views
// of set's own images: the rows are moved in place into the parts' order, one row buffered at
// a time. Each part holds what index_select would give; copying them took the dataset's memory
// a second time.
std::vector<ImageSet> split_in_place(ImageSet set, const std::vector<std::vector<int64_t>>& parts) {
  std::vector<int64_t> order;  // Row k of the result is row order[k] of set.
  for (const auto& part : parts) {
    order.insert(order.end(), part.begin(), part.end());
  }
  const auto n = static_cast<int64_t>(order.size());
  if (n != set.size()) {
    throw std::invalid_argument(
        fmt::format("split_in_place: the parts hold {} rows of {}", n, set.size()));
  }
  torch::Tensor images = set.images.contiguous();
  const int64_t stride = n == 0 ? 0 : images.numel() / n;
  uint8_t* rows = images.data_ptr<uint8_t>();
  std::vector<uint8_t> held(static_cast<size_t>(stride));
  std::vector<bool> placed(static_cast<size_t>(n), false);
  for (int64_t start = 0; start < n; ++start) {  // Each cycle of the permutation in turn.
    if (placed[static_cast<size_t>(start)]) {
      continue;
    }
    std::memcpy(held.data(), rows + start * stride, static_cast<size_t>(stride));
    for (int64_t k = start;;) {
      placed[static_cast<size_t>(k)] = true;
      const int64_t from = order[static_cast<size_t>(k)];
      if (from == start) {
        std::memcpy(rows + k * stride, held.data(), static_cast<size_t>(stride));
        break;
      }
      std::memcpy(rows + k * stride, rows + from * stride, static_cast<size_t>(stride));
      k = from;
    }
  }
  const torch::Tensor labels = set.labels.index_select(0, torch::tensor(order, torch::kInt64));
  std::vector<ImageSet> out;
  int64_t offset = 0;
  for (const auto& part : parts) {
    const auto size = static_cast<int64_t>(part.size());
    out.push_back(ImageSet{images.narrow(0, offset, size), labels.narrow(0, offset, size)});
    offset += size;
  }
  return out;
}

std::vector<int64_t> labels_of(const ImageSet& set) {
  const auto labels = set.labels.contiguous();
  return std::vector<int64_t>(labels.data_ptr<int64_t>(),
                              labels.data_ptr<int64_t>() + labels.numel());
}

void validate(const DatasetOptions& options) {
  if (options.image_size < 0 || options.image_size > k_max_image_size) {
    throw std::invalid_argument(
        fmt::format("image_size must be in [0, {}], got {}", k_max_image_size, options.image_size));
  }
  for (double f : {options.val_fraction, options.test_fraction}) {
    if (!(f >= 0.0 && f < 1.0)) {
      throw std::invalid_argument(fmt::format("split fractions must be in [0, 1), got {}", f));
    }
  }
  if (options.val_fraction + options.test_fraction >= 1.0) {
    throw std::invalid_argument(fmt::format("val_fraction + test_fraction must be < 1, got {}",
                                            options.val_fraction + options.test_fraction));
  }
}

}  // namespace

std::optional<DatasetProblem> decoded_size_problem(int64_t images, int64_t image_size,
                                                   uint64_t memory_bytes) {
  const double needed = static_cast<double>(images) * static_cast<double>(image_size) *
                        static_cast<double>(image_size);
  if (image_memory_problem(needed, memory_bytes).empty()) {  // The one rule.
    return std::nullopt;
  }
  constexpr double k_gb = 1e9;
  return DatasetProblem{
      "dataset.image_size",
      fmt::format("{} makes the {} images at least {:.0f} bytes ({:.1f} GB) decoded ({} x {} x {} "
                  "x 1 channel), more than {}; lower dataset.image_size",
                  image_size, images, needed, needed / k_gb, images, image_size, image_size,
                  memory_text(memory_bytes))};
}

Dataset load_dataset(const DatasetOptions& options) {
  validate(options);
  const auto image_size = static_cast<int>(options.image_size);
  const DatasetSources sources = list_sources(options.format, options.path);
  int64_t images = 0;  // An IDX pool's count is its header's first dimension.
  for (const auto& pool : sources.pools) {
    images += pool.idx_images.empty() ? static_cast<int64_t>(pool.files.size())
                                      : read_idx_dims(pool.idx_images).front();
  }
  if (auto problem = decoded_size_problem(images, image_size, usable_memory_bytes())) {
    throw DatasetProblemError(std::move(*problem));
  }
  const std::string source_fingerprint = hash_hex(
      fmt::format("{}|{}|{}", options.format, image_size, files_fingerprint(sources.all_files)));

  std::string cache_path;
  std::optional<DecodedPools> pools;
  if (!options.cache_dir.empty()) {
    const std::string root = std::filesystem::absolute(options.path).lexically_normal().string();
    cache_path = (std::filesystem::path(options.cache_dir) /
                  fmt::format("images-{}-{}.bin", options.format,
                              hash_hex(fmt::format("{}|{}|{}", options.format, root, image_size))))
                     .string();
    pools = read_image_cache(cache_path, source_fingerprint);
  }
  Dataset dataset;
  dataset.notes = sources.notes;
  dataset.loaded_from_cache = pools.has_value();
  if (!pools) {
    pools = decode_sources(sources, options.path, image_size);
    pools->source_fingerprint = source_fingerprint;
    if (!cache_path.empty()) {
      try {  // Only an optimisation: a full disk or a read-only cache folder stops nothing.
        write_image_cache(cache_path, *pools);
      } catch (const std::exception& e) {
        dataset.cache_problem = e.what();
      }
    }
  }
  dataset.class_names = pools->class_names;
  std::vector<ImageSet> sets;
  for (auto& pool : pools->pools) {
    sets.push_back(pool_to_set(pool, pools->height, pools->width, pools->channels));
  }
  const auto num_classes = static_cast<int64_t>(dataset.class_names.size());
  if (sets.size() == 2) {
    // Separate train pool; the held-out pool is split evenly into validation and test.
    dataset.train = sets[0];
    const auto parts = stratified_split(labels_of(sets[1]), num_classes, {0.5}, options.seed);
    const auto held_out = split_in_place(sets[1], parts);
    dataset.val = held_out[0];
    dataset.test = held_out[1];
    dataset.fingerprint = hash_hex(fmt::format("{}|even|{}", source_fingerprint, options.seed));
    dataset.split_by_fractions = false;
  } else {
    const auto parts =
        stratified_split(labels_of(sets[0]), num_classes,
                         {options.val_fraction, options.test_fraction}, options.seed);
    const auto split = split_in_place(sets[0], parts);
    dataset.val = split[0];
    dataset.test = split[1];
    dataset.train = split[2];
    dataset.fingerprint =
        hash_hex(fmt::format("{}|fractions|{:.17g}|{:.17g}|{}", source_fingerprint,
                             options.val_fraction, options.test_fraction, options.seed));
  }
  return dataset;
}

std::optional<DatasetProblem> image_side_problem(const Dataset& dataset, int64_t image_size) {
  const int64_t height = dataset.train.images.size(1);
  const int64_t width = dataset.train.images.size(2);
  if (height >= k_min_builtin_cnn_side && width >= k_min_builtin_cnn_side) {
    return std::nullopt;
  }
  return DatasetProblem{
      "dataset.image_size",
      fmt::format("{} keeps the images at {}x{} px, smaller than the {} px a side the built-in "
                  "CNN needs (it pools 3 times by 2); set dataset.image_size (16 to {}) to "
                  "resize them",
                  image_size == 0 ? "0 (native size)" : std::to_string(image_size), width, height,
                  k_min_builtin_cnn_side, k_max_image_size)};
}

std::optional<DatasetProblem> split_problem(const Dataset& dataset) {
  const size_t classes = dataset.class_names.size();
  const std::pair<const char*, const ImageSet*> splits[] = {
      {"train", &dataset.train}, {"val", &dataset.val}, {"test", &dataset.test}};
  for (const auto& [name, set] : splits) {
    const std::vector<int64_t> counts = class_counts(*set, classes);
    const auto present =
        std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
    const int64_t largest = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
    if (present >= 2 && largest >= 2) {
      continue;
    }
    const std::string have =
        fmt::format("the {} split has {} images in {} of {} classes (largest class {})", name,
                    set->size(), present, classes, largest);
    const std::string need = "every split needs 2 classes and one class with 2 images";
    if (classes < 2 || !dataset.split_by_fractions) {
      return DatasetProblem{"dataset.path", fmt::format("{}; {}: add {} to dataset.path", have,
                                                        need, classes < 2 ? "classes" : "images")};
    }
    const std::string name_s = name;
    if (name_s == "train") {
      return DatasetProblem{
          "dataset.val_fraction",
          fmt::format("{}; {}: lower dataset.val_fraction + dataset.test_fraction or add images "
                      "to dataset.path",
                      have, need)};
    }
    const std::string key = "dataset." + name_s + "_fraction";
    return DatasetProblem{
        key, fmt::format("{}; {}: raise {} or add images to dataset.path", have, need, key)};
  }
  return std::nullopt;
}

std::vector<int64_t> class_counts(const ImageSet& set, size_t num_classes) {
  std::vector<int64_t> counts(num_classes, 0);
  if (set.size() == 0) {
    return counts;
  }
  for (int64_t label : labels_of(set)) {
    if (label < 0 || static_cast<size_t>(label) >= num_classes) {
      throw std::invalid_argument(fmt::format("label {} is outside [0, {})", label, num_classes));
    }
    ++counts[static_cast<size_t>(label)];
  }
  return counts;
}

ClassDistribution class_distribution(const Dataset& dataset) {
  ClassDistribution info;
  info.class_names = dataset.class_names;
  info.split_names = {"train", "val", "test"};
  for (const ImageSet* set : {&dataset.train, &dataset.val, &dataset.test}) {
    info.counts.push_back(class_counts(*set, dataset.class_names.size()));
  }
  return info;
}

std::string class_distribution_summary(const Dataset& dataset) {
  const ClassDistribution info = class_distribution(dataset);
  const size_t classes = info.class_names.size();
  std::string out = fmt::format("Class distribution ({} classes)\n", classes);
  out += fmt::format("{:<6} {:>8} {:>10} {:>10} {:>11}\n", "split", "images", "min/class",
                     "max/class", "mean/class");
  for (size_t s = 0; s < info.split_names.size(); ++s) {
    const auto& counts = info.counts[s];
    int64_t total = 0;
    for (int64_t c : counts) {
      total += c;
    }
    const int64_t lo = counts.empty() ? 0 : *std::min_element(counts.begin(), counts.end());
    const int64_t hi = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
    const double mean = classes == 0 ? 0.0 : static_cast<double>(total) / classes;
    out += fmt::format("{:<6} {:>8} {:>10} {:>10} {:>11.1f}\n", info.split_names[s], total, lo, hi,
                       mean);
  }
  // Histogram of train images per class (how many classes have how many images).
  const auto& train = info.counts[0];
  if (!train.empty()) {
    const int64_t lo = *std::min_element(train.begin(), train.end());
    const int64_t hi = *std::max_element(train.begin(), train.end());
    const int64_t bins = hi == lo ? 1 : std::min<int64_t>(10, hi - lo + 1);
    const double width = static_cast<double>(hi - lo + 1) / static_cast<double>(bins);
    std::vector<int64_t> histogram(static_cast<size_t>(bins), 0);
    for (int64_t c : train) {
      const auto bin = std::min<int64_t>(bins - 1, static_cast<int64_t>((c - lo) / width));
      ++histogram[static_cast<size_t>(bin)];
    }
    const int64_t peak = *std::max_element(histogram.begin(), histogram.end());
    out += "train images per class (classes per bin):\n";
    for (int64_t b = 0; b < bins; ++b) {
      const auto from = lo + static_cast<int64_t>(b * width);
      const auto to = b + 1 == bins ? hi : lo + static_cast<int64_t>((b + 1) * width) - 1;
      const int64_t n = histogram[static_cast<size_t>(b)];
      out += fmt::format("  {:>6}-{:<6} {:<40} {}\n", from, to,
                         std::string(static_cast<size_t>((n * 40 + peak - 1) / peak), '#'), n);
    }
  }
  if (classes <= 50) {
    out += fmt::format("{:<20} {:>8} {:>8} {:>8}\n", "class", "train", "val", "test");
    for (size_t c = 0; c < classes; ++c) {
      out += fmt::format("{:<20} {:>8} {:>8} {:>8}\n", hpt::terminal_text(info.class_names[c]),
                         info.counts[0][c], info.counts[1][c], info.counts[2][c]);
    }
  }
  return out;
}

std::optional<std::string> empty_classes_warning(const Dataset& dataset) {
  const ClassDistribution info = class_distribution(dataset);
  std::vector<std::string> empty;
  for (size_t c = 0; c < info.class_names.size(); ++c) {
    if (info.counts[0][c] + info.counts[1][c] + info.counts[2][c] == 0) {
      empty.push_back(hpt::terminal_text(info.class_names[c]));
    }
  }
  if (empty.empty()) {
    return std::nullopt;
  }
  const size_t shown = std::min<size_t>(empty.size(), 5);
  return fmt::format(
      "warning: {} of the {} classes have no images ({}{}): they are counted as classes but "
      "take no part in training or evaluation",
      empty.size(), info.class_names.size(),
      fmt::join(empty.begin(), empty.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
      empty.size() > shown ? ", ..." : "");
}

}  // namespace hpt::trainer
