#pragma once
// A whole experiment: load -> extractor -> cached features -> train -> evaluate -> save, and
// its metrics.json.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/trainer/metrics.hpp"
#include "hpt/trainer/model.hpp"
#include "hpt/trainer/training.hpp"

namespace hpt::trainer {

struct ExperimentResult {
  double val_roc_auc = 0;  // Best epoch (restored weights).
  double test_roc_auc = 0;
  double baseline_test_roc_auc = 0;  // The extractor's raw L2-normalised features, same pairs.
  std::string device;                // Where it ran (describe_device).
  double val_recall_at_1 = 0;
  double test_recall_at_1 = 0;
  double threshold = 0;  // Youden-optimal distance on the validation pairs.
  std::array<std::array<int64_t, 2>, 2> confusion_matrix{};  // Test pairs at threshold.
  RocCurve roc_curve;                                        // Test pairs, <= 50 points.
  LoopResult loop;
  nlohmann::json timings;  // Seconds per phase.
  // Milliseconds per test image from pixels to embedding on the run's device (median of
  // timed passes); measured only when an objective or constraint names inference_ms
  // (metrics.json's null otherwise: not a time of 0).
  std::optional<double> inference_ms;
  // The values of config.objectives, in order (objective_value).
  std::vector<std::string> objectives;
  std::vector<double> objective_values;
  // The constraint values of config.constraints, in order (MetricBound::constraint_value).
  std::vector<double> constraint_values;
};

// The value of objective metric name (objective_metrics()) for a finished run: val_roc_auc is
// the best epoch's validation AUC (what the epoch lines report).
double objective_value(const std::string& name, const ExperimentConfig& config,
                       const ExperimentResult& result);

// Milliseconds per image to embed images (uint8 [N, H, W, C]) with extractor and head on
// their device: the median of `passes` timed passes after one warm-up pass.
double inference_ms_per_image(EmbeddingHead& head, FeatureExtractor& extractor,
                              const torch::Tensor& images, int passes = 3);

struct RunOptions {
  uint64_t run_seed = 0;        // Initialisation and batches (a trial's seed).
  std::string out_dir;          // If set: metrics.json, the model and the projector export.
  std::string shared_dir;       // If set: files models share, kept once (save_model's).
  EpochCallback on_epoch;       // Called after every epoch.
  std::ostream* log = nullptr;  // Progress and the class distribution; null: silent.
};

// Runs a whole experiment. Throws std::runtime_error / hpt::ConfigError on bad input.
ExperimentResult run_experiment(const ExperimentConfig& config, const RunOptions& options);

// What run_experiment does with the dataset before any model: it is loaded (into the image
// cache, so a run after it decodes nothing again), split and checked; the summary goes to log.
// A user's TorchScript feature_extractor is loaded and probed too, on the CPU (the built-in CNN
// is not pretrained). Throws what run_experiment throws for them, naming the setting
// (config.origins).
void check_experiment_dataset(const ExperimentConfig& config, std::ostream& log);

// metrics.json content of a result.
nlohmann::json result_to_json(const ExperimentResult& result);

}  // namespace hpt::trainer
