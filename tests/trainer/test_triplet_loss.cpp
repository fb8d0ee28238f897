#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/triplet_loss.hpp"

using hpt::trainer::Distance;
using hpt::trainer::pairwise_distance;
using hpt::trainer::semihard_weights_loop;
using hpt::trainer::semihard_weights_tensor;
using hpt::trainer::triplet_batch_hard_loss;
using hpt::trainer::triplet_semihard_loss;

namespace {

// TFA TripletSemiHardLoss written as a naive triple loop with autograd-carrying scalars:
// for each positive pair (a != p), the closest negative with d(a,n) > d(a,p), else the
// farthest negative (0 if none); mean of max(d_ap - d_an + margin, 0) over positive pairs.
torch::Tensor naive_semihard(const torch::Tensor& e, const std::vector<int64_t>& y, double margin,
                             bool squared = false) {
  const int64_t b = e.size(0);
  auto dist = [&](int64_t i, int64_t j) {
    return i == j ? e.sum() * 0 : squared ? (e[i] - e[j]).pow(2).sum() : (e[i] - e[j]).norm();
  };
  torch::Tensor total = e.sum() * 0;
  int64_t count = 0;
  for (int64_t a = 0; a < b; ++a) {
    for (int64_t p = 0; p < b; ++p) {
      if (p == a || y[a] != y[p]) {
        continue;
      }
      auto d_ap = dist(a, p);
      const double ap = d_ap.item<double>();
      int64_t outside = -1;
      int64_t farthest = -1;
      for (int64_t n = 0; n < b; ++n) {
        if (y[n] == y[a]) {
          continue;
        }
        const double an = dist(a, n).item<double>();
        if (an > ap && (outside < 0 || an < dist(a, outside).item<double>())) {
          outside = n;
        }
        if (farthest < 0 || an > dist(a, farthest).item<double>()) {
          farthest = n;
        }
      }
      const int64_t n = outside >= 0 ? outside : farthest;
      auto d_an = n >= 0 ? dist(a, n) : e.sum() * 0;
      total = total + torch::relu(d_ap - d_an + margin);
      ++count;
    }
  }
  return total / static_cast<double>(count);
}

torch::Tensor random_embeddings(int64_t b, int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::functional::normalize(torch::randn({b, d}, torch::kFloat64),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

void check_against_naive(const torch::Tensor& base, const std::vector<int64_t>& y, double margin,
                         Distance distance = Distance::Euclidean) {
  auto labels = torch::tensor(y, torch::kInt64);
  auto e1 = base.clone().set_requires_grad(true);
  auto e2 = base.clone().set_requires_grad(true);
  auto fast = triplet_semihard_loss(e1, labels, margin, distance);
  auto slow = naive_semihard(e2, y, margin, distance == Distance::Squared);
  CHECK(fast.item<double>() == Approx(slow.item<double>()).epsilon(1e-9).margin(1e-12));
  fast.backward();
  slow.backward();
  CHECK(torch::allclose(e1.grad(), e2.grad(), 1e-7, 1e-9));
}

}  // namespace

// Values and gradients equal the naive TFA reference on random batches with repeated labels.
TEST_CASE("semi-hard loss matches the naive TFA reference", "[triplet]") {
  for (uint64_t seed = 0; seed < 6; ++seed) {
    std::vector<int64_t> y;
    for (int64_t i = 0; i < 12; ++i) {
      y.push_back((i * 7 + static_cast<int64_t>(seed)) % 4);
    }
    check_against_naive(random_embeddings(12, 5, seed), y, 0.3 + 0.2 * static_cast<double>(seed));
  }
}

// Squared distances (the report's and FaceNet's form): values and gradients as the naive loop.
TEST_CASE("semi-hard loss with squared distances", "[triplet]") {
  for (uint64_t seed = 0; seed < 3; ++seed) {
    std::vector<int64_t> y;
    for (int64_t i = 0; i < 10; ++i) {
      y.push_back((i * 3 + static_cast<int64_t>(seed)) % 3);
    }
    check_against_naive(random_embeddings(10, 4, seed + 20), y, 0.2, Distance::Squared);
  }
  CHECK_THROWS_AS(hpt::trainer::distance_from_name("cosine"), std::invalid_argument);
}

// The CPU loop and the tensor mining (what CUDA runs) give the same loss and weights,
// including singleton classes, one-class batches and ties.
TEST_CASE("semi-hard mining: loop and tensor kernels agree", "[triplet]") {
  const std::vector<std::vector<int64_t>> label_sets = {
      {0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3}, {0, 0, 1, 2, 3, 3, 4}, {5, 5, 5, 5}, {0, 1, 2}};
  for (size_t i = 0; i < label_sets.size(); ++i) {
    const auto& y = label_sets[i];
    const auto n = static_cast<int64_t>(y.size());
    auto e = random_embeddings(n, 3, 40 + i);
    if (i == 0) {
      e[3] = e[2];  // A zero distance and tied rows.
    }
    auto pd = pairwise_distance(e);
    auto labels = torch::tensor(y, torch::kInt64);
    auto [loss_a, w_a] = semihard_weights_loop(pd, labels, 0.4);
    auto [loss_b, w_b] = semihard_weights_tensor(pd, labels, 0.4);
    CHECK(loss_a.item<double>() == Approx(loss_b.item<double>()).margin(1e-12));
    CHECK(torch::allclose(w_a, w_b, 1e-9, 1e-12));
  }
}

// Pairs with no negative farther than d(a,p) fall back to the farthest negative.
TEST_CASE("semi-hard loss without negatives beyond d(a,p)", "[triplet]") {
  // Positives far apart (0 and 3), negatives close to the anchors.
  auto e = torch::tensor({{0.0, 0.0}, {0.1, 0.05}, {0.2, -0.1}, {3.0, 0.0}, {2.9, 0.2}},
                         torch::kFloat64);
  check_against_naive(e, {0, 1, 1, 0, 1}, 0.5);
}

// A single class: every negative term is 0, so the loss is mean(d_ap) + margin.
TEST_CASE("semi-hard loss with one class", "[triplet]") {
  auto e = random_embeddings(5, 3, 11);
  check_against_naive(e, {2, 2, 2, 2, 2}, 0.2);
  double sum = 0;
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      if (i != j) {
        sum += (e[i] - e[j]).norm().item<double>();
      }
    }
  }
  auto loss = triplet_semihard_loss(e, torch::full({5}, 2, torch::kInt64), 0.2);
  CHECK(loss.item<double>() == Approx(sum / 20 + 0.2));
}

// Singleton classes are negatives only; a batch without positive pairs gives 0, not NaN.
TEST_CASE("semi-hard loss singletons and no positives", "[triplet]") {
  check_against_naive(random_embeddings(7, 4, 5), {0, 0, 1, 2, 3, 3, 4}, 1.0);
  auto e = random_embeddings(4, 3, 2).set_requires_grad(true);
  auto loss = triplet_semihard_loss(e, torch::tensor({0, 1, 2, 3}, torch::kInt64), 1.0);
  CHECK(loss.item<double>() == 0.0);
  loss.backward();
  CHECK(e.grad().abs().sum().item<double>() == 0.0);
}

// Batch-hard equals a loop over anchors of hardest positive / hardest negative.
TEST_CASE("batch-hard loss matches a loop", "[triplet]") {
  auto e = random_embeddings(10, 4, 3);
  std::vector<int64_t> y = {0, 0, 0, 1, 1, 2, 2, 2, 3, 1};
  double sum = 0;
  int count = 0;
  for (int a = 0; a < 10; ++a) {
    double hp = -1;
    double hn = std::numeric_limits<double>::infinity();
    for (int j = 0; j < 10; ++j) {
      const double d = (e[a] - e[j]).norm().item<double>();
      if (j != a && y[j] == y[a]) {
        hp = std::max(hp, d);
      } else if (y[j] != y[a]) {
        hn = std::min(hn, d);
      }
    }
    if (hp >= 0) {
      sum += std::max(hp - hn + 0.5, 0.0);
      ++count;
    }
  }
  auto loss = triplet_batch_hard_loss(e, torch::tensor(y, torch::kInt64), 0.5);
  CHECK(loss.item<double>() == Approx(sum / count).epsilon(1e-9));
}

// The mining kernel gives the same counts and hinge sum on fp32 and fp64 distances (the
// hand-written step mines fp32), and agrees with the tensor kernel on fp32 distances.
TEST_CASE("semi-hard mining in fp32 and fp64", "[triplet]") {
  using hpt::trainer::MiningScratch;
  using hpt::trainer::semihard_mining;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 24; ++i) {
    y.push_back(i / 6);
  }
  auto pd32 = pairwise_distance(random_embeddings(24, 4, 9).to(torch::kFloat32));
  auto pd64 = pd32.to(torch::kFloat64);
  std::vector<float> c32(24 * 24, 0.0f);
  std::vector<double> c64(24 * 24, 0.0);
  MiningScratch<float> s32;
  MiningScratch<double> s64;
  auto m32 = semihard_mining(pd32.data_ptr<float>(), y.data(), 24, 0.3, c32.data(), s32);
  auto m64 = semihard_mining(pd64.data_ptr<double>(), y.data(), 24, 0.3, c64.data(), s64);
  CHECK(m32.terms == 24 * 5);
  CHECK(m32.terms == m64.terms);
  CHECK(m32.hinge_sum == Approx(m64.hinge_sum).epsilon(1e-12));
  CHECK(m32.hinge_sum > 0);
  for (size_t i = 0; i < c32.size(); ++i) {
    CHECK(c32[i] == c64[i]);
  }
  auto labels = torch::tensor(y, torch::kInt64);
  auto [loss_a, w_a] = semihard_weights_loop(pd32, labels, 0.3);
  auto [loss_b, w_b] = semihard_weights_tensor(pd32, labels, 0.3);
  CHECK(loss_a.scalar_type() == torch::kFloat32);
  CHECK(loss_a.item<double>() == Approx(loss_b.item<double>()).epsilon(1e-6));
  CHECK(torch::allclose(w_a, w_b));
}

// The batch-hard kernel's mean hinge equals triplet_batch_hard_loss, its counts mark each
// active anchor's hardest positive (+1) and hardest negative (-1), and anchors without a
// positive are left out.
TEST_CASE("batch-hard mining kernel", "[triplet]") {
  auto e = random_embeddings(10, 4, 3).to(torch::kFloat32);
  const std::vector<int64_t> y = {0, 0, 0, 1, 1, 2, 2, 2, 3, 1};
  auto pd = pairwise_distance(e);
  std::vector<float> counts(100, 0.0f);
  const auto sums =
      hpt::trainer::batch_hard_mining(pd.data_ptr<float>(), y.data(), 10, 0.5, counts.data());
  CHECK(sums.terms == 9);  // Anchor 8 (class 3) has no positive.
  auto loss = triplet_batch_hard_loss(e, torch::tensor(y, torch::kInt64), 0.5);
  CHECK(sums.hinge_sum / 9 == Approx(loss.item<double>()).epsilon(1e-6));
  auto d = pd.accessor<float, 2>();
  for (int64_t a = 0; a < 10; ++a) {
    float row = 0;
    for (int64_t j = 0; j < 10; ++j) {
      const float c = counts[static_cast<size_t>(a * 10 + j)];
      row += c;
      if (c > 0) {
        CHECK(y[j] == y[a]);
        for (int64_t k = 0; k < 10; ++k) {
          CHECK((k == a || y[k] != y[a] || d[a][k] <= d[a][j]));
        }
      } else if (c < 0) {
        CHECK(y[j] != y[a]);
        for (int64_t k = 0; k < 10; ++k) {
          CHECK((y[k] == y[a] || d[a][k] >= d[a][j]));
        }
      }
    }
    CHECK(row == 0);
  }
  CHECK(std::count(counts.begin(), counts.end(), 1.0f) > 0);
  CHECK(counts[8 * 10 + 0] == 0);
}
