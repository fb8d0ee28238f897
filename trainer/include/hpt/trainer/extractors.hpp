#pragma once
// The feature extractors a run trains on: the built-in CNN (pretrained once per dataset and
// cached) and the frozen features of every split (computed once and cached).

#include <torch/torch.h>

#include <array>
#include <iosfwd>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/trainer/dataset.hpp"
#include "hpt/trainer/model.hpp"

namespace hpt::trainer {

// The pretraining batch for images of pixels pixels each: 128 up to 64 x 64, then fewer in
// proportion, at least 8 (a batch of 128 images of 2048 x 2048 needed about 9 GB a layer, and
// the kernel killed the run without a word).
int64_t pretrain_batch_size(int64_t pixels);

// The built-in CNN pretrained by classification on dataset.train for config.pretrain_epochs
// (seeded by config.seed; a CosFace classifier, so that its features compare by angle), loaded from or saved to the cache (keyed by the dataset
// fingerprint and the CNN options), trained on and returned on device.
FeatureExtractor builtin_extractor(const Dataset& dataset, const ExperimentConfig& config,
                                   std::ostream& log, const torch::Device& device = torch::kCPU);

// Why the frozen features of `images` images, `features` each, cannot be held: their
// images x features x 4 bytes refused by image_memory_problem's rule against memory_bytes
// (0: usable_memory_bytes()), said with the count, the images and the bytes; "" when they fit.
std::string frozen_features_problem(int64_t images, int64_t features, uint64_t memory_bytes = 0);

// Features of every split, computed once per (dataset, extractor) and cached on disk
// (as CPU tensors), returned on the extractor's device.
// Sets *hit to whether they came from the cache. Throws std::runtime_error
// "<extractor.label()>: <frozen_features_problem>" before computing or loading anything when
// they would not fit in memory_bytes (0: usable_memory_bytes()).
std::array<torch::Tensor, 3> cached_features(const Dataset& dataset, FeatureExtractor& extractor,
                                             bool* hit, std::ostream& log,
                                             uint64_t memory_bytes = 0);

}  // namespace hpt::trainer
