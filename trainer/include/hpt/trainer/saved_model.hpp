#pragma once
// A trained model on disk: model.json (config, head options, extractor entry, threshold),
// head.pt and the extractor's weights (or a reference to its TorchScript file).

#include <torch/torch.h>

#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/model_file.hpp"
#include "hpt/trainer/model.hpp"

namespace hpt::trainer {

struct SavedModel {
  EmbeddingHead head;
  FeatureExtractor extractor;
  ExperimentConfig config;
  double threshold = 0;  // "same" when distance <= threshold.
};

// The decision threshold as saved: clamped to [0, 2], the range of distances between unit
// embeddings (below 0, an image would differ from itself). Throws std::invalid_argument for NaN.
double saved_threshold(double threshold);

// k_model_file (experiment/model_file.hpp) makes a folder a model: save_model writes it last
// and load_model reads it first, so a run's outputs swap in as a set keyed on it
// (AtomicFileSet).

// Writes the model into dir (which must exist), with saved_threshold(threshold), k_model_file
// last. Over an earlier model the files are replaced one by one: write into a fresh folder
// (AtomicFileSet::staging()) to replace a model as a whole. shared_dir: as
// FeatureExtractor::save's.
void save_model(const std::string& dir, EmbeddingHead& head, FeatureExtractor& extractor,
                const ExperimentConfig& config, double threshold,
                const std::string& shared_dir = "");

// Loads a model saved by save_model. Throws std::runtime_error "<dir>/model.json: <key>:
// <problem>" for a value save_model would not write (checked before anything is allocated),
// or naming the file that is missing or does not match model.json (head.pt's shapes).
SavedModel load_model(const std::string& dir);

// Embeddings [N, D] of image files (decoded, resized to the training image size and
// converted to the training channel count). Throws std::runtime_error naming a file that
// cannot be read or whose embedding is not finite; all files are embedded before it returns,
// so a caller prints nothing for a batch that fails.
torch::Tensor embed_files(SavedModel& model, const std::vector<std::string>& paths);

}  // namespace hpt::trainer
