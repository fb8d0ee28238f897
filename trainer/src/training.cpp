#include "hpt/trainer/training.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include "hpt/io/atomic_file.hpp"
#include "hpt/trainer/augment.hpp"
#include "hpt/trainer/batch_sampler.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/flat_adam.hpp"
#include "hpt/trainer/head_step.hpp"
#include "hpt/trainer/model_view.hpp"
#include "hpt/trainer/projector.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "hpt/trainer/triplet_loss.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt::trainer {

namespace {

// A one-off cache build (built-in CNN pretraining, frozen features) runs while the study's
// other workers wait on its lock, so it uses every core this process may run on, whatever
// `threads` allots each trial; the trial's setting comes back afterwards.
class AllCoresWhileBuilding {
 public:
  AllCoresWhileBuilding() : m_before(torch::get_num_threads()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    const int cores = ::sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
    if (cores > m_before) {
      torch::set_num_threads(cores);
    }
  }
  ~AllCoresWhileBuilding() { torch::set_num_threads(m_before); }
  AllCoresWhileBuilding(const AllCoresWhileBuilding&) = delete;
  AllCoresWhileBuilding& operator=(const AllCoresWhileBuilding&) = delete;

 private:
  int m_before;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// An independent seed for (seed, stream): hpt's one seed derivation (hpt/tuner/rng.hpp).
uint64_t seed_for(uint64_t seed, std::string_view stream) {
  return hpt::derive_seed(seed, 0, stream);
}

std::vector<int64_t> to_vector(const torch::Tensor& labels) {
  auto l = labels.to(torch::kInt64).contiguous();
  return {l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel()};
}

bool is_images(const torch::Tensor& inputs) { return inputs.scalar_type() == torch::kUInt8; }

// Loss names: "batch-hard", anything else semi-hard.
bool is_batch_hard(const std::string& loss) { return loss == "batch-hard"; }

torch::Tensor loss_fn(const std::string& name, const torch::Tensor& e, const torch::Tensor& y,
                      double margin, Distance distance) {
  return is_batch_hard(name) ? triplet_batch_hard_loss(e, y, margin, distance)
                             : triplet_semihard_loss(e, y, margin, distance);
}

// Makes params views of one flat buffer, with gradients views of one flat gradient, so the
// optimiser updates one tensor per step instead of one per parameter (small heads are
// dominated by per-op overhead). Returns the flat parameter (its grad() is the flat
// gradient; zero it in place). Params must share device and dtype.
torch::Tensor flatten_parameters(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  int64_t total = 0;
  for (const auto& p : params) {
    total += p.numel();
  }
  auto flat = torch::zeros({total}, params.at(0).options().requires_grad(false));
  auto grad = torch::zeros_like(flat);
  int64_t at = 0;
  for (auto p : params) {
    const int64_t n = p.numel();
    flat.slice(0, at, at + n).copy_(p.reshape({-1}));
    p.set_data(flat.slice(0, at, at + n).view(p.sizes()));
    p.mutable_grad() = grad.slice(0, at, at + n).view(p.sizes());
    at += n;
  }
  flat.mutable_grad() = grad;
  return flat;
}

bool same_kind(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params) {
    if (p.device() != params.at(0).device() || p.scalar_type() != params.at(0).scalar_type() ||
        !p.is_contiguous()) {  // Channels-last conv weights keep their own layout.
      return false;
    }
  }
  return !params.empty();
}

// Scores of pairs (higher = more similar): negated distances.
std::vector<double> scores_of(const std::vector<double>& distances) {
  std::vector<double> s(distances.size());
  std::transform(distances.begin(), distances.end(), s.begin(), [](double v) { return -v; });
  return s;
}

}  // namespace

std::string fused_step_blocker(EmbeddingHead& head, const FeatureExtractor* extractor,
                               const TrainData& train, const LoopOptions& o, int64_t batch) {
  if (!o.fused_cpu_step) {
    return "turned off";
  }
  if (!o.device.is_cpu()) {
    return "device " + o.device.str();
  }
  if (o.autocast) {
    return "mixed precision";
  }
  if (extractor && extractor->trainable()) {
    return "trainable extractor";
  }
  if (train.inputs.scalar_type() != torch::kFloat32) {
    return "inputs are not fp32 features";
  }
  return HeadStep::unsupported(head, batch);
}

double scheduled_lr(const LoopOptions& o, int64_t t, int64_t total) {
  double lr = o.learning_rate;
  if (o.warmup_steps > 0 && t < o.warmup_steps) {
    lr *= static_cast<double>(t + 1) / static_cast<double>(o.warmup_steps);
  }
  if (o.lr_schedule == "cosine" && total > 0) {
    lr *= 0.5 * (1 + std::cos(M_PI * static_cast<double>(t) / static_cast<double>(total)));
  }
  return lr;
}

bool EarlyStopping::update(double value) {
  ++m_epoch;
  if (value > m_best) {
    m_best = value;
    m_best_epoch = m_epoch;
    m_since_best = 0;
    return true;
  }
  ++m_since_best;
  return false;
}

torch::Device device_of(torch::nn::Module& module) {
  const auto params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

double pair_roc_auc(const torch::Tensor& embeddings, const PairSet& pairs, bool normalise) {
  const torch::Tensor e =
      normalise ? torch::nn::functional::normalize(
                      embeddings.to(torch::kFloat32).flatten(1),
                      torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12))
                : embeddings;
  return roc_auc(scores_of(pair_distances(e, pairs)), pairs.same);
}

torch::Tensor embed(EmbeddingHead& head, FeatureExtractor* extractor, const torch::Tensor& inputs,
                    int64_t batch_size) {
  torch::NoGradGuard no_grad;
  head->eval();
  if (extractor) {
    extractor->train(false);
  }
  const torch::Device device = device_of(*head);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < inputs.size(0); i += batch_size) {
    auto batch = inputs.slice(0, i, std::min(i + batch_size, inputs.size(0)));
    if (is_images(batch)) {
      batch = extractor->forward(to_input(to_device(batch, device), extractor->input_spec()));
    }
    parts.push_back(head->forward(to_device(batch, device)).to(torch::kFloat32));
  }
  if (parts.empty()) {
    return torch::zeros({0, head->options().embedding_dim()}, torch::Device(device));
  }
  return torch::cat(parts);
}

LoopResult train_embedding(EmbeddingHead& head, FeatureExtractor* extractor, const TrainData& train,
                           const TrainData& val, const LoopOptions& o,
                           const EpochCallback& on_epoch, const std::function<double()>& validate) {
  std::vector<torch::Tensor> params = head->parameters();
  const bool tune_extractor = extractor && extractor->trainable();
  if (tune_extractor) {
    auto more = extractor->parameters();
    params.insert(params.end(), more.begin(), more.end());
  }
  // Inputs and labels cross to the device once; a step then only sends its indices.
  const torch::Tensor inputs = to_device(train.inputs, o.device);
  const torch::Tensor labels = to_device(train.labels, o.device);
  const Distance distance = distance_from_name(o.distance);
  std::vector<torch::Tensor> flat;
  if (same_kind(params)) {
    flat.push_back(flatten_parameters(params));
  }
  torch::optim::Adam optimizer(flat.empty() ? params : flat,
                               torch::optim::AdamOptions(o.learning_rate));
  LossScaler scaler(o.autocast == torch::kFloat16);
  PkSampler sampler(to_vector(train.labels), o.classes_per_batch, o.images_per_class,
                    seed_for(o.seed, "batches"));
  std::mt19937_64 aug_rng(seed_for(o.seed, "augment"));
  const int64_t n = train.labels.size(0);
  const int64_t steps =
      o.steps_per_epoch > 0
          ? o.steps_per_epoch
          : std::max<int64_t>(1, (n + sampler.batch_size() - 1) / sampler.batch_size());
  // The common CPU case runs the hand-written step and a fused Adam on the flat buffer.
  std::optional<HeadStep> fused;
  std::optional<FlatAdam> fused_adam;
  if (!flat.empty() &&
      fused_step_blocker(head, extractor, train, o, sampler.batch_size()).empty()) {
    HeadStepOptions step_options;
    step_options.margin = o.margin;
    step_options.distance = distance;
    step_options.batch_hard = is_batch_hard(o.loss);
    step_options.dropout_seed = seed_for(o.seed, "dropout");
    fused.emplace(head, inputs, to_vector(train.labels), sampler.batch_size(), step_options);
    fused_adam.emplace(flat[0], flat[0].grad());
  }
  PairSet val_pairs;
  const torch::Tensor val_inputs = to_device(val.inputs, o.device);
  std::function<double()> score = validate;
  if (!score) {
    val_pairs = make_pairs(to_vector(val.labels), o.eval_pairs, o.pair_seed);
    score = [&] { return pair_roc_auc(embed(head, extractor, val_inputs), val_pairs); };
  }
  EarlyStopping stopping(o.patience);
  std::vector<torch::Tensor> best_head = snapshot_state(*head);
  std::vector<torch::Tensor> best_extractor;
  LoopResult result;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = Clock::now();
    head->train();
    if (extractor) {
      extractor->train(true);
    }
    // Losses stay on the device and are summed there: one sync per epoch, not per step.
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions(o.device).dtype(torch::kFloat64));
    double fused_loss_sum = 0;
    for (int64_t step = 0; step < steps; ++step) {
      const double lr = scheduled_lr(o, (epoch - 1) * steps + step, o.epochs * steps);
      if (fused) {
        fused_loss_sum += fused->run(sampler.next());
        fused_adam->step(lr);
        continue;
      }
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      auto idx = to_device(torch::tensor(sampler.next(), torch::kInt64), o.device);
      auto x = inputs.index_select(0, idx);
      torch::Tensor e;
      {
        AutocastGuard autocast(o.device, o.autocast);
        if (is_images(x)) {
          x = to_unit_range(x, extractor->input_spec());
          if (o.augment) {  // The report's Keras augmentation layers, seeded per step.
            x = augment_images(x, AugmentOptions(), aug_rng());
          }
          x = normalize_input(x, extractor->input_spec());
          if (tune_extractor) {
            x = extractor->forward(x);
          } else {
            torch::NoGradGuard no_grad;
            x = extractor->forward(x);
          }
        }
        e = head->forward(x);
      }
      // The loss and its mining run in fp32 whatever the precision.
      auto loss =
          loss_fn(o.loss, e.to(torch::kFloat32), labels.index_select(0, idx), o.margin, distance);
      if (flat.empty()) {
        optimizer.zero_grad();
      } else {
        flat[0].mutable_grad().zero_();
      }
      scaler.scale(loss).backward();
      if (scaler.unscale_and_check(params)) {
        optimizer.step();
      }
      loss_sum += loss.detach();
    }
    EpochReport report;
    report.epoch = epoch;
    report.train_loss = (loss_sum.item<double>() + fused_loss_sum) / static_cast<double>(steps);
    report.val_auc = score();
    report.seconds = seconds_since(t0);
    result.history.push_back(report);
    result.epochs_run = epoch;
    if (stopping.update(report.val_auc)) {
      best_head = snapshot_state(*head);
      if (tune_extractor) {
        best_extractor = extractor->snapshot();
      }
    }
    if (on_epoch) {
      on_epoch(report);
    }
    if (stopping.should_stop()) {
      break;
    }
  }
  restore_state(*head, best_head);
  if (!best_extractor.empty()) {
    extractor->restore(best_extractor);
  }
  if (!flat.empty()) {  // Give every parameter its own storage again (saving, later runs).
    torch::NoGradGuard no_grad;
    for (auto p : params) {
      p.set_data(p.detach().clone());
      p.mutable_grad() = torch::Tensor();
    }
  }
  result.best_val_auc = stopping.best();
  result.best_epoch = stopping.best_epoch();
  return result;
}

FeatureExtractor builtin_extractor(const Dataset& dataset, const ExperimentConfig& config,
                                   std::ostream& log, const torch::Device& device) {
  const auto& train = dataset.train;
  const BuiltinCnnOptions options = BuiltinCnnOptions().in_channels(train.images.size(3));
  InputSpec spec = fit_input_spec(train.images);
  if (train.images.size(1) == train.images.size(2)) {
    spec.size = train.images.size(1);  // New images (hpt match/embed) get the training size.
  }
  const std::string key = digest(fmt::format("builtin-cnn-v2|{}|c{}|w{}|e{}|s{}",
                                             dataset.fingerprint, options.in_channels(),
                                             options.width(), config.pretrain_epochs, config.seed));
  const std::string path = cache_root() + "/cnn/" + key + ".pt";
  BuiltinCnn cnn(options);
  const bool hit = ensure_cached(path, [&](const std::string& tmp) {
    const AllCoresWhileBuilding all_cores;
    const auto t0 = Clock::now();
    // LibTorch initialises modules from its process-wide generator: seeding it here is safe
    // because each worker is its own process and trains one model at a time.
    torch::manual_seed(seed_for(config.seed, "pretrain-init"));
    BuiltinCnn fresh(options);
    torch::nn::Linear classifier(fresh->feature_dim(),
                                 static_cast<int64_t>(dataset.class_names.size()));
    fresh->to(device);
    classifier->to(device);
    const torch::Tensor images = to_device(train.images, device);
    const torch::Tensor labels = to_device(train.labels, device);
    std::vector<torch::Tensor> params = fresh->parameters();
    for (auto& p : classifier->parameters()) {
      params.push_back(p);
    }
    torch::optim::Adam optimizer(params, torch::optim::AdamOptions(2e-3));
    LoopOptions schedule;  // Cosine decay to 0 over all pretraining steps.
    schedule.learning_rate = 2e-3;
    schedule.lr_schedule = "cosine";
    std::mt19937_64 rng(seed_for(config.seed, "pretrain-batches"));
    std::vector<int64_t> order(static_cast<size_t>(train.size()));
    std::iota(order.begin(), order.end(), 0);
    const int64_t batch = 128;
    const int64_t steps_per_epoch = (train.size() + batch - 1) / batch;
    int64_t t = 0;
    for (int64_t epoch = 1; epoch <= config.pretrain_epochs; ++epoch) {
      fresh->train();
      std::shuffle(order.begin(), order.end(), rng);
      auto loss_sum = torch::zeros({}, torch::TensorOptions(device).dtype(torch::kFloat64));
      auto correct = torch::zeros({}, torch::TensorOptions(device).dtype(torch::kInt64));
      int64_t steps = 0;
      for (size_t i = 0; i < order.size(); i += batch) {
        auto idx = to_device(
            torch::tensor(std::vector<int64_t>(order.begin() + i,
                                               order.begin() + std::min(order.size(), i + batch)),
                          torch::kInt64),
            device);
        auto logits = classifier(fresh->forward(to_input(images.index_select(0, idx), spec)));
        auto y = labels.index_select(0, idx);
        auto loss = torch::nn::functional::cross_entropy(logits, y);
        const double lr = scheduled_lr(schedule, t++, config.pretrain_epochs * steps_per_epoch);
        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        }
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.detach();  // Summed on the device: one sync per epoch.
        correct += logits.argmax(1).eq(y).sum();
        ++steps;
      }
      log << fmt::format("pretrain epoch {}/{}: loss {:.4f}, train accuracy {:.4f} ({:.1f} s)\n",
                         epoch, config.pretrain_epochs,
                         loss_sum.item<double>() / std::max<int64_t>(steps, 1),
                         correct.item<double>() / std::max<int64_t>(train.size(), 1),
                         seconds_since(t0));
    }
    fresh->to(torch::kCPU);  // The cache loads anywhere.
    torch::save(fresh, tmp);
  });
  torch::load(cnn, path);
  log << fmt::format("built-in CNN: {} ({})\n", hit ? "cached" : "pretrained and cached", path);
  FeatureExtractor extractor(cnn, spec, "builtin-cnn:" + key);
  extractor.to(device);
  return extractor;
}

std::array<torch::Tensor, 3> cached_features(const Dataset& dataset, FeatureExtractor& extractor,
                                             bool* hit, std::ostream& log) {
  const std::string key =
      digest(fmt::format("features-v1|{}|{}|{}", dataset.fingerprint, extractor.identity(),
                         to_json(extractor.input_spec()).dump()));
  const std::string path = cache_root() + "/features/" + key + ".pt";
  const auto t0 = Clock::now();
  int build_threads = 0;
  const bool was_hit = ensure_cached(path, [&](const std::string& tmp) {
    const AllCoresWhileBuilding all_cores;
    build_threads = torch::get_num_threads();
    std::vector<torch::Tensor> f;
    for (const ImageSet* set : {&dataset.train, &dataset.val, &dataset.test}) {
      f.push_back(extractor.extract(set->images).to(torch::kCPU));
    }
    torch::save(f, tmp);
  });
  std::vector<torch::Tensor> f;
  torch::load(f, path);
  for (auto& t : f) {
    t = to_device(t, extractor.device());  // One batched copy per split.
  }
  if (hit) {
    *hit = was_hit;
  }
  log << fmt::format("features: {} [{} x {}] in {:.1f} s ({})\n",
                     was_hit ? "cached" : fmt::format("computed on {} threads", build_threads),
                     f.at(0).size(0), f.at(0).size(1), seconds_since(t0), path);
  return {f.at(0), f.at(1), f.at(2)};
}

ExperimentResult run_experiment(const ExperimentConfig& config, const RunOptions& options) {
  std::ofstream null_stream;
  std::ostream& log = options.log ? *options.log : null_stream;
  const auto t_start = Clock::now();
  ExperimentResult result;
  if (config.threads > 0) {
    torch::set_num_threads(static_cast<int>(config.threads));
  }
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
