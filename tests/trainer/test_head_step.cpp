#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/head_step.hpp"
#include "hpt/trainer/model.hpp"
#include "hpt/trainer/triplet_loss.hpp"

using namespace hpt::trainer;

namespace {

// A head with seeded initial weights and non-trivial BatchNorm affine parameters.
EmbeddingHead make_head(int64_t in, int64_t dim, std::vector<int64_t> units, double dropout,
                        uint64_t seed) {
  torch::manual_seed(seed);
  EmbeddingHead head(EmbeddingHeadOptions(in, dim).units(std::move(units)).dropout(dropout));
  torch::NoGradGuard no_grad;
  for (const auto& item : head->named_parameters()) {
    if (item.key().find("norm") != std::string::npos) {
      item.value().add_(torch::randn_like(item.value()) * 0.2);
    }
  }
  head->train();
  return head;
}

torch::Tensor loss_of(const torch::Tensor& e, const torch::Tensor& y, const HeadStepOptions& o) {
  return o.batch_hard ? triplet_batch_hard_loss(e, y, o.margin, o.distance)
                      : triplet_semihard_loss(e, y, o.margin, o.distance);
}

// The head's forward with autograd, with dropout's multipliers taken from `noise` (one
// [B * units] vector per block) instead of LibTorch's generator; none: the module itself.
torch::Tensor reference_forward(EmbeddingHead& head, const torch::Tensor& x,
                                const std::vector<std::vector<float>>& noise) {
  if (noise.empty()) {
    return head->forward(x);
  }
  const auto modules = head->named_modules("", false);
  torch::Tensor h = x;
  for (size_t i = 0; i < noise.size(); ++i) {
    const std::string block = "blocks." + std::to_string(i) + ".";
    auto& linear = *modules[block + "linear"]->as<torch::nn::LinearImpl>();
    auto& norm = *modules[block + "norm"]->as<torch::nn::BatchNorm1dImpl>();
    h = torch::relu(norm.forward(linear.forward(h)));
    auto mask = torch::from_blob(const_cast<float*>(noise[i].data()), h.sizes()).clone();
    h = h * mask;
  }
  auto e = modules["out"]->as<torch::nn::LinearImpl>()->forward(h);
  return torch::nn::functional::normalize(
      e, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

// Inputs, P x K labels and the rows of one batch (a shuffled subset of them).
struct Batch {
  torch::Tensor inputs;
  std::vector<int64_t> labels;
  std::vector<int64_t> rows;
};

Batch make_batch(int64_t n, int64_t in, int64_t classes, int64_t batch, uint64_t seed) {
  torch::manual_seed(seed);
  Batch b{torch::randn({n, in}), {}, {}};
  for (int64_t i = 0; i < n; ++i) {
    b.labels.push_back(i % classes);
  }
  auto perm = torch::randperm(n, torch::kInt64);
  b.rows.assign(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + batch);
  return b;
}

// One hand-written step and one autograd step on twin heads: the same loss, gradients and
// BatchNorm running statistics. Linear biases before a BatchNorm get gradients of pure
// rounding noise (the normalisation cancels them), compared with an absolute tolerance.
void check_step_matches_autograd(std::vector<int64_t> units, double dropout,
                                 const HeadStepOptions& o) {
  const int64_t in = 12;
  auto fast = make_head(in, 6, units, dropout, 7);
  auto slow = make_head(in, 6, units, dropout, 7);
  Batch b = make_batch(60, in, 5, 20, 8);
  HeadStep step(fast, b.inputs, b.labels, 20, o);
  for (int round = 0; round < 3; ++round) {  // Running statistics accumulate over steps.
    const double loss = step.run(b.rows);
    std::vector<std::vector<float>> noise;
    for (size_t i = 0; dropout > 0 && i < units.size(); ++i) {
      noise.push_back(step.dropout_noise(i));
    }
    auto idx = torch::tensor(b.rows, torch::kInt64);
    auto y = torch::tensor(b.labels, torch::kInt64).index_select(0, idx);
    for (auto& p : slow->parameters()) {
      p.mutable_grad() = torch::Tensor();
    }
    auto slow_loss = loss_of(reference_forward(slow, b.inputs.index_select(0, idx), noise), y, o);
    slow_loss.backward();
    CHECK(loss == Approx(slow_loss.item<double>()).epsilon(1e-6));
    const auto fast_params = fast->named_parameters();
    const auto slow_params = slow->named_parameters();
    for (const auto& item : slow_params) {
      const auto& name = item.key();
      const bool before_norm = name.find("linear.bias") != std::string::npos;
      INFO(name << " round " << round << " max diff "
                << (fast_params[name].grad() - item.value().grad()).abs().max().item<double>()
                << " of " << item.value().grad().abs().max().item<double>());
      CHECK(torch::allclose(fast_params[name].grad(), item.value().grad(), before_norm ? 0 : 1e-4,
                            before_norm ? 1e-6 : 1e-5));
    }
    const auto fast_buffers = fast->named_buffers();
    for (const auto& item : slow->named_buffers()) {
      INFO(item.key());
      CHECK(torch::allclose(fast_buffers[item.key()], item.value(), 1e-5, 1e-6));
    }
  }
}

}  // namespace

// No FF block: Linear + L2 normalisation into the semi-hard loss (the benchmark's head).
TEST_CASE("head step: linear head equals autograd", "[head_step]") {
  HeadStepOptions o;
  o.margin = 0.5;
  check_step_matches_autograd({}, 0.0, o);
  o.distance = Distance::Squared;
  check_step_matches_autograd({}, 0.0, o);
}

// Two FF blocks (Linear -> BatchNorm -> ReLU), both losses and both distances.
TEST_CASE("head step: FF blocks equal autograd", "[head_step]") {
  HeadStepOptions o;
  o.margin = 0.3;
  check_step_matches_autograd({16, 8}, 0.0, o);
  o.batch_hard = true;
  check_step_matches_autograd({16, 8}, 0.0, o);
  o.distance = Distance::Squared;
  check_step_matches_autograd({10}, 0.0, o);
  o.batch_hard = false;
  check_step_matches_autograd({10}, 0.0, o);
}

// With dropout the gradients equal autograd's given the step's own masks.
TEST_CASE("head step: dropout equals autograd with the same masks", "[head_step]") {
  HeadStepOptions o;
  o.margin = 0.4;
  o.dropout_seed = 3;
  check_step_matches_autograd({16, 8}, 0.3, o);
}

// Dropout masks keep each unit with probability 1 - p, scaled by 1 / (1 - p), are fixed by
// the seed and change from step to step.
TEST_CASE("head step: dropout masks", "[head_step]") {
  const double p = 0.25;
  auto head = make_head(12, 6, {64}, p, 1);
  Batch b = make_batch(200, 12, 10, 100, 2);
  HeadStepOptions o;
  o.dropout_seed = 11;
  HeadStep step(head, b.inputs, b.labels, 100, o);
  step.run(b.rows);
  const std::vector<float> first = step.dropout_noise(0);
  REQUIRE(first.size() == 100 * 64);
  int64_t dropped = 0;
  for (float v : first) {
    CHECK((v == 0.0f || v == static_cast<float>(1 / (1 - p))));
    dropped += v == 0.0f;
  }
  // 6400 Bernoulli(0.25) draws: mean 1600, sd ~35.
  CHECK(std::abs(static_cast<double>(dropped) - 1600) < 175);
  step.run(b.rows);
  CHECK(step.dropout_noise(0) != first);
  auto twin = make_head(12, 6, {64}, p, 1);
  HeadStep same_seed(twin, b.inputs, b.labels, 100, o);
  same_seed.run(b.rows);
  CHECK(same_seed.dropout_noise(0) == first);
  o.dropout_seed = 12;
  auto other = make_head(12, 6, {64}, p, 1);
  HeadStep other_seed(other, b.inputs, b.labels, 100, o);
  other_seed.run(b.rows);
  CHECK(other_seed.dropout_noise(0) != first);
}

// What the step covers: fp32 CPU heads; BatchNorm needs batches of 2 or more.
TEST_CASE("head step: supported heads", "[head_step]") {
  auto linear = make_head(4, 3, {}, 0.0, 1);
  CHECK(HeadStep::unsupported(linear, 1).empty());
  auto blocks = make_head(4, 3, {5}, 0.1, 1);
  CHECK(HeadStep::unsupported(blocks, 8).empty());
  CHECK_FALSE(HeadStep::unsupported(blocks, 1).empty());
  blocks->to(torch::kFloat64);
  CHECK_FALSE(HeadStep::unsupported(blocks, 8).empty());
  // Inputs of the wrong width are refused.
  CHECK_THROWS_AS(HeadStep(linear, torch::zeros({10, 5}), std::vector<int64_t>(10, 0), 4, {}),
                  std::invalid_argument);
}
