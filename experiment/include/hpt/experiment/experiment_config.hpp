#pragma once
// The experiment config (the report's YAML keys plus dataset, loss and batch settings): the
// built-in trainer's settings, in namespace hpt::trainer. Part of hpt::experiment, which is
// torch-free, so the engine validates a study's trainer settings without LibTorch.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hpt::trainer {

// The largest image side an experiment or a saved model may ask for (2048 x 2048 x 3 floats
// is 48 MB an image); beyond it a typo would allocate without bound.
constexpr int64_t k_max_image_size = 2048;
// The widest embedding or feed-forward block, and the largest P x K batch (its B x B distance
// matrices stay under 300 MB).
constexpr int64_t k_max_units = 16384;
// The most feed-forward blocks (intermediate_ff_block_units; a saved head declares as many).
constexpr size_t k_max_blocks = 64;
// The built-in CNN's first-stage width (builtin_cnn_width, and a saved model's "width").
constexpr int64_t k_min_builtin_cnn_width = 4;
constexpr int64_t k_max_builtin_cnn_width = 256;
// The smallest image side the built-in CNN takes: its three 2x2 max-pools (8 -> 4 -> 2 -> 1)
// leave nothing to pool below it (a dataset's native images, a saved model's input size).
constexpr int64_t k_min_builtin_cnn_side = 8;
// How many independently initialised built-in CNNs an ensemble holds (builtin_cnn_ensemble,
// and a saved model's "members").
constexpr int64_t k_max_builtin_cnn_ensemble = 8;
constexpr int64_t k_max_batch = 8192;

// The dataset section's keys, declared once: the experiment config reads them and the
// loader (trainer_data's DatasetOptions) takes them as they are.
struct DatasetConfig {
  std::string format;         // "idx", "tiny-imagenet" or "folder" (required).
  std::string path;           // Dataset root (for idx: folder with *-images-idx3-ubyte[.gz]).
  int64_t image_size = 0;     // Square resize side; 0 keeps the native size (must be uniform).
  double val_fraction = 0.1;  // Of the labelled pool, where the dataset has no predefined split.
  double test_fraction = 0.1;
};

// The training loop's keys, declared once: the experiment config reads them (its key table,
// experiment_config.cpp) and the trainer's loop takes them as they are (LoopOptions in
// trainer/training.hpp adds what a run decides: device, precision, seeds).
struct LoopSettings {
  int64_t epochs = 20;
  int64_t early_stopping_patience = 5;  // Epochs without val AUC gain; 0 disables.
  double learning_rate = 1e-3;
  // "constant" or "cosine" (per step over all epochs, to 0 at the end). Defaults of
  // lr_schedule, margin and distance: bench/trainer/quality_sweep.sh (the report's keys on
  // Fashion-MNIST: squared, cosine; margin 0.03 0.9882 test pair AUC, 0.1 0.9869, 0.3 0.9800,
  // raw features 0.9876; TFA's euclidean 1.0 constant was 0.951 with an older extractor).
  std::string lr_schedule = "cosine";
  int64_t warmup_steps = 0;          // Linear learning-rate warm-up steps.
  double margin = 0.03;              // TFA's TripletSemiHardLoss default is 1.0 (see above).
  std::string loss = "semi-hard";    // "semi-hard" or "batch-hard".
  std::string distance = "squared";  // Triplet loss distance: "squared" (FaceNet, the report)
                                     // or "euclidean" (TFA >= 0.11).
  int64_t classes_per_batch = 8;     // P (clamped to the number of classes).
  int64_t images_per_class = 8;      // K.
  int64_t steps_per_epoch = 0;       // 0: one pass over the train split.
  bool image_augmentation = false;   // Images only: the report's augmentation (augment.hpp).
  int64_t eval_pairs = 200000;       // Balanced pairs per split for ROC AUC: at 10,000 a pair
                                     // sample's AUC varied by sd 0.0008 (bench/trainer/
                                     // pair_sample_noise.py), at 200,000 by 0.0002.
};

// A bound a run's metric must keep (a constraint of a constrained study, Optuna's
// constraints_func): `max` keeps measured <= limit, `min` keeps measured >= limit.
struct MetricBound {
  std::string metric;  // One of objective_metrics().
  bool is_max = true;
  double limit = 0;
  // The constraint value the worker reports: measured - limit for a max, limit - measured
  // for a min; met when <= 0.
  double constraint_value(double measured) const {
    return is_max ? measured - limit : limit - measured;
  }
};

struct ExperimentConfig : LoopSettings {
  std::string experiment_name = "experiment";
  uint64_t seed = 0;                              // Data split, pretraining; trials add their own.
  std::string feature_extractor = "builtin-cnn";  // Or a TorchScript .pt file; its input
                                                  // contract: torchscript_input_spec (model.hpp).
  int64_t embedding_dim = 64;
  std::vector<int64_t> intermediate_ff_block_units;  // One FF block per entry.
  double dropout = 0.0;                              // In [0, 1).
  DatasetConfig dataset;
  bool trainable_extractor = false;  // false: frozen, features cached (with
                                     // augmentation: val/test only, train on the fly).
  int64_t pretrain_epochs = 3;       // Built-in CNN classification pretraining.
  // The built-in CNN's first-stage channels (doubling over its four stages; features 16 x width).
  int64_t builtin_cnn_width = 16;
  // Built-in CNNs pretrained side by side from different initialisations, their L2-normalised
  // features concatenated: 2 lifts Fashion-MNIST's raw-feature test pair AUC by ~0.002 for
  // twice the pretraining (bench/trainer/pretrain_recipes.py, ENSEMBLE_WITH).
  int64_t builtin_cnn_ensemble = 1;
  int64_t threads = 0;             // torch::set_num_threads; 0 keeps the default.
  std::string device = "auto";     // "auto", "cpu", "cuda" or "cuda:N" (see device.hpp).
  std::string precision = "fp32";  // "fp32", "bf16" or "fp16" (autocast).
  // What the worker reports, in order (objective_metrics()); two or more make a
  // multi-objective trial ({"values": [...]}), one the usual {"value": v}.
  std::vector<std::string> objectives = {"val_roc_auc"};
  // Bounds the worker reports as the trial's constraints, in order (empty: none).
  std::vector<MetricBound> constraints;
  // Where each given key was set ("file:line: key"), by key ("device", "dataset.path"):
  // run-time checks (device, precision, loading the dataset) name it.
  std::map<std::string, std::string> origins;
};

// Where key was set ("file:line: key"), or the key's name when unknown.
std::string origin_of(const ExperimentConfig& config, const std::string& key);

// What is wrong with the paths the experiment reads, as (key, problem) pairs: dataset.path
// (no such folder, not a folder, cannot be listed) and a TorchScript feature_extractor (no
// such file, not a file, not readable). Empty when there is nothing (the loaders check the
// contents). `hpt train` checks them before loading anything, a study before its first
// trial, so that a typo does not fail every trial.
std::vector<std::pair<std::string, std::string>> input_path_problems(const ExperimentConfig& c);

// Why a run's files may not go to folder dir: it lies inside a folder-layout dataset.path
// (links resolved), where they would become training images (an IDX dataset reads its files
// by name only). Empty when they may. `hpt train --out`, a worker's HPT_TRIAL_DIR and a
// study's trials folder are checked with it.
std::string dataset_holds_problem(const std::string& dir, const ExperimentConfig& c);

// Every key parse_experiment accepts at the top level, in the order they are read. The keys,
// their checks and their printing are one table (experiment_config.cpp); defaults are above.
std::vector<std::string> experiment_keys();

// Every key of the dataset section.
std::vector<std::string> dataset_keys();

// The metrics objectives may name: val_roc_auc (best epoch), test_roc_auc, val_recall_at_1,
// test_recall_at_1, embedding_dim, inference_ms (milliseconds per test image, see training.hpp).
std::vector<std::string> objective_metrics();

// Whether a higher value of metric (objective_metrics()) is better: the ROC AUCs and
// recalls; embedding_dim and inference_ms are costs.
bool higher_is_better(const std::string& metric);

// Whether a run of config reports metric: an objective or a constraint names it (inference_ms
// is measured only then).
bool reports_metric(const ExperimentConfig& config, const std::string& metric);

// A range a study searches a setting over: every number in [low, high], or with a step the
// values low + k * step up to high; integers when the values are integers (an int range).
struct SearchedRange {
  double low = 0;
  double high = 0;
  std::optional<double> step;
  bool integers = false;
};

// Why range gives setting name ("epochs", "dataset.image_size") a value the setting refuses,
// or "" when it gives none (or name is not a numeric setting). Exact: each numeric key of the
// key table declares the values it takes as intervals, and the range is checked across every
// gap between them, e.g. "the range reaches 1, but dataset.image_size must be 0 (native) or
// 16 to 2048"; a range of non-integers for an integer key is refused by name.
std::string searched_range_problem(const std::string& name, const SearchedRange& range);

// Reads and validates an experiment mapping; throws hpt::ConfigError
// "file:line: key: problem" (unknown keys with a near-miss hint, types, ranges).
ExperimentConfig parse_experiment(const YAML::Node& node, const std::string& file);

// The same checks on a JSON object (the worker's HPT_FIXED merged with HPT_PARAMS);
// errors name origin instead of a file.
ExperimentConfig experiment_from_json(const nlohmann::json& json, const std::string& origin);

// All keys with their values; experiment_from_json(to_json(c)) == c.
nlohmann::json to_json(const ExperimentConfig& config);

}  // namespace hpt::trainer
