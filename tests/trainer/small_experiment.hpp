#pragma once
// The experiment config of a trainer test that runs a whole (tiny) training: short epochs,
// small batches and pair counts, one thread, no early stopping.

#include <cstdint>
#include <string>

#include "hpt/experiment/experiment_config.hpp"

namespace hpt::test {

// format/path/extractor as given; P x K = classes_per_batch x images_per_class.
inline trainer::ExperimentConfig small_experiment(const std::string& format,
                                                  const std::string& path,
                                                  const std::string& extractor,
                                                  int64_t classes_per_batch = 4,
                                                  int64_t images_per_class = 4) {
  trainer::ExperimentConfig c;
  c.dataset.format = format;
  c.dataset.path = path;
  c.feature_extractor = extractor;
  c.epochs = 2;
  c.steps_per_epoch = 3;
  c.early_stopping_patience = 0;
  c.embedding_dim = 8;
  c.classes_per_batch = classes_per_batch;
  c.images_per_class = images_per_class;
  c.eval_pairs = 200;
  c.threads = 1;
  return c;
}

}  // namespace hpt::test
