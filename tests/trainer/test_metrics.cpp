#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include <torch/version.h>

using namespace hpt::trainer;

// ROC AUC equals hand-computed values, ties counted as half.
TEST_CASE("roc auc by hand", "[metrics]") {
  CHECK((roc_auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}) == Approx(0.75)));
  // Positives {0.5, 0.9} vs negatives {0.5, 0.5}: 0.5 + 0.5 + 1 + 1 over 4 pairs.
  CHECK((roc_auc({0.5, 0.5, 0.5, 0.9}, {false, true, false, true}) == Approx(0.75)));
  CHECK((roc_auc({1, 2, 3}, {true, true, true}) == 0.5));
  CHECK((roc_auc({3, 2, 1}, {true, false, false}) == Approx(1.0)));
}

// The ROC curve visits every distinct score (scikit-learn's drop_intermediate=False).
TEST_CASE("roc curve by hand", "[metrics]") {
  auto c = roc_curve({0.1, 0.4, 0.35, 0.8}, {false, false, true, true});
  CHECK((c.fpr == std::vector<double>{0, 0, 0.5, 0.5, 1}));
  CHECK((c.tpr == std::vector<double>{0, 0.5, 0.5, 1, 1}));
  CHECK(c.thresholds[1] == 0.8);
  CHECK(c.thresholds[4] == 0.1);
  auto d = downsample(c, 3);
  CHECK((d.fpr == std::vector<double>{0, 0.5, 1}));
}

// Youden's J threshold, the confusion matrix at it, and AUC on distances, by hand.
TEST_CASE("threshold and confusion matrix", "[metrics]") {
  std::vector<double> d = {0.1, 0.3, 0.35, 0.5, 0.45, 0.7};
  std::vector<bool> same = {true, true, false, true, false, false};
  // J after 0.1: 1/3, after 0.3: 2/3 (max), after 0.35: 1/3, 0.45: 0, 0.5: 1/3, 0.7: 0. The
  // threshold lies halfway to the next distance, so the pair at 0.3 embedded again a little
  // farther (float rounding) is still "same" (it was exactly 0.3).
  CHECK(youden_threshold(d, same) == Approx(0.325));
  // A model that separates nothing (every distance tied) still calls its closest pairs, and so
  // identical images, the same: a finite threshold just above the smallest distance (was
  // -DBL_MAX), as no distance is larger.
  CHECK(youden_threshold({0.5, 0.5, 0.5}, {true, false, true}) == Approx(0.5001));
  CHECK(youden_threshold({0.0, 0.0}, {true, false}) == Approx(0.0001));
  CHECK(youden_threshold({0.9, 0.2}, {true, false}) == Approx(0.55));  // Worse than chance.
  CHECK(youden_threshold({0.2, 0.9, NAN}, {true, false, false}) == Approx(0.55));
  // The next distance the very next double: halfway would round onto it and call its
  // "different" pairs "same"; the J point's own distance is kept.
  const double t = 1.0000000000000002;
  const double next = std::nextafter(t, 2.0);
  CHECK(youden_threshold({t, t, next, next}, {true, true, false, false}) == t);
  auto m = confusion_matrix(d, same, 0.3);
  CHECK(m[0][0] == 3);  // TN
  CHECK(m[0][1] == 0);  // FP
  CHECK(m[1][0] == 1);  // FN
  CHECK(m[1][1] == 2);  // TP
  std::vector<double> s;
  for (double x : d) {
    s.push_back(-x);
  }
  CHECK(roc_auc(s, same) == Approx(7.0 / 9.0));
}

// recall@1 excludes self and compares the nearest neighbour's label.
TEST_CASE("recall at 1 by hand", "[metrics]") {
  auto e = torch::tensor({0.0, 0.1, 1.0, 1.05, 2.0}).view({5, 1});
  auto y = torch::tensor({0, 0, 1, 0, 1}, torch::kInt64);
  CHECK(recall_at_1(e, y) == Approx(0.4));
}

// Pairs are balanced, correctly flagged, never self-pairs, and seeded.
TEST_CASE("balanced pairs", "[metrics]") {
  std::vector<int64_t> labels = {0, 0, 0, 1, 1, 2, 2, 2, 2, 3};
  auto p = make_pairs(labels, 101, 5);
  REQUIRE(p.same.size() == 101);
  int n_same = 0;
  for (size_t i = 0; i < p.same.size(); ++i) {
    CHECK(p.first[i] != p.second[i]);
    CHECK(p.same[i] == (labels[p.first[i]] == labels[p.second[i]]));
    n_same += p.same[i] ? 1 : 0;
  }
  CHECK(n_same == 50);
  CHECK(make_pairs(labels, 101, 5).first == p.first);
  CHECK(make_pairs(labels, 101, 6).first != p.first);
  CHECK_THROWS_AS(make_pairs({1, 1, 1}, 10, 0), std::invalid_argument);
  auto dist = pair_distances(torch::tensor({0.0, 3.0, 4.0}).view({3, 1}),
                             PairSet{{0, 1}, {2, 2}, {false, false}});
  CHECK((dist == std::vector<double>{4.0, 1.0}));
}

// recall@k counts a row as found when one of its k nearest others shares its label.
TEST_CASE("recall_at_k", "[metrics]") {
  // On a line: 0 (a), 1 (b), 2 (a), 10 (b). Nearest others: 0->1 (b), 1->0|2 (a),
  // 2->1 (b), 10->2 (a): recall@1 = 0; with 2 neighbours 0 finds 2, 2 finds 0 and 10 finds 1,
  // but 1 has only a-images nearby; with 3, everyone.
  auto e = torch::tensor({0.0f, 1.0f, 2.0f, 10.0f}).unsqueeze(1);
  auto y = torch::tensor({0, 1, 0, 1}, torch::kInt64);
  const auto r = hpt::trainer::recall_at_k(e, y, {1, 2, 3, 10});
  REQUIRE(r.size() == 4);
  CHECK(r[0] == 0.0);
  CHECK(r[1] == 0.75);
  CHECK(r[2] == 1.0);
  CHECK(r[3] == 1.0);
  CHECK(hpt::trainer::recall_at_k(e.slice(0, 0, 1), y.slice(0, 0, 1), {1}) ==
        std::vector<double>{0.0});
}

// NaN and inf scores are totally ordered (NaN below every number, NaNs tied): roc_auc and
// roc_curve finish (their tie loops used to spin forever on NaN) with hand-computed values.
// Nearly collapsed unit embeddings (neighbours 1e-9 apart in squared distance, below float32's
// resolution of |a|^2 + |b|^2 - 2ab): recall@1 is the exact nearest neighbour's, as a direct
// float64 computation finds it (float32 reported 0.15 where it was 0.20).
TEST_CASE("recall_at_k on nearly collapsed embeddings", "[metrics]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> angle(0.0, 2e-4);
  const int n = 60;
  auto e = torch::empty({n, 2}, torch::kFloat32);
  std::vector<int64_t> labels(n);
  for (int i = 0; i < n; ++i) {
    const double a = angle(rng);
    e[i][0] = static_cast<float>(std::cos(a));
    e[i][1] = static_cast<float>(std::sin(a));
    labels[i] = i % 4;
  }
  int hits = 0;
  for (int i = 0; i < n; ++i) {
    int nearest = -1;
    double best = std::numeric_limits<double>::infinity();
    for (int j = 0; j < n; ++j) {
      const double dx = e[i][0].item<double>() - e[j][0].item<double>();
      const double dy = e[i][1].item<double>() - e[j][1].item<double>();
      if (j != i && dx * dx + dy * dy < best) {
        best = dx * dx + dy * dy;
        nearest = j;
      }
    }
    hits += labels[nearest] == labels[i] ? 1 : 0;
  }
  const auto r = recall_at_k(e, torch::tensor(labels), {1});
  CHECK(r[0] == Approx(hits / static_cast<double>(n)));
}

TEST_CASE("metrics are total and bounded on NaN and inf", "[metrics][nan]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // Ranks: the two NaNs 1.5 each, 0.1 is 3, 0.2 is 4; positives 1.5 + 4 -> (5.5 - 3) / 4.
  CHECK((roc_auc({nan, 0.1, 0.2, nan}, {true, false, true, false}) == Approx(0.625)));
  CHECK((roc_auc({nan, nan, nan}, {true, false, true}) == 0.5));
  CHECK((roc_auc({-inf, inf, inf, nan}, {false, true, false, false}) == Approx(5.0 / 6.0)));
  const RocCurve c = roc_curve({nan, 0.1, nan, inf}, {true, false, false, true});
  REQUIRE(c.fpr.size() == 4);  // (0, 0), then the groups inf, 0.1, NaN.
  CHECK((c.tpr == std::vector<double>{0, 0.5, 0.5, 1}));
  CHECK((c.fpr == std::vector<double>{0, 0, 0.5, 1}));
  // NaN distances are never "same"; a threshold from all-NaN distances predicts nothing.
  const double t = youden_threshold({nan, nan}, {true, false});
  CHECK_FALSE(std::isnan(t));
  const auto m = confusion_matrix({nan, 0.1, nan}, {true, true, false}, 0.5);
  CHECK((m == std::array<std::array<int64_t, 2>, 2>{{{1, 0}, {1, 1}}}));
  // recall@k on NaN rows: bounded, a row never its own neighbour.
  auto e = torch::tensor({0.0f, 0.1f, 5.0f, 5.1f}).reshape({4, 1});
  e[1][0] = std::numeric_limits<float>::quiet_NaN();
  // Row 1 (NaN) is the only one of class 2: it hits only if it picks itself.
  const auto r = recall_at_k(e, torch::tensor({0, 2, 1, 1}), {1, 3});
  CHECK(r[0] == Approx(0.5));  // Rows 2 and 3 find each other; rows 0 and 1 cannot.
  CHECK(r[1] == Approx(0.5));
}

namespace {

// Wraps LibTorch's CPU allocator and records the peak of bytes live while installed.
class PeakCpuAllocator final : public c10::Allocator {
 public:
  explicit PeakCpuAllocator(c10::Allocator* inner) : m_inner(inner) {}
  // LibTorch 2.3 made allocate non-const and added copy_data.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override { return counted(n); }
  void copy_data(void* dest, const void* src, size_t count) const override {
    m_inner->copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t n) const override { return counted(n); }
#endif
  size_t peak() const { return m_peak; }

 private:
  c10::DataPtr counted(size_t n) const {
    auto* ctx = new Block{m_inner->allocate(n), n, this};
    m_live += n;
    m_peak = std::max(m_peak, m_live);
    return {ctx->inner.get(), ctx, &release, ctx->inner.device()};
  }
  struct Block {
    c10::DataPtr inner;
    size_t bytes;
    const PeakCpuAllocator* owner;
  };
  static void release(void* p) {
    auto* block = static_cast<Block*>(p);
    block->owner->m_live -= block->bytes;
    delete block;
  }
  c10::Allocator* m_inner;
  mutable size_t m_live = 0;
  mutable size_t m_peak = 0;
};

// The peak of CPU bytes allocated while f runs (priorities only rise: each install wins).
template <typename F> size_t peak_cpu_bytes(F f) {
  static uint8_t priority = 100;
  c10::Allocator* inner = c10::GetAllocator(c10::DeviceType::CPU);
  static std::vector<std::unique_ptr<PeakCpuAllocator>> kept;  // Blocks may outlive f.
  kept.push_back(std::make_unique<PeakCpuAllocator>(inner));
  c10::SetAllocator(c10::DeviceType::CPU, kept.back().get(), ++priority);
  f();
  c10::SetAllocator(c10::DeviceType::CPU, inner, ++priority);
  return kept.back()->peak();
}

// n pairs over rows of a [rows, width] matrix, drawn with a fixed seed.
PairSet random_pairs(int64_t rows, int64_t n) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  PairSet p;
  for (int64_t i = 0; i < n; ++i) {
    p.first.push_back(pick(rng));
    p.second.push_back(pick(rng));
    p.same.push_back(i % 2 == 0);
  }
  return p;
}

}  // namespace

// Chunked distances (the GPU path, run here on the CPU) equal the one-tensor formula bit for
// bit, across chunk boundaries; the CPU's one pass agrees to a few ulps.
TEST_CASE("pair_distances in chunks gives the same bits", "[metrics][pairs]") {
  torch::manual_seed(3);
  auto e = torch::randn({50, 24});
  const PairSet p = random_pairs(50, 1001);
  auto e64 = e.to(torch::kFloat64);
  auto a = e64.index_select(0, torch::tensor(p.first, torch::kInt64));
  auto b = e64.index_select(0, torch::tensor(p.second, torch::kInt64));
  auto want = (a - b).pow(2).sum(1).sqrt().contiguous();
  const std::vector<double> expected(want.data_ptr<double>(), want.data_ptr<double>() + 1001);
  CHECK(pair_distances(e, p, kPairChunkElements) == expected);
  CHECK(pair_distances(e, p, 24 * 7) == expected);  // 143 chunks, the last one short.
  CHECK(pair_distances(e, p, 1) == expected);       // One pair at a time.
  const std::vector<double> one_pass = pair_distances(e, p);
  REQUIRE(one_pass.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(std::abs(one_pass[i] - expected[i]) <= 1e-14 * expected[i]);
  }
  CHECK_THROWS_AS(pair_distances(e, PairSet{{0}, {50}, {false}}), std::out_of_range);
  CHECK_THROWS_AS(pair_distances(e, PairSet{{-1}, {0}, {false}}), std::out_of_range);
}

// Memory is bounded by the chunk, not by pairs x width (1.5M pairs of 16-wide features took
// 4 x 192 MB at once; the chunk holds 4M elements, 32 MB, per tensor).
TEST_CASE("pair_distances memory does not grow with pairs x width", "[metrics][pairs]") {
  auto e = torch::randn({64, 16});
  const PairSet p = random_pairs(64, 1'500'000);
  std::vector<double> d;
  const size_t peak = peak_cpu_bytes([&] { d = pair_distances(e, p, kPairChunkElements); });
  REQUIRE(d.size() == 1'500'000);
  const size_t chunk_bytes = kPairChunkElements * sizeof(double);
  const size_t per_pair = 2 * sizeof(double);  // The distances, on the device and returned.
  CHECK(peak < 5 * chunk_bytes + per_pair * p.first.size());
  // The CPU's one pass holds only the distances it returns.
  CHECK(peak_cpu_bytes([&] { d = pair_distances(e, p); }) < 2 * per_pair * p.first.size());
}
