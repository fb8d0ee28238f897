#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/training.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

namespace {

// Two well-separated Gaussian blobs per class in 6-D "feature" space.
TrainData blobs(int64_t per_class, uint64_t seed) {
  torch::manual_seed(seed);
  auto centers = torch::eye(6).slice(0, 0, 3) * 3;
  auto labels = torch::arange(3, torch::kInt64).repeat({per_class});
  auto x = centers.index_select(0, labels) + torch::randn({3 * per_class, 6});
  return {x, labels};
}

}  // namespace

// Early stopping: patience counts epochs without a new best; patience 0 never stops.
TEST_CASE("early stopping rule", "[training]") {
  EarlyStopping s(2);
  CHECK(s.update(0.5));
  CHECK(s.update(0.7));
  CHECK_FALSE(s.update(0.6));
  CHECK_FALSE(s.should_stop());
  CHECK_FALSE(s.update(0.7));  // Equal is not better.
  CHECK(s.should_stop());
  CHECK(s.best() == 0.7);
  CHECK(s.best_epoch() == 2);
  EarlyStopping never(0);
  for (int i = 0; i < 10; ++i) {
    never.update(0.1);
  }
  CHECK_FALSE(never.should_stop());
}

// The loop stops after `patience` epochs without improvement and restores the weights of
// the best epoch (captured here from the per-epoch callback).
TEST_CASE("training stops early and restores the best weights", "[training]") {
  auto train = blobs(20, 1);
  auto val = blobs(10, 2);
  torch::manual_seed(3);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4));
  LoopOptions o;
  o.epochs = 10;
  o.early_stopping_patience = 2;
  o.classes_per_batch = 3;
  o.images_per_class = 4;
  o.learning_rate = 0.05;
  const std::vector<double> scripted = {0.5, 0.8, 0.6, 0.7, 0.9, 0.95};
  size_t call = 0;
  std::vector<torch::Tensor> at_best;
  std::vector<int64_t> epochs_seen;
  auto result = train_embedding(
      head, nullptr, train, val, o,
      [&](const EpochReport& r) {
        epochs_seen.push_back(r.epoch);
        if (r.epoch == 2) {
          at_best = snapshot_state(*head);
        }
      },
      [&] { return scripted.at(call++); });
  CHECK(result.epochs_run == 4);
  CHECK((epochs_seen == std::vector<int64_t>{1, 2, 3, 4}));
  CHECK(result.best_epoch == 2);
  CHECK(result.best_val_auc == 0.8);
  auto now = snapshot_state(*head);
  REQUIRE(now.size() == at_best.size());
  for (size_t i = 0; i < now.size(); ++i) {
    CHECK(torch::equal(now[i], at_best[i]));
  }
}

// Head training on separable features reaches a high validation pair AUC.
TEST_CASE("head training learns separable features", "[training]") {
  auto train = blobs(30, 4);
  auto val = blobs(15, 5);
  torch::manual_seed(6);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4).units({16}));
  LoopOptions o;
  o.epochs = 5;
  o.classes_per_batch = 3;
  o.images_per_class = 6;
  o.learning_rate = 0.01;
  o.eval_pairs = 400;
  for (const char* loss : {"semi-hard", "batch-hard"}) {
    o.loss = loss;
    auto r = train_embedding(head, nullptr, train, val, o, {});
    CHECK(r.best_val_auc > 0.95);
    CHECK(r.history.size() == 5);
  }
}

// Training that diverges (a NaN reaches the embeddings: here in the inputs, as from a broken
// extractor or a learning rate too large) stops in its first epoch with one line, and no
// epoch is reported: it trained on to the end with loss 0.0000 and AUC 0.5 each epoch (no
// hinge of NaN is positive), and a study's pruner pruned it as merely poor.
TEST_CASE("training that diverges stops in that epoch", "[training]") {
  auto train = blobs(30, 4);
  train.inputs[3][0] = std::nan("");
  auto val = blobs(15, 5);
  torch::manual_seed(6);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4).units({16}));
  LoopOptions o;
  o.epochs = 3;
  o.classes_per_batch = 3;
  o.images_per_class = 10;
  o.steps_per_epoch = 4;
  int reported = 0;
  CHECK_THROWS_WITH(
      train_embedding(head, nullptr, train, val, o, [&](const EpochReport&) { ++reported; }),
      "training diverged in epoch 1: the trained weights are not finite (NaN or inf); a lower "
      "learning_rate, or an extractor that gives finite features, may help");
  CHECK(reported == 0);
}

// bf16 autocast trains on the CPU (the loss runs in fp32) and still separates the blobs.
TEST_CASE("bf16 training on the CPU", "[training][precision]") {
  auto train = blobs(30, 4);
  auto val = blobs(15, 5);
  torch::manual_seed(6);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4).units({16}));
  LoopOptions o;
  o.epochs = 3;
  o.classes_per_batch = 3;
  o.images_per_class = 6;
  o.learning_rate = 0.01;
  o.margin = 0.1;  // Blobs this close need more than the default margin to separate in 3 epochs.
  o.eval_pairs = 400;
  o.autocast = torch::kBFloat16;
  auto r = train_embedding(head, nullptr, train, val, o, {});
  for (const auto& e : r.history) {
    CHECK(std::isfinite(e.train_loss));
  }
  CHECK(r.best_val_auc > 0.95);
  CHECK(head->parameters()[0].scalar_type() == torch::kFloat32);  // Master weights stay fp32.
}

// Warm-up ramps the rate linearly; cosine decays it to ~0 at the last step.
TEST_CASE("learning-rate schedule", "[training]") {
  LoopOptions o;
  o.learning_rate = 0.1;
  o.lr_schedule = "constant";
  CHECK(scheduled_lr(o, 50, 100) == 0.1);
  o.warmup_steps = 10;
  CHECK(scheduled_lr(o, 0, 100) == Approx(0.01));
  CHECK(scheduled_lr(o, 9, 100) == Approx(0.1));
  o.lr_schedule = "cosine";
  o.warmup_steps = 0;
  CHECK(scheduled_lr(o, 0, 100) == Approx(0.1));
  CHECK(scheduled_lr(o, 50, 100) == Approx(0.05));
  CHECK(scheduled_lr(o, 99, 100) < 1e-3);
}

namespace {

// Twin heads trained from the same initial weights on the same batches, once with the
// hand-written CPU step and once with autograd.
struct TwinRuns {
  EmbeddingHead fast{nullptr};
  EmbeddingHead slow{nullptr};
  LoopResult fast_result;
  LoopResult slow_result;
};

TwinRuns train_twins(const LoopOptions& base, std::vector<int64_t> units, double dropout) {
  auto train = blobs(30, 4);
  auto val = blobs(15, 5);
  TwinRuns t;
  for (bool fused : {true, false}) {
    torch::manual_seed(6);
    EmbeddingHead head(EmbeddingHeadOptions(6, 4).units(units).dropout(dropout));
    LoopOptions o = base;
    o.fused_cpu_step = fused;
    auto r = train_embedding(head, nullptr, train, val, o, {});
    (fused ? t.fast : t.slow) = head;
    (fused ? t.fast_result : t.slow_result) = r;
  }
  return t;
}

LoopOptions twin_options() {
  LoopOptions o;
  o.epochs = 3;
  o.steps_per_epoch = 6;
  o.classes_per_batch = 3;
  o.images_per_class = 6;
  o.learning_rate = 0.01;
  o.lr_schedule = "cosine";
  o.warmup_steps = 4;
  o.margin = 0.5;
  o.eval_pairs = 400;
  o.seed = 9;
  return o;
}

}  // namespace

// The hand-written step (CPU, fp32 features, dropout 0) trains as autograd does: the same
// losses per epoch and, after 18 Adam steps under a warm-up + cosine schedule, the same
// weights, BatchNorm variances and training-mode embeddings, for both losses and both
// distances. A Linear bias before a BatchNorm is cancelled by it: its gradient is rounding
// noise in both paths (test_head_step.cpp checks it per step) that Adam turns into a random
// walk, so it and the running mean it shifts are compared through the embeddings only.
TEST_CASE("hand-written CPU step trains as autograd does", "[training][fused]") {
  const auto data = blobs(10, 12);
  for (const char* loss : {"semi-hard", "batch-hard"}) {
    for (const char* distance : {"euclidean", "squared"}) {
      INFO(loss << " " << distance);
      LoopOptions o = twin_options();
      o.loss = loss;
      o.distance = distance;
      auto t = train_twins(o, {16, 8}, 0.0);
      REQUIRE(t.fast_result.history.size() == 3);
      for (size_t e = 0; e < 3; ++e) {
        CHECK(t.fast_result.history[e].train_loss ==
              Approx(t.slow_result.history[e].train_loss).epsilon(1e-4));
      }
      CHECK(t.fast_result.best_epoch == t.slow_result.best_epoch);
      const auto slow = t.slow->named_parameters();
      for (const auto& item : t.fast->named_parameters()) {
        INFO(item.key());
        if (item.key().find("linear.bias") == std::string::npos) {
          CHECK(torch::allclose(item.value(), slow[item.key()], 1e-3, 1e-4));
        }
      }
      const auto slow_buffers = t.slow->named_buffers();
      for (const auto& item : t.fast->named_buffers()) {
        INFO(item.key());
        if (item.key().find("running_mean") == std::string::npos) {
          CHECK(torch::allclose(item.value(), slow_buffers[item.key()], 1e-3, 1e-4));
        }
      }
      torch::NoGradGuard no_grad;
      t.fast->train();
      t.slow->train();
      CHECK(
          torch::allclose(t.fast->forward(data.inputs), t.slow->forward(data.inputs), 1e-3, 1e-4));
    }
  }
}

// With dropout, the hand-written step draws its masks from the loop's seed: the same seed
// repeats a run exactly, another seed (or autograd, with LibTorch's generator) does not.
TEST_CASE("hand-written CPU step with dropout is seeded", "[training][fused]") {
  LoopOptions o = twin_options();
  auto a = train_twins(o, {16}, 0.3);
  auto b = train_twins(o, {16}, 0.3);
  o.seed = 10;
  auto c = train_twins(o, {16}, 0.3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(a.fast_result.history[e].train_loss == b.fast_result.history[e].train_loss);
    CHECK(std::isfinite(a.fast_result.history[e].train_loss));
  }
  CHECK(a.fast_result.history[0].train_loss != a.slow_result.history[0].train_loss);
  const auto pa = a.fast->parameters();
  const auto pb = b.fast->parameters();
  const auto pc = c.fast->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    CHECK(torch::equal(pa[i], pb[i]));
  }
  CHECK_FALSE(torch::equal(pa[0], pc[0]));
}

// After the hand-written step the head's parameters are ordinary ones again: each has its
// own storage and the head saves and loads with torch::save / torch::load.
TEST_CASE("head trained by the hand-written step saves and loads", "[training][fused]") {
  auto t = train_twins(twin_options(), {16}, 0.0);
  for (const auto& p : t.fast->parameters()) {
    CHECK(p.storage().nbytes() == static_cast<size_t>(p.numel()) * sizeof(float));
    CHECK_FALSE(p.grad().defined());
  }
  const fs::path file = fs::temp_directory_path() / "hpt_test_fused_head.pt";
  torch::save(t.fast, file.string());
  EmbeddingHead loaded(EmbeddingHeadOptions(6, 4).units({16}));
  torch::load(loaded, file.string());
  fs::remove(file);
  const auto a = snapshot_state(*t.fast);
  const auto b = snapshot_state(*loaded);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(torch::equal(a[i], b[i]));
  }
}

// Only the CPU fp32 head-only case takes the hand-written step; CUDA, mixed precision,
// images, trainable extractors, other heads and the switch fall back to autograd.
TEST_CASE("hand-written CPU step selection", "[training][fused]") {
  auto data = blobs(5, 1);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4).units({8}));
  LoopOptions o;
  CHECK(fused_step_blocker(head, nullptr, data, o, 12) == "");
  FeatureExtractor frozen(BuiltinCnn(), InputSpec{}, "test");
  CHECK(fused_step_blocker(head, &frozen, data, o, 12) == "");
  FeatureExtractor trainable(BuiltinCnn(), InputSpec{}, "test");
  trainable.set_trainable(true);
  CHECK(fused_step_blocker(head, &trainable, data, o, 12) == "trainable extractor");
  TrainData images{torch::zeros({15, 8, 8, 1}, torch::kUInt8), data.labels};
  CHECK(fused_step_blocker(head, &frozen, images, o, 12) == "inputs are not fp32 features");
  CHECK(fused_step_blocker(head, nullptr, data, o, 1) != "");  // BatchNorm on 1 row.
  LoopOptions bf16 = o;
  bf16.autocast = torch::kBFloat16;
  CHECK(fused_step_blocker(head, nullptr, data, bf16, 12) == "mixed precision");
  LoopOptions cuda = o;
  cuda.device = torch::Device(torch::kCUDA, 0);
  CHECK(fused_step_blocker(head, nullptr, data, cuda, 12) == "device cuda:0");
  LoopOptions off = o;
  off.fused_cpu_step = false;
  CHECK(fused_step_blocker(head, nullptr, data, off, 12) == "turned off");
  head->to(torch::kFloat64);
  CHECK(fused_step_blocker(head, nullptr, data, o, 12) != "");
}
