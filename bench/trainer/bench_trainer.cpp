// Training throughput (images/s) of hpt's trainer: end to end (built-in CNN trainable +
// head, semi-hard loss) and head-only on cached 128-d features. Usage:
//   bench_trainer THREADS BATCH STEPS
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "hpt/trainer/model.hpp"
#include "hpt/trainer/triplet_loss.hpp"

using namespace hpt::trainer;

namespace {

double run(bool end_to_end, int64_t batch, int64_t steps) {
  torch::manual_seed(0);
  BuiltinCnn cnn(BuiltinCnnOptions().in_channels(1).width(16));
  EmbeddingHead head(EmbeddingHeadOptions(128, 64));
  std::vector<torch::Tensor> params = head->parameters();
  if (end_to_end) {
    for (auto& p : cnn->parameters()) {
      params.push_back(p);
    }
  }
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
  auto images = torch::randn({batch, 1, 28, 28});
  auto features = torch::randn({batch, 128});
  auto labels = torch::arange(batch, torch::kInt64).remainder(10);
  cnn->train();
  head->train();
  auto step = [&] {
    auto x = end_to_end ? cnn->forward(images) : features;
    auto loss = triplet_semihard_loss(head->forward(x), labels, 0.5);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < 3; ++i) {
    step();
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    step();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(batch * steps) / s;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 160;
  const int64_t steps = argc > 3 ? std::atoll(argv[3]) : 50;
  torch::set_num_threads(threads);
  std::printf("end_to_end %.1f\n", run(true, batch, steps));
  std::printf("head_only %.1f\n", run(false, batch, steps * 10));
  return 0;
}
