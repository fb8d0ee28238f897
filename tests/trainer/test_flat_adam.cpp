#include <torch/torch.h>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/flat_adam.hpp"

using hpt::trainer::FlatAdam;

// Steps with changing learning rates and gradients (including zeros and a sign flip) move
// the parameter as torch::optim::Adam with its defaults does.
TEST_CASE("flat Adam equals torch::optim::Adam", "[flat_adam]") {
  torch::manual_seed(1);
  auto start = torch::randn({1000});
  auto ours = start.clone();
  auto grad = torch::zeros_like(ours);
  FlatAdam adam(ours, grad);
  auto theirs = start.clone().set_requires_grad(true);
  torch::optim::Adam reference({theirs}, torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 20; ++step) {
    const double lr = 1e-3 * (1 + step % 4);
    auto g = torch::randn({1000}) * (step % 2 ? 1e-4 : 1.0);
    g.slice(0, 0, 10).zero_();
    grad.copy_(g);
    adam.step(lr);
    theirs.mutable_grad() = g.clone();
    static_cast<torch::optim::AdamOptions&>(reference.param_groups()[0].options()).lr(lr);
    reference.step();
    INFO("step " << step << " max diff " << (ours - theirs.detach()).abs().max().item<double>());
    CHECK(torch::allclose(ours, theirs.detach(), 1e-6, 1e-7));  // An ulp (FMA, order).
  }
  CHECK(adam.steps() == 20);
  CHECK(torch::equal(ours.slice(0, 0, 10), start.slice(0, 0, 10)));
  CHECK_FALSE(torch::allclose(ours, start));
}

// Only contiguous fp32 CPU buffers of one size.
TEST_CASE("flat Adam rejects other buffers", "[flat_adam]") {
  CHECK_THROWS_AS(FlatAdam(torch::zeros({4}), torch::zeros({5})), std::invalid_argument);
  CHECK_THROWS_AS(FlatAdam(torch::zeros({4}, torch::kFloat64), torch::zeros({4}, torch::kFloat64)),
                  std::invalid_argument);
  CHECK_THROWS_AS(FlatAdam(torch::zeros({4, 2}).t(), torch::zeros({2, 4})), std::invalid_argument);
}
