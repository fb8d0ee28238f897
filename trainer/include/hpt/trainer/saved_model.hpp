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

// The height and width of the images a model trained on, as its dataset held them (after
// dataset.image_size; the native size at image_size 0): hpt match and embed bring every image
// to them as the dataset loader did. 0 x 0: unknown (a model saved before hpt recorded it).
struct ImageShape {
  int64_t height = 0;
  int64_t width = 0;
};

struct SavedModel {
  EmbeddingHead head;
  FeatureExtractor extractor;
  ExperimentConfig config;
  double threshold = 0;  // "same" when distance <= threshold.
  ImageShape trained_on;
};

// The decision threshold as saved: clamped to [0, 2], the range of distances between unit
// embeddings (below 0, an image would differ from itself). Throws std::invalid_argument for NaN.
double saved_threshold(double threshold);

// hpt match's verdict: "distance D threshold T: same" (D <= T) or ": different", with six
// decimals, or as many more as it takes to show two different numbers differently.
std::string match_line(double distance, double threshold);

// k_model_file (experiment/model_file.hpp) makes a folder a model: save_model writes it last
// and load_model reads it first, so a run's outputs swap in as a set keyed on it
// (AtomicFileSet).

// Writes the model into dir (which must exist), with saved_threshold(threshold) and the shape
// of its training images (model.json's "images"), k_model_file last. Over an earlier model the
// files are replaced one by one: write into a fresh folder (AtomicFileSet::staging()) to
// replace a model as a whole. shared_dir: as FeatureExtractor::save's.
void save_model(const std::string& dir, EmbeddingHead& head, FeatureExtractor& extractor,
                const ExperimentConfig& config, double threshold, const ImageShape& trained_on,
                const std::string& shared_dir = "");

// Loads a model saved by save_model. Throws std::runtime_error "<dir>/model.json: <key>:
// <problem>" for a value save_model would not write (checked before anything is allocated),
// or naming the file that is missing or does not match model.json (head.pt's shapes).
SavedModel load_model(const std::string& dir);

// Embeddings [N, D] of image files, each through the training path: load_image at
// model.trained_on (the dataset loader's decode and resize; a model saved before hpt recorded
// it: dataset.image_size, or as decoded), then embed() (training.hpp: the extractor's input
// conversion, the extractor and the head, as for the run's validation and test images).
// Throws std::runtime_error naming a file that cannot be read or whose embedding is not
// finite; all files are embedded before it returns, so a caller prints nothing for a batch
// that fails.
torch::Tensor embed_files(SavedModel& model, const std::vector<std::string>& paths);

}  // namespace hpt::trainer
