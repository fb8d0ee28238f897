#include "hpt/trainer/experiment_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <ostream>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/trainer/batch_sampler.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/cpu_threads.hpp"
#include "hpt/trainer/dataset.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/extractors.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/model_view.hpp"
#include "hpt/trainer/projector.hpp"
#include "hpt/trainer/run_outputs.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "run_support.hpp"

namespace hpt::trainer {

namespace {

// The loop's inputs: training, validation and test inputs as the head sees them (cached
// features, or images when the extractor runs in the loop), and that extractor (nullptr when
// features are cached).
struct LoopInputs {
  TrainData train;
  TrainData val;
  TrainData test;
  FeatureExtractor* extractor = nullptr;
};

// The test pairs scored on the trained model, kept for the outputs.
struct TestScores {
  torch::Tensor embeddings;
  std::vector<double> distances;
};

// A line for each batch size the train split cannot fill as asked (the sampler takes every
// class there is, and repeats a small class's images within a batch), or "".
std::string batch_note(const ExperimentConfig& config, const std::vector<int64_t>& counts) {
  int64_t classes = 0;
  int64_t smallest = std::numeric_limits<int64_t>::max();
  for (const int64_t n : counts) {
    classes += n > 0 ? 1 : 0;
    smallest = n > 0 ? std::min(smallest, n) : smallest;
  }
  std::string out;
  if (config.classes_per_batch > classes) {
    out += fmt::format(
        "note: classes_per_batch {} is more than the {} classes of the train "
        "split: a batch holds {}\n",
        config.classes_per_batch, classes, classes);
  }
  if (classes > 0 && config.images_per_class > smallest) {
    out += fmt::format(
        "note: images_per_class {} is more than the {} images of the train "
        "split's smallest class: its images repeat within a batch\n",
        config.images_per_class, smallest);
  }
  return out;
}

// A line when warmup_steps outlasts the whole run (epochs x epoch_steps, as training counts
// them), or "": the learning rate
// would never reach learning_rate, and the run look like one that did.
std::string warmup_note(const ExperimentConfig& config, const std::vector<int64_t>& counts) {
  int64_t classes = 0;
  int64_t images = 0;
  for (const int64_t n : counts) {
    classes += n > 0 ? 1 : 0;
    images += n;
  }
  const int64_t steps =
      epoch_steps(config.steps_per_epoch, images,
                  pk_batch_size(config.classes_per_batch, config.images_per_class, classes));
  const int64_t total = config.epochs > std::numeric_limits<int64_t>::max() / steps
                            ? std::numeric_limits<int64_t>::max()
                            : config.epochs * steps;
  if (config.warmup_steps <= total) {
    return "";
  }
  return fmt::format(
      "note: {} {} is more than the run's {} steps ({} epochs of {}): the learning rate never "
      "reaches learning_rate\n",
      origin_of(config, "warmup_steps"), config.warmup_steps, total, config.epochs, steps);
}

Dataset load_experiment_dataset(const ExperimentConfig& config, ExperimentResult& result,
                                std::ostream& log) {
  if (const auto problems = input_path_problems(config); !problems.empty()) {
    // A setting's mistake (exit 2, as hpt --config refuses it), not a failure of the run.
    throw ConfigError(origin_of(config, problems[0].first) + ": " + problems[0].second);
  }
  const std::string cache = cache_root();
  if (const std::string problem = folder_problem(cache); !problem.empty()) {
    throw std::runtime_error("the cache folder (HPT_CACHE_DIR, default ~/.cache/hpt): " + problem);
  }
  const DatasetOptions o{config.dataset, config.seed, cache + "/images"};
  const auto t0 = Clock::now();
  Dataset dataset;
  try {
    dataset = load_dataset(o);
  } catch (const DatasetProblemError& e) {
    // What the data holds is the dataset setting's mistake: exit 2, as the study's check says.
    throw ConfigError(origin_of(config, e.problem().key) + ": " + e.problem().message);
  } catch (const std::bad_alloc&) {  // Not the dataset's fault, but its size's: said so.
    throw std::runtime_error(
        fmt::format("{}: out of memory while loading and decoding the images (against {}); lower "
                    "dataset.image_size or use fewer images",
                    origin_of(config, "dataset.path"), memory_text(usable_memory_bytes())));
  } catch (const std::filesystem::filesystem_error& e) {
    const std::string path = e.path1().string();
    if (!o.cache_dir.empty() && path.rfind(o.cache_dir, 0) == 0) {  // A full disk, ...
      throw std::runtime_error(
          fmt::format("cannot write the image cache '{}': {}", path, e.code().message()));
    }
    throw ConfigError(fmt::format("{}: cannot read '{}': {}", origin_of(config, "dataset.path"),
                                  path, e.code().message()));
  } catch (const std::exception& e) {
    throw ConfigError(origin_of(config, "dataset.path") + ": " + e.what());
  }
  result.timings["load_dataset"] = seconds_since(t0);
  for (const char* key : {"dataset.val_fraction", "dataset.test_fraction"}) {
    if (!dataset.split_by_fractions && config.origins.count(key) != 0) {
      throw ConfigError(fmt::format(
          "{}: has no effect on this {} dataset: its held-out images ({}) are split evenly into "
          "validation and test; the fractions split one pool (a folder dataset, or idx files "
          "without t10k files): remove it",
          origin_of(config, key), config.dataset.format,
          config.dataset.format == "idx" ? "the t10k files" : "val/"));
    }
  }
  if (!dataset.cache_problem.empty()) {
    log << "warning: decoded images not cached (" << dataset.cache_problem << ")\n";
  }
  for (const std::string& note : dataset.notes) {
    log << "warning: " << origin_of(config, "dataset.path") << ": " << note << "\n";
  }
  log << fmt::format("dataset {} ({}): train {}, val {}, test {} images, {} classes\n",
                     config.dataset.path, config.dataset.format, dataset.train.size(),
                     dataset.val.size(), dataset.test.size(), dataset.class_names.size());
  log << class_distribution_summary(dataset);
  if (const auto warning = empty_classes_warning(dataset)) {
    log << *warning << "\n";
  }
  // Before the extractor: pretraining on an unusable split used to cache a broken CNN.
  auto problem = split_problem(dataset);
  if (!problem && config.feature_extractor == "builtin-cnn") {
    problem = image_side_problem(dataset, config.dataset.image_size);
  }
  if (problem) {
    throw ConfigError(origin_of(config, problem->key) + ": " + problem->message);
  }
  const auto counts = class_counts(dataset.train, dataset.class_names.size());
  log << batch_note(config, counts) << warmup_note(config, counts);
  return dataset;
}

// Stops the run when a split's features or embeddings hold NaN or inf: the model is broken and
// metrics on such values would mean nothing.
void require_finite(const torch::Tensor& values, const std::string& what, const char* split) {
  if (!torch::isfinite(values).all().item<bool>()) {
    throw std::runtime_error(fmt::format(
        "the {} of the {} split are not finite (NaN or inf): the model is broken or training "
        "diverged; no metrics reported",
        what, split));
  }
}

constexpr const char* k_embeddings = "trained model's embeddings";

// Refuses a head that would not fit in usable_memory_bytes() with its gradients and Adam's
// two moments, 4 float32 a parameter: eight blocks of 16384 units took 34 GB, and LibTorch's
// allocator (or the kernel, without a word) ended the run.
void require_head_fits(const ExperimentConfig& config, int64_t feature_dim) {
  double parameters = 0;
  double in = static_cast<double>(feature_dim);
  for (const int64_t units : config.intermediate_ff_block_units) {
    parameters += in * static_cast<double>(units) + 3.0 * static_cast<double>(units);
    in = static_cast<double>(units);  // Weight and bias, BatchNorm's scale and shift.
  }
  parameters += (in + 1) * static_cast<double>(config.embedding_dim);
  const double bytes = parameters * 4 * sizeof(float);
  const uint64_t memory = usable_memory_bytes();
  if (bytes > static_cast<double>(memory)) {
    throw ConfigError(fmt::format(
        "{}: a head of {:.3g} parameters ({} features in, blocks [{}], embedding_dim {}) takes "
        "{:.1f} GB with its gradients and Adam's state, more than {}; use fewer or narrower "
        "blocks",
        origin_of(config, "intermediate_ff_block_units"), parameters, feature_dim,
        fmt::join(config.intermediate_ff_block_units, ", "), config.embedding_dim, bytes / 1e9,
        memory_text(memory)));
  }
}

// Stops the run when the extractor's features of a split hold NaN or inf, naming the extractor
// (a user's TorchScript module by its feature_extractor key: its forward() is at fault).
void require_finite_features(const torch::Tensor& features, const ExperimentConfig& config,
                             const FeatureExtractor& extractor, const char* split) {
  if (extractor.is_builtin()) {
    require_finite(features, "built-in CNN's features", split);
    return;
  }
  if (!torch::isfinite(features).all().item<bool>()) {
    throw std::runtime_error(fmt::format(
        "{}: the features the TorchScript module {} gives for the {} split are not finite (NaN "
        "or inf): its forward() is broken for these images; no metrics reported",
        origin_of(config, "feature_extractor"), extractor.script_path(), split));
  }
  // Past this, float32 sums of squares (norms, BatchNorm's variance) overflow: every
  // embedding became 0 and each pair "same", with AUC 0.5 and exit 0.
  constexpr double k_largest_feature = 1e15;
  if (const double largest = features.numel() == 0 ? 0 : features.abs().max().item<double>();
      largest > k_largest_feature) {
    throw std::runtime_error(fmt::format(
        "{}: the TorchScript module {} gives features as large as {:.3g} for the {} split, past "
        "what float32 arithmetic squares without overflow (about {:.0e}); scale its output down "
        "(divide it, or normalise it)",
        origin_of(config, "feature_extractor"), extractor.script_path(), largest, split,
        k_largest_feature));
  }
}

FeatureExtractor make_extractor(const ExperimentConfig& config, const Dataset& dataset,
                                const torch::Device& device, ExperimentResult& result,
                                std::ostream& log) {
  const auto t0 = Clock::now();
  FeatureExtractor extractor = [&] {
    if (config.feature_extractor == "builtin-cnn") {
      return builtin_extractor(dataset, config, log, device);
    }
    try {
      return FeatureExtractor::torchscript(
          config.feature_extractor,
          config.dataset.image_size > 0 ? config.dataset.image_size : dataset.train.images.size(1),
          device);
    } catch (const std::exception& e) {  // Not TorchScript, or not an image model hpt can use:
      // the setting names a file hpt cannot use, exit 2 as for a missing one.
      throw ConfigError(origin_of(config, "feature_extractor") + ": " + e.what());
    }
  }();
  extractor.set_origin(origin_of(config, "feature_extractor"));
  extractor.set_trainable(config.trainable_extractor);
  if (device.is_cuda()) {
    extractor.to(device, /*channels_last=*/true);  // Conv weights NHWC for cuDNN.
  }
  result.timings["extractor"] = seconds_since(t0);
  return extractor;
}

// A frozen extractor's features are cached. With augmentation, the training images change
// every step, so only validation and test (never augmented) use the cache and the extractor
// runs on the augmented training batches.
LoopInputs loop_inputs(const ExperimentConfig& config, const Dataset& dataset,
                       FeatureExtractor& extractor, ExperimentResult& result, std::ostream& log) {
  LoopInputs in{{dataset.train.images, dataset.train.labels},
                {dataset.val.images, dataset.val.labels},
                {dataset.test.images, dataset.test.labels},
                &extractor};
  if (config.trainable_extractor) {
    return in;
  }
  const auto t0 = Clock::now();
  auto features = cached_features(dataset, extractor, nullptr, log);
  result.timings["features"] = seconds_since(t0);
  require_finite_features(features[0], config, extractor, "train");
  require_finite_features(features[1], config, extractor, "val");  // Test: with the baseline.
  if (!config.image_augmentation) {
    in.train.inputs = features[0];
    in.extractor = nullptr;
  } else {
    log << "augmentation: training features computed on the fly from augmented images\n";
  }
  in.val.inputs = features[1];
  in.test.inputs = features[2];
  return in;
}

LoopOptions loop_options(const ExperimentConfig& config, const torch::Device& device,
                         std::optional<torch::ScalarType> autocast, uint64_t run_seed) {
  LoopOptions loop;
  static_cast<LoopSettings&>(loop) = config;  // The experiment's loop keys, as they are.
  loop.device = device;
  loop.autocast = autocast;
  loop.seed = run_seed;
  loop.pair_seed = seed_for(config.seed, "val-pairs");
  return loop;
}

// Validation: AUC, recall@1 and the threshold (Youden's J on its pairs); test: AUC, recall@1,
// the confusion matrix at that threshold and the ROC curve (distance thresholds).
TestScores evaluate(EmbeddingHead& head, const LoopInputs& in, const PairSet& test_pairs,
                    const ExperimentConfig& config, uint64_t val_pair_seed,
                    ExperimentResult& result) {
  const auto t0 = Clock::now();
  auto val_emb = embed(head, in.extractor, in.val.inputs);
  require_finite(val_emb, k_embeddings, "val");
  PairSet val_pairs = make_pairs(to_vector(in.val.labels), config.eval_pairs, val_pair_seed);
  auto val_d = pair_distances(val_emb, val_pairs);
  result.val_roc_auc = roc_auc(scores_of(val_d), val_pairs.same);
  result.val_recall_at_1 = recall_at_1(val_emb, in.val.labels);
  result.threshold = youden_threshold(val_d, val_pairs.same);

  TestScores test{embed(head, in.extractor, in.test.inputs), {}};
  require_finite(test.embeddings, k_embeddings, "test");
  test.distances = pair_distances(test.embeddings, test_pairs);
  const std::vector<double> test_s = scores_of(test.distances);
  result.test_roc_auc = roc_auc(test_s, test_pairs.same);
  result.test_recall_at_1 = recall_at_1(test.embeddings, in.test.labels);
  result.confusion_matrix = confusion_matrix(test.distances, test_pairs.same, result.threshold);
  RocCurve curve = downsample(roc_curve(test_s, test_pairs.same), 50);
  for (auto& t : curve.thresholds) {
    t = -t;  // Report distance thresholds.
  }
  result.roc_curve = curve;
  result.timings["evaluate"] = seconds_since(t0);
  return test;
}

// Writes the run's files into dir as one set (AtomicFileSet, keyed on k_model_file): the model,
// the projector export, the model view and metrics.json, last, with the save and total
// timings. A failure leaves dir's earlier run whole. shared_dir: save_model's.
void save_outputs(const std::string& dir, const std::string& shared_dir, EmbeddingHead& head,
                  FeatureExtractor& extractor, const ExperimentConfig& config,
                  const Dataset& dataset, const PairSet& test_pairs, TestScores& test,
                  ExperimentResult& result, Clock::time_point t_start) {
  const auto t0 = Clock::now();
  create_folder(dir);
  AtomicFileSet outputs(dir, k_model_file, run_output_files());
  head->to(torch::kCPU);  // Saved models load anywhere.
  test.embeddings = test.embeddings.to(torch::kCPU);
  outputs.write([&](const std::string& staged) {
    const ImageShape trained_on{dataset.train.images.size(1), dataset.train.images.size(2)};
    save_model(staged, head, extractor, config, result.threshold, trained_on, shared_dir);
    write_projector(staged, test.embeddings, dataset.test.labels, dataset.class_names,
                    dataset.test.images);
    ModelViewOptions view_options;
    view_options.title_folder = dir;  // Not the staging folder it is written in.
    write_model_view(staged, test.embeddings, dataset.test.labels, dataset.class_names,
                     dataset.test.images, test_pairs, test.distances, result.threshold,
                     view_options);
    result.timings["save"] = seconds_since(t0);
    result.timings["total"] = seconds_since(t_start);
    hpt::write_file_atomically(staged + "/metrics.json", result_to_json(result).dump(2) + "\n");
  });
  outputs.commit();
}

}  // namespace

void check_experiment_dataset(const ExperimentConfig& config, std::ostream& log) {
  ExperimentResult result;
  const Dataset dataset = load_experiment_dataset(config, result, log);
  if (config.feature_extractor != "builtin-cnn") {  // Every trial failed on a broken module.
    make_extractor(config, dataset, torch::kCPU, result, log);
  }
}

namespace {

// Where and how a run computes: its CPU threads (a warning when more than the cores), its
// device and its autocast type; result.device says which.
std::pair<torch::Device, std::optional<torch::ScalarType>> set_up_compute(
    const ExperimentConfig& config, ExperimentResult& result, std::ostream& log) {
  use_cpu_threads(config.threads);
  if (const int cores = usable_cores(); config.threads > cores) {
    log << fmt::format(
        "warning: {}: {} threads on {} cores: they spin against each other and slow the run; set "
        "threads: {} or leave it out\n",
        origin_of(config, "threads"), config.threads, cores, cores);
  }
  const torch::Device device = resolve_device(config.device, origin_of(config, "device"));
  const auto autocast = autocast_dtype(config.precision, device, origin_of(config, "precision"));
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);  // Fixed input shapes: autotune once.
  }
  result.device = describe_device(device);
  log << fmt::format("device: {}, precision {}\n", result.device, config.precision);
  return {device, autocast};
}

// The trained model's objective and constraint values (measuring inference_ms if one names
// it), logged with the run's summary line.
void score_run(EmbeddingHead& head, FeatureExtractor& extractor, const Dataset& dataset,
               const ExperimentConfig& config, ExperimentResult& result, std::ostream& log) {
  if (reports_metric(config, "inference_ms")) {
    const auto t_inference = Clock::now();
    result.inference_ms = inference_ms_per_image(head, extractor, dataset.test.images);
    result.timings["inference"] = seconds_since(t_inference);
    log << fmt::format("inference: {:.4f} ms per image on {}\n", *result.inference_ms,
                       result.device);
  }
  result.objectives = config.objectives;
  for (const auto& name : config.objectives) {
    result.objective_values.push_back(objective_value(name, config, result));
  }
  for (const MetricBound& b : config.constraints) {
    const double measured = objective_value(b.metric, config, result);
    result.constraint_values.push_back(b.constraint_value(measured));
    log << fmt::format("constraint {} {} {}: {:.6g} ({})\n", b.metric,
                       b.is_max ? "<=" : ">=", b.limit, measured,
                       result.constraint_values.back() <= 0 ? "met" : "violated");
  }
  log << fmt::format(
      "val ROC AUC {:.4f} (best epoch {}), test ROC AUC {:.4f} (raw extractor features {:.4f}, "
      "{:+.4f} from training), test recall@1 {:.4f}, threshold {:.4f}\n",
      result.val_roc_auc, result.loop.best_epoch, result.test_roc_auc, result.baseline_test_roc_auc,
      result.test_roc_auc - result.baseline_test_roc_auc, result.test_recall_at_1,
      result.threshold);
}

}  // namespace

ExperimentResult run_experiment(const ExperimentConfig& config, const RunOptions& options) {
  std::ofstream null_stream;
  std::ostream& log = options.log ? *options.log : null_stream;
  const auto t_start = Clock::now();
  ExperimentResult result;
  const auto compute = set_up_compute(config, result, log);
  const torch::Device device = compute.first;
  const std::optional<torch::ScalarType> autocast = compute.second;

  const Dataset dataset = load_experiment_dataset(config, result, log);
  FeatureExtractor extractor = make_extractor(config, dataset, device, result, log);
  const LoopInputs in = loop_inputs(config, dataset, extractor, result, log);
  // What training adds: the same test pairs scored on the extractor's raw features.
  const PairSet test_pairs = make_pairs(to_vector(dataset.test.labels), config.eval_pairs,
                                        seed_for(config.seed, "test-pairs"));
  const torch::Tensor test_features =
      is_images(in.test.inputs) ? extractor.extract(in.test.inputs) : in.test.inputs;
  require_finite_features(test_features, config, extractor, "test");
  result.baseline_test_roc_auc = pair_roc_auc(test_features, test_pairs, true);

  // The head's initialisation comes from LibTorch's process-wide generator (one trial per
  // worker process); batches and augmentation use their own seeded generators.
  require_head_fits(config, extractor.feature_dim());
  torch::manual_seed(seed_for(options.run_seed, "init"));
  EmbeddingHead head(EmbeddingHeadOptions(extractor.feature_dim(), config.embedding_dim)
                         .units(config.intermediate_ff_block_units)
                         .dropout(config.dropout));
  head->to(device);
  const LoopOptions loop = loop_options(config, device, autocast, options.run_seed);
  const auto t0 = Clock::now();
  const auto on_epoch = [&](const EpochReport& r) {
    log << fmt::format("epoch {:>3}/{}: train loss {:.4f}, val ROC AUC {:.4f} ({:.1f} s)\n",
                       r.epoch, config.epochs, r.train_loss, r.val_auc, r.seconds);
    log.flush();
    if (options.on_epoch) {
      options.on_epoch(r);
    }
  };
  result.loop = train_embedding(head, in.extractor, in.train, in.val, loop, on_epoch);
  result.timings["train"] = seconds_since(t0);
  TestScores test = evaluate(head, in, test_pairs, config, loop.pair_seed, result);
  score_run(head, extractor, dataset, config, result, log);

  if (options.out_dir.empty()) {
    result.timings["total"] = seconds_since(t_start);
  } else {
    save_outputs(options.out_dir, options.shared_dir, head, extractor, config, dataset, test_pairs,
                 test, result, t_start);
  }
  return result;
}
double objective_value(const std::string& name, const ExperimentConfig& config,
                       const ExperimentResult& result) {
  if (name == "val_roc_auc") {
    return result.loop.best_val_auc;
  }
  if (name == "test_roc_auc") {
    return result.test_roc_auc;
  }
  if (name == "val_recall_at_1") {
    return result.val_recall_at_1;
  }
  if (name == "test_recall_at_1") {
    return result.test_recall_at_1;
  }
  if (name == "embedding_dim") {
    return static_cast<double>(config.embedding_dim);
  }
  if (name == "inference_ms") {
    return result.inference_ms.value_or(std::numeric_limits<double>::quiet_NaN());
  }
  throw std::invalid_argument("unknown objective metric '" + name + "'");
}

double inference_ms_per_image(EmbeddingHead& head, FeatureExtractor& extractor,
                              const torch::Tensor& images, int passes) {
  if (images.size(0) == 0) {
    return 0;
  }
  const torch::Device device = device_of(*head);
  const auto pass = [&] {
    const auto t0 = Clock::now();
    embed(head, &extractor, images);
    if (device.is_cuda()) {
      torch::cuda::synchronize(device.index());
    }
    return seconds_since(t0) * 1000 / static_cast<double>(images.size(0));
  };
  pass();  // Warm-up: allocations, cuDNN autotuning.
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, passes); ++i) {
    ms.push_back(pass());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

nlohmann::json result_to_json(const ExperimentResult& r) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : r.loop.history) {
    history.push_back({{"epoch", e.epoch},
                       {"val_roc_auc", e.val_auc},
                       {"train_loss", e.train_loss},
                       {"seconds", e.seconds}});
  }
  std::vector<double> finite_thresholds;
  for (double t : r.roc_curve.thresholds) {
    finite_thresholds.push_back(std::isfinite(t) ? t : -1.0);
  }
  return {{"val_roc_auc", r.val_roc_auc},
          {"test_roc_auc", r.test_roc_auc},
          {"baseline_test_roc_auc", r.baseline_test_roc_auc},
          {"baseline_rule", "raw extractor features, L2-normalised, on the same test pairs"},
          {"device", r.device},
          {"val_recall_at_1", r.val_recall_at_1},
          {"test_recall_at_1", r.test_recall_at_1},
          {"threshold", r.threshold},
          {"threshold_rule", "max TPR - FPR (Youden's J) on validation pairs, distance <= t"},
          {"confusion_matrix", r.confusion_matrix},
          {"confusion_matrix_layout", "rows actual [different, same], cols predicted"},
          {"roc_curve",
           {{"fpr", r.roc_curve.fpr}, {"tpr", r.roc_curve.tpr}, {"threshold", finite_thresholds}}},
          {"epochs", r.loop.epochs_run},
          {"best_epoch", r.loop.best_epoch},
          {"history", history},
          {"objectives", r.objectives},
          {"values", r.objective_values},
          {"constraints", r.constraint_values},
          {"inference_ms", r.inference_ms ? nlohmann::json(*r.inference_ms) : nlohmann::json()},
          {"timings", r.timings}};
}

}  // namespace hpt::trainer
