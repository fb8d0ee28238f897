#pragma once
// Image datasets: loading (Tiny ImageNet, class folders, IDX), the decoded-image
// cache, and seeded stratified train/validation/test splits.

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/trainer/image_io.hpp"

namespace hpt::trainer {

// Decoded images of one split.
struct ImageSet {
  torch::Tensor images;  // uint8 [N, H, W, C], C = 1 or 3.
  torch::Tensor labels;  // int64 [N], class indices into class_names.
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// An experiment's dataset section (its keys are declared once, in DatasetConfig) and what a
// run adds.
struct DatasetOptions : DatasetConfig {
  uint64_t seed = 0;
  std::string cache_dir;  // Where the decoded-image cache lives; "" disables it.
};

struct Dataset {
  std::vector<std::string> class_names;  // Index = label.
  ImageSet train, val, test;
  std::string fingerprint;         // Identifies source files + options; keys downstream caches.
  bool loaded_from_cache = false;  // True when the decoded images came from cache_dir.
  std::string cache_problem;       // Why the decoded images could not be cached ("" if they were).
  std::vector<std::string> notes;  // What the listing left out (files hpt does not read, ...).
  // True when val and test were cut from one pool by dataset.val_fraction / test_fraction;
  // false when they halve a held-out pool (IDX t10k files, Tiny ImageNet val/).
  bool split_by_fractions = true;
};

// A loaded dataset that cannot serve a run: the config key to change and one line saying why.
struct DatasetProblem {
  std::string key;      // "dataset.val_fraction", "dataset.test_fraction", "dataset.path", ...
  std::string message;  // Names the split or images, their counts or size, and what to change.
};

// Images the built-in CNN cannot take: a side below k_min_builtin_cnn_side (image_size 0 keeps the
// native size). Refused, not silently resized up: dataset.image_size says how to resize.
std::optional<DatasetProblem> image_side_problem(const Dataset& dataset, int64_t image_size);

// What a run needs of every split, checked once right after loading, before any pretraining:
// at least two classes and one class with two images. Validation and test pairs need that
// (make_pairs), and so do training batches (the P x K sampler's triplets need a positive pair
// and a negative; the built-in CNN pretrains on train). Returns the first problem
// (train, val, test order), or std::nullopt.
std::optional<DatasetProblem> split_problem(const Dataset& dataset);

// A DatasetProblem found while loading, thrown by load_dataset.
class DatasetProblemError : public std::runtime_error {
 public:
  explicit DatasetProblemError(DatasetProblem problem)
      : std::runtime_error(problem.key + ": " + problem.message), m_problem(std::move(problem)) {}
  const DatasetProblem& problem() const { return m_problem; }

 private:
  DatasetProblem m_problem;
};

// Decoding `images` images at image_size x image_size takes at least images x image_size^2
// bytes (one channel; RGB takes three times that): a dataset.image_size problem naming the
// count and the bytes when image_memory_problem refuses that, else std::nullopt (also for
// image_size 0, the native size, unknown before decoding).
std::optional<DatasetProblem> decoded_size_problem(int64_t images, int64_t image_size,
                                                   uint64_t memory_bytes);

// Loads and splits a dataset. Split rules:
//  - idx: train-* files form the train pool, t10k-* files are split evenly
//    (stratified) into validation and test; without t10k files, one pool is split
//    by val_fraction / test_fraction.
//  - tiny-imagenet: train/ is train; val/ (with val_annotations.txt) is split evenly
//    into validation and test (the report's setup); test/ (unlabelled) is ignored.
//  - folder: one pool <root>/<class>/**/<image> (k_image_extensions, hidden files skipped)
//    split by the fractions.
// Every split is stratified by class and seeded. Throws std::runtime_error naming the
// file for missing, corrupt or unreadable inputs, and DatasetProblemError before decoding
// image files whose decoded_size_problem exceeds physical_memory_bytes().
Dataset load_dataset(const DatasetOptions& options);

// Per-class counts of a split, for the class-distribution summary.
std::vector<int64_t> class_counts(const ImageSet& set, size_t num_classes);

// Class counts of every split (the report's class-distribution figure, as data).
struct ClassDistribution {
  std::vector<std::string> class_names;
  std::vector<std::string> split_names;      // "train", "val", "test".
  std::vector<std::vector<int64_t>> counts;  // [split][class].
};

// The per-split class counts of a loaded dataset.
ClassDistribution class_distribution(const Dataset& dataset);

// A text summary: per-split totals with min/max/mean images per class, a histogram of
// the train per-class counts, and (up to 50 classes) the per-class table, class names shown
// with terminal_text.
std::string class_distribution_summary(const Dataset& dataset);

// One warning line (no newline) naming how many classes have no image in any split and the
// first five of them (an empty class folder, IDX labels that skip values), or std::nullopt.
std::optional<std::string> empty_classes_warning(const Dataset& dataset);

}  // namespace hpt::trainer
