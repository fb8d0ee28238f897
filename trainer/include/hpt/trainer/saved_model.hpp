#pragma once
// A trained model on disk: model.json (config, head options, extractor entry, threshold),
// head.pt and the extractor's weights (or a reference to its TorchScript file).

#include <torch/torch.h>

#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/trainer/model.hpp"

namespace hpt::trainer {

struct SavedModel {
  EmbeddingHead head;
  FeatureExtractor extractor;
  ExperimentConfig config;
  double threshold = 0;  // "same" when distance <= threshold.
};

// Writes the model into dir (which must exist).
void save_model(const std::string& dir, EmbeddingHead& head, FeatureExtractor& extractor,
                const ExperimentConfig& config, double threshold);

// Loads a model saved by save_model. Throws std::runtime_error naming dir if incomplete.
SavedModel load_model(const std::string& dir);

// Embeddings [N, D] of image files (decoded, resized to the training image size and
// converted to the training channel count). Throws naming a file that cannot be read.
torch::Tensor embed_files(SavedModel& model, const std::vector<std::string>& paths);

}  // namespace hpt::trainer
