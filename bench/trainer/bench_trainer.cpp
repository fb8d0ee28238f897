// Training throughput (images/s) of hpt's training loop (train_embedding: P x K sampling,
// device-resident inputs, flat Adam, semi-hard mining), end to end (extractor trainable +
// head) and head-only (cached features; on the CPU in fp32 the hand-written step of
// head_step.hpp, and the autograd step it replaces as head_only_autograd), and validation
// pairs scored a second (val_pairs_scored: distances + ROC AUC, as every epoch does). Usage:
//   bench_trainer THREADS BATCH STEPS [DEVICE] [EXTRACTOR.pt SIZE] [PRECISION]
// DEVICE: cpu (default) or cuda; EXTRACTOR: a TorchScript file (default: the built-in CNN
// on 28x28 grey images); PRECISION: fp32 (default), bf16 or fp16.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hpt/trainer/cpu_threads.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/metrics.hpp"
#include "hpt/trainer/model.hpp"
#include "hpt/trainer/training.hpp"

using namespace hpt::trainer;

namespace {

// images/s of `steps` training steps of batch images (10 classes x batch/10).
double run(FeatureExtractor* extractor, const TrainData& data, int64_t feature_dim, int64_t batch,
           int64_t steps, const torch::Device& device, std::optional<torch::ScalarType> autocast,
           bool fused_cpu_step = true) {
  torch::manual_seed(0);
  EmbeddingHead head(EmbeddingHeadOptions(feature_dim, 64));
  head->to(device);
  LoopOptions o;
  o.epochs = 1;
  o.steps_per_epoch = steps;
  o.classes_per_batch = 10;
  o.images_per_class = batch / 10;
  o.margin = 0.5;
  o.device = device;
  o.autocast = autocast;
  o.fused_cpu_step = fused_cpu_step;
  // Warm-up (allocator, cuDNN autotuning), then the timed epoch; validation is skipped.
  LoopOptions warm = o;
  warm.steps_per_epoch = 3;
  train_embedding(head, extractor, data, data, warm, {}, [] { return 0.0; });
  if (device.is_cuda()) {
    torch::cuda::synchronize();
  }
  const auto t0 = std::chrono::steady_clock::now();
  train_embedding(head, extractor, data, data, o, {}, [] { return 0.0; });
  if (device.is_cuda()) {
    torch::cuda::synchronize();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(batch * steps) / s;
}

// Pairs/s of one validation scoring (pair distances + ROC AUC, as every epoch does) of the
// default 200,000 pairs over 5,000 embeddings of 64 (Fashion-MNIST's validation split).
double pair_eval(const torch::Device& device) {
  torch::manual_seed(0);
  std::vector<int64_t> labels(5000);
  for (size_t i = 0; i < labels.size(); ++i) {
    labels[i] = static_cast<int64_t>(i % 10);
  }
  const auto e = torch::nn::functional::normalize(torch::randn({5000, 64})).to(device);
  const PairSet pairs = make_pairs(labels, 200000, 0);
  double auc = 0;
  const auto t0 = std::chrono::steady_clock::now();
  constexpr int k_rounds = 5;
  for (int r = 0; r < k_rounds; ++r) {
    auc += pair_roc_auc(e, pairs);  // What every epoch's validation does.
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return auc > 0 ? k_rounds * 200000.0 / s : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 160;
  const int64_t steps = argc > 3 ? std::atoll(argv[3]) : 50;
  const torch::Device device = resolve_device(argc > 4 ? argv[4] : "cpu", "DEVICE");
  const std::string model = argc > 5 ? argv[5] : "builtin";
  const int64_t size = argc > 6 ? std::atoll(argv[6]) : 28;
  const auto autocast = autocast_dtype(argc > 7 ? argv[7] : "fp32", device, "PRECISION");
  use_cpu_threads(threads);  // As run_experiment does.
  torch::manual_seed(0);
  const int64_t n = std::max<int64_t>(batch * 4, 1000);
  FeatureExtractor extractor =
      model == "builtin"
          ? FeatureExtractor(BuiltinCnn(BuiltinCnnOptions().in_channels(1).width(16)),
                             InputSpec{1, 0, {0.5}, {0.25}}, "bench")
          : FeatureExtractor::torchscript(model, size, device);
  const int64_t channels = model == "builtin" ? 1 : 3;
  extractor.to(device, device.is_cuda());
  extractor.set_trainable(true);
  const auto labels = torch::arange(n, torch::kInt64).remainder(10);
  TrainData images{torch::randint(0, 256, {n, size, size, channels}, torch::kUInt8), labels};
  const int64_t dim = extractor.feature_dim();
  TrainData features{torch::randn({n, dim}), labels};
  std::printf("end_to_end %.1f\n", run(&extractor, images, dim, batch, steps, device, autocast));
  std::printf("head_only %.1f\n", run(nullptr, features, dim, batch, steps * 10, device, autocast));
  std::printf("head_only_autograd %.1f\n",
              run(nullptr, features, dim, batch, steps * 10, device, autocast, false));
  std::printf("val_pairs_scored %.1f\n", pair_eval(device));
  return 0;
}
