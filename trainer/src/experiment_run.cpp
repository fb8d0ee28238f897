#include "hpt/trainer/experiment_run.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <ostream>

#include "hpt/io/atomic_file.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/cpu_threads.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/extractors.hpp"
#include "hpt/trainer/model_view.hpp"
#include "hpt/trainer/projector.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "run_support.hpp"

namespace hpt::trainer {

ExperimentResult run_experiment(const ExperimentConfig& config, const RunOptions& options) {
  std::ofstream null_stream;
  std::ostream& log = options.log ? *options.log : null_stream;
  const auto t_start = Clock::now();
  ExperimentResult result;
  use_cpu_threads(config.threads);
  const torch::Device device = resolve_device(config.device, origin_of(config, "device"));
  const auto autocast =
      autocast_dtype(config.precision, device, origin_of(config, "precision"));
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);  // Fixed input shapes: autotune once.
  }
  result.device = describe_device(device);
  log << fmt::format("device: {}, precision {}\n", result.device, config.precision);
  DatasetOptions data_options;
  data_options.format = config.dataset.format;
  data_options.path = config.dataset.path;
  data_options.image_size = config.dataset.image_size;
  data_options.val_fraction = config.dataset.val_fraction;
  data_options.test_fraction = config.dataset.test_fraction;
  data_options.seed = config.seed;
  data_options.cache_dir = cache_root() + "/images";
  auto t0 = Clock::now();
  Dataset dataset = load_dataset(data_options);
  result.timings["load_dataset"] = seconds_since(t0);
  log << fmt::format("dataset {} ({}): train {}, val {}, test {} images, {} classes\n",
                     config.dataset.path, config.dataset.format, dataset.train.size(),
                     dataset.val.size(), dataset.test.size(), dataset.class_names.size());
  log << class_distribution_summary(dataset);

  t0 = Clock::now();
  FeatureExtractor extractor =
      config.feature_extractor == "builtin-cnn"
          ? builtin_extractor(dataset, config, log, device)
          : FeatureExtractor::torchscript(config.feature_extractor,
                                          config.dataset.image_size > 0
                                              ? config.dataset.image_size
                                              : dataset.train.images.size(1),
                                          device);
  extractor.set_trainable(config.trainable_extractor);
  if (device.is_cuda()) {
    extractor.to(device, /*channels_last=*/true);  // Conv weights NHWC for cuDNN.
  }
  result.timings["extractor"] = seconds_since(t0);

  TrainData train{dataset.train.images, dataset.train.labels};
  TrainData val{dataset.val.images, dataset.val.labels};
  torch::Tensor test_inputs = dataset.test.images;
  FeatureExtractor* in_loop = &extractor;
  if (!config.trainable_extractor) {
    // A frozen extractor's features are cached. With augmentation, the training images
    // change every step, so only validation and test (never augmented) use the cache and the
    // extractor runs on the augmented training batches.
    t0 = Clock::now();
    auto features = cached_features(dataset, extractor, nullptr, log);
    result.timings["features"] = seconds_since(t0);
    if (!config.image_augmentation) {
      train.inputs = features[0];
      in_loop = nullptr;
    } else {
      log << "augmentation: training features computed on the fly from augmented images\n";
    }
    val.inputs = features[1];
    test_inputs = features[2];
  }
  // What training adds: the same test pairs scored on the extractor's raw features.
  PairSet test_pairs = make_pairs(to_vector(dataset.test.labels), config.eval_pairs,
                                  seed_for(config.seed, "test-pairs"));
  result.baseline_test_roc_auc = pair_roc_auc(
      is_images(test_inputs) ? extractor.extract(test_inputs) : test_inputs, test_pairs, true);

  // The head's initialisation comes from LibTorch's process-wide generator (one trial per
  // worker process); batches and augmentation use their own seeded generators.
  torch::manual_seed(seed_for(options.run_seed, "init"));
  EmbeddingHead head(EmbeddingHeadOptions(extractor.feature_dim(), config.embedding_dim)
                         .units(config.intermediate_ff_block_units)
                         .dropout(config.dropout));
  head->to(device);
  LoopOptions loop;
  loop.epochs = config.epochs;
  loop.patience = config.early_stopping_patience;
  loop.steps_per_epoch = config.steps_per_epoch;
  loop.classes_per_batch = config.classes_per_batch;
  loop.images_per_class = config.images_per_class;
  loop.learning_rate = config.learning_rate;
  loop.margin = config.margin;
  loop.loss = config.loss;
  loop.distance = config.distance;
  loop.lr_schedule = config.lr_schedule;
  loop.warmup_steps = config.warmup_steps;
  loop.augment = config.image_augmentation;
  loop.device = device;
  loop.autocast = autocast;
  loop.eval_pairs = config.eval_pairs;
  loop.seed = options.run_seed;
  loop.pair_seed = seed_for(config.seed, "val-pairs");
  t0 = Clock::now();
  result.loop = train_embedding(head, in_loop, train, val, loop, [&](const EpochReport& r) {
    log << fmt::format("epoch {:>3}/{}: train loss {:.4f}, val ROC AUC {:.4f} ({:.1f} s)\n",
                       r.epoch, config.epochs, r.train_loss, r.val_auc, r.seconds);
    log.flush();
    if (options.on_epoch) {
      options.on_epoch(r);
    }
  });
  result.timings["train"] = seconds_since(t0);

  t0 = Clock::now();
  // The threshold is chosen on the validation pairs (Youden's J) and applied to test.
  auto val_emb = embed(head, in_loop, val.inputs);
  PairSet val_pairs = make_pairs(to_vector(val.labels), config.eval_pairs, loop.pair_seed);
  auto val_d = pair_distances(val_emb, val_pairs);
  result.val_roc_auc = roc_auc(scores_of(val_d), val_pairs.same);
  result.val_recall_at_1 = recall_at_1(val_emb, val.labels);
  result.threshold = youden_threshold(val_d, val_pairs.same);

  auto test_emb = embed(head, in_loop, test_inputs);
  auto test_d = pair_distances(test_emb, test_pairs);
  const std::vector<double> test_s = scores_of(test_d);
  result.test_roc_auc = roc_auc(test_s, test_pairs.same);
  result.test_recall_at_1 = recall_at_1(test_emb, dataset.test.labels);
  result.confusion_matrix = confusion_matrix(test_d, test_pairs.same, result.threshold);
  RocCurve curve = downsample(roc_curve(test_s, test_pairs.same), 50);
  for (auto& t : curve.thresholds) {
    t = -t;  // Report distance thresholds.
  }
  result.roc_curve = curve;
  result.timings["evaluate"] = seconds_since(t0);
  const auto& objectives = config.objectives;
  if (std::find(objectives.begin(), objectives.end(), "inference_ms") != objectives.end()) {
    t0 = Clock::now();
    result.inference_ms = inference_ms_per_image(head, extractor, dataset.test.images);
    result.timings["inference"] = seconds_since(t0);
    log << fmt::format("inference: {:.4f} ms per image on {}\n", result.inference_ms,
                       result.device);
  }
  result.objectives = objectives;
  for (const auto& name : objectives) {
    result.objective_values.push_back(objective_value(name, config, result));
  }
  log << fmt::format(
      "val ROC AUC {:.4f} (best epoch {}), test ROC AUC {:.4f} (raw extractor features {:.4f}, "
      "{:+.4f} from training), test recall@1 {:.4f}, threshold {:.4f}\n",
      result.val_roc_auc, result.loop.best_epoch, result.test_roc_auc,
      result.baseline_test_roc_auc, result.test_roc_auc - result.baseline_test_roc_auc,
      result.test_recall_at_1, result.threshold);

  if (!options.out_dir.empty()) {
    t0 = Clock::now();
    std::filesystem::create_directories(options.out_dir);
    head->to(torch::kCPU);  // Saved models load anywhere.
    test_emb = test_emb.to(torch::kCPU);
    save_model(options.out_dir, head, extractor, config, result.threshold);
    write_projector(options.out_dir, test_emb, dataset.test.labels, dataset.class_names,
                    dataset.test.images);
    write_model_view(options.out_dir, test_emb, dataset.test.labels, dataset.class_names,
                     dataset.test.images, test_pairs, test_d, result.threshold);
    result.timings["save"] = seconds_since(t0);
  }
  result.timings["total"] = seconds_since(t_start);
  if (!options.out_dir.empty()) {
    hpt::write_file_atomically(options.out_dir + "/metrics.json",
                               result_to_json(result).dump(2) + "\n");
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
    return result.inference_ms;
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
          {"inference_ms", r.inference_ms},
          {"timings", r.timings}};
}

}  // namespace hpt::trainer
