#include "hpt/trainer/training.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
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

namespace {

// One run's optimisation: the parameters (views of one flat buffer where they are alike),
// Adam, the loss scaler, the P x K batches, and the hand-written CPU step where
// fused_step_blocker allows it. release() gives every parameter its own storage again.
class Optimisation {
 public:
  Optimisation(EmbeddingHead& head, FeatureExtractor* extractor, const TrainData& train,
               const LoopOptions& o)
      : m_head(head),
        m_extractor(extractor),
        m_o(o),
        m_tune_extractor(extractor && extractor->trainable()),
        m_params(head->parameters()),
        // Inputs and labels cross to the device once; a step then only sends its indices.
        m_inputs(to_device(train.inputs, o.device)),
        m_labels(to_device(train.labels, o.device)),
        m_distance(distance_from_name(o.distance)),
        m_scaler(o.autocast == torch::kFloat16),
        m_sampler(to_vector(train.labels), o.classes_per_batch, o.images_per_class,
                  seed_for(o.seed, "batches")),
        m_aug_rng(seed_for(o.seed, "augment")),
        m_steps(epoch_steps(o.steps_per_epoch, train.labels.size(0), m_sampler.batch_size())),
        // epochs x steps, saturating: epochs may be as large as an int64 (early stopping
        // ends it).
        m_total_steps(o.epochs > std::numeric_limits<int64_t>::max() / m_steps
                          ? std::numeric_limits<int64_t>::max()
                          : o.epochs * m_steps) {
    if (m_tune_extractor) {
      auto more = extractor->parameters();
      m_params.insert(m_params.end(), more.begin(), more.end());
    }
    if (same_kind(m_params)) {
      m_flat = flatten_parameters(m_params);
    }
    m_optimizer.emplace(m_flat.defined() ? std::vector<torch::Tensor>{m_flat} : m_params,
                        torch::optim::AdamOptions(o.learning_rate));
    // The common CPU case runs the hand-written step and a fused Adam on the flat buffer.
    if (m_flat.defined() &&
        fused_step_blocker(head, extractor, train, o, m_sampler.batch_size()).empty()) {
      HeadStepOptions step_options;
      step_options.margin = o.margin;
      step_options.distance = m_distance;
      step_options.batch_hard = is_batch_hard(o.loss);
      step_options.dropout_seed = seed_for(o.seed, "dropout");
      m_fused.emplace(head, m_inputs, to_vector(train.labels), m_sampler.batch_size(),
                      step_options);
      m_fused_adam.emplace(m_flat, m_flat.grad());
    }
  }

  // Trains epoch (1-based) in train mode; returns its mean training loss.
  double run_epoch(int64_t epoch) {
    m_head->train();
    if (m_extractor) {
      m_extractor->train(true);
    }
    // Losses stay on the device and are summed there: one sync per epoch, not per step.
    torch::Tensor loss_sum =
        torch::zeros({}, torch::TensorOptions(m_o.device).dtype(torch::kFloat64));
    double fused_loss_sum = 0;
    for (int64_t step = 0; step < m_steps; ++step) {
      const double lr = scheduled_lr(m_o, (epoch - 1) * m_steps + step, m_total_steps);
      if (m_fused) {
        fused_loss_sum += m_fused->run(m_sampler.next());
        m_fused_adam->step(lr);
      } else {
        loss_sum += autograd_step(m_sampler.next(), lr);
      }
    }
    return (loss_sum.item<double>() + fused_loss_sum) / static_cast<double>(m_steps);
  }

  // Whether every trained parameter is finite: a NaN in the embeddings reads as a loss of 0
  // (no hinge is positive), but its gradients reach the weights in the first step.
  bool parameters_finite() const {
    torch::NoGradGuard no_grad;
    for (const auto& p : m_flat.defined() ? std::vector<torch::Tensor>{m_flat} : m_params) {
      if (!torch::isfinite(p).all().item<bool>()) {
        return false;
      }
    }
    return true;
  }

  void release() {
    if (m_flat.defined()) {
      torch::NoGradGuard no_grad;
      for (auto p : m_params) {
        p.set_data(p.detach().clone());
        p.mutable_grad() = torch::Tensor();
      }
    }
  }

 private:
  // One step through autograd on the batch of indices; returns its loss (detached).
  torch::Tensor autograd_step(const std::vector<int64_t>& batch, double lr) {
    for (auto& group : m_optimizer->param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
    auto idx = to_device(torch::tensor(batch, torch::kInt64), m_o.device);
    auto x = m_inputs.index_select(0, idx);
    torch::Tensor e;
    {
      AutocastGuard autocast(m_o.device, m_o.autocast);
      if (is_images(x)) {
        x = to_unit_range(x, m_extractor->input_spec());
        if (m_o.image_augmentation) {  // The report's Keras augmentation layers, seeded per step.
          x = augment_images(x, AugmentOptions(), m_aug_rng());
        }
        x = normalize_input(x, m_extractor->input_spec());
        if (m_tune_extractor) {
          x = m_extractor->forward(x);
        } else {
          torch::NoGradGuard no_grad;
          x = m_extractor->forward(x);
        }
      }
      e = m_head->forward(x);
    }
    // The loss and its mining run in fp32 whatever the precision.
    auto loss = loss_fn(m_o.loss, e.to(torch::kFloat32), m_labels.index_select(0, idx), m_o.margin,
                        m_distance);
    if (m_flat.defined()) {
      m_flat.mutable_grad().zero_();
    } else {
      m_optimizer->zero_grad();
    }
    m_scaler.scale(loss).backward();
    if (m_scaler.unscale_and_check(m_params)) {
      m_optimizer->step();
    }
    return loss.detach();
  }

  EmbeddingHead& m_head;
  FeatureExtractor* m_extractor;
  const LoopOptions& m_o;
  bool m_tune_extractor;
  std::vector<torch::Tensor> m_params;
  torch::Tensor m_inputs;
  torch::Tensor m_labels;
  Distance m_distance;
  LossScaler m_scaler;
  PkSampler m_sampler;
  std::mt19937_64 m_aug_rng;
  int64_t m_steps;
  int64_t m_total_steps;
  torch::Tensor m_flat;  // Undefined when the parameters are not alike.
  std::optional<torch::optim::Adam> m_optimizer;
  std::optional<HeadStep> m_fused;
  std::optional<FlatAdam> m_fused_adam;
};

}  // namespace

LoopResult train_embedding(EmbeddingHead& head, FeatureExtractor* extractor, const TrainData& train,
                           const TrainData& val, const LoopOptions& o,
                           const EpochCallback& on_epoch, const std::function<double()>& validate) {
  Optimisation optimisation(head, extractor, train, o);
  PairSet val_pairs;
  const torch::Tensor val_inputs = to_device(val.inputs, o.device);
  std::function<double()> score = validate;
  if (!score) {
    val_pairs = make_pairs(to_vector(val.labels), o.eval_pairs, o.pair_seed);
    score = [&] { return pair_roc_auc(embed(head, extractor, val_inputs), val_pairs); };
  }
  const bool tune_extractor = extractor && extractor->trainable();
  EarlyStopping stopping(o.early_stopping_patience);
  std::vector<torch::Tensor> best_head = snapshot_state(*head);
  std::vector<torch::Tensor> best_extractor;
  LoopResult result;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = Clock::now();
    EpochReport report;
    report.epoch = epoch;
    report.train_loss = optimisation.run_epoch(epoch);
    if (!std::isfinite(report.train_loss) || !optimisation.parameters_finite()) {
      // Said now, and the trial fails: it trained on to the end, reporting AUC 0.5 each epoch
      // (a study's pruner then pruned it as merely poor).
      throw std::runtime_error(fmt::format(
          "training diverged in epoch {}: the {} not finite (NaN or inf); a lower "
          "learning_rate, or an extractor that gives finite features, may help",
          epoch, std::isfinite(report.train_loss) ? "trained weights are" : "training loss is"));
    }
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
  optimisation.release();  // Every parameter its own storage again (saving, later runs).
  result.best_val_auc = stopping.best();
  result.best_epoch = stopping.best_epoch();
  return result;
}

}  // namespace hpt::trainer
