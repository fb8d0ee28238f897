#include "hpt/trainer/training.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "hpt/trainer/augment.hpp"
#include "hpt/trainer/batch_sampler.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/flat_adam.hpp"
#include "hpt/trainer/head_step.hpp"
#include "hpt/trainer/triplet_loss.hpp"
#include "run_support.hpp"

namespace hpt::trainer {

namespace {

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
  const int64_t steps = epoch_steps(o.steps_per_epoch, n, sampler.batch_size());
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
  // epochs x steps, saturating: epochs may be as large as an int64 (early stopping ends it).
  const int64_t total_steps = o.epochs > std::numeric_limits<int64_t>::max() / steps
                                  ? std::numeric_limits<int64_t>::max()
                                  : o.epochs * steps;
  PairSet val_pairs;
  const torch::Tensor val_inputs = to_device(val.inputs, o.device);
  std::function<double()> score = validate;
  if (!score) {
    val_pairs = make_pairs(to_vector(val.labels), o.eval_pairs, o.pair_seed);
    score = [&] { return pair_roc_auc(embed(head, extractor, val_inputs), val_pairs); };
  }
  EarlyStopping stopping(o.early_stopping_patience);
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
      const double lr = scheduled_lr(o, (epoch - 1) * steps + step, total_steps);
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
          if (o.image_augmentation) {  // The report's Keras augmentation layers, seeded per step.
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

}  // namespace hpt::trainer
