#pragma once
// Class-balanced P x K batches: P distinct classes, K images each.

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace hpt::trainer {

// Images in a P x K batch over `classes` non-empty classes: P clamped to them, times K (what
// PkSampler::batch_size() gives).
inline int64_t pk_batch_size(int64_t classes_per_batch, int64_t images_per_class, int64_t classes) {
  return std::min(classes_per_batch, classes) * images_per_class;
}

// Steps in one epoch: steps_per_epoch when set (> 0), else one pass over train_images in
// batches of `batch` (at least one step).
inline int64_t epoch_steps(int64_t steps_per_epoch, int64_t train_images, int64_t batch) {
  if (steps_per_epoch > 0) {
    return steps_per_epoch;
  }
  const int64_t b = std::max<int64_t>(batch, 1);
  return std::max<int64_t>(1, (train_images + b - 1) / b);
}

// Seeded P x K sampler. Classes are visited in reshuffled rounds; within a class, images
// are drawn without replacement from a reshuffled queue, or with replacement when the
// class has fewer than K images. P is clamped to the number of non-empty classes.
class PkSampler {
 public:
  // Throws std::invalid_argument for P < 1, K < 1, negative labels or no labels.
  PkSampler(const std::vector<int64_t>& labels, int64_t classes_per_batch, int64_t images_per_class,
            uint64_t seed);

  // Indices into labels of the next batch, class by class (P * K entries).
  std::vector<int64_t> next();
  int64_t batch_size() const { return m_p * m_k; }  // pk_batch_size.

 private:
  std::vector<std::vector<int64_t>> m_members;  // Per non-empty class.
  std::vector<size_t> m_cursor;
  std::vector<size_t> m_class_order;
  size_t m_class_cursor = 0;
  int64_t m_p;
  int64_t m_k;
  std::mt19937_64 m_rng;
};

}  // namespace hpt::trainer
