#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "hpt/tuner/rng.hpp"
#include "hpt/tuner/symmetric_eigen.hpp"

namespace {

// |A v_j - λ_j v_j|, |VᵀV - I| and the order, for a row-major symmetric a.
void check_decomposition(const std::vector<double>& a, size_t n) {
  const auto e = hpt::symmetric_eigen(a, n);
  REQUIRE(e.values.size() == n);
  REQUIRE(e.vectors.size() == n * n);
  double scale = 1e-300;
  for (double x : a) {
    scale = std::max(scale, std::abs(x));
  }
  for (size_t j = 0; j < n; ++j) {
    if (j > 0) {
      CHECK(e.values[j - 1] <= e.values[j]);
    }
    for (size_t i = 0; i < n; ++i) {
      double av = 0.0;
      for (size_t k = 0; k < n; ++k) {
        av += a[i * n + k] * e.vectors[k * n + j];
      }
      CHECK(std::abs(av - e.values[j] * e.vectors[i * n + j]) < 1e-12 * scale * n);
    }
    for (size_t l = 0; l < n; ++l) {
      double dot = 0.0;
      for (size_t k = 0; k < n; ++k) {
        dot += e.vectors[k * n + j] * e.vectors[k * n + l];
      }
      CHECK(std::abs(dot - (j == l ? 1.0 : 0.0)) < 1e-12 * n);
    }
  }
}

}  // namespace

TEST_CASE("symmetric_eigen of small known matrices", "[eigen]") {
  const auto e = hpt::symmetric_eigen({2, 1, 1, 2}, 2);
  CHECK(e.values[0] == Approx(1.0));
  CHECK(e.values[1] == Approx(3.0));
  CHECK(std::abs(e.vectors[0]) == Approx(std::sqrt(0.5)));
  const auto one = hpt::symmetric_eigen({-4}, 1);
  CHECK(one.values == std::vector<double>{-4});
  CHECK(one.vectors == std::vector<double>{1});
  // Only the upper triangle is read.
  const auto upper = hpt::symmetric_eigen({2, 1, 999, 2}, 2);
  CHECK(upper.values[1] == Approx(3.0));
  check_decomposition({5, 0, 0, 0, 5, 0, 0, 0, 5}, 3);  // A repeated eigenvalue.
  check_decomposition({1e8, 1, 1, 1e-8}, 2);            // Ill-conditioned.
}

TEST_CASE("symmetric_eigen of random symmetric matrices", "[eigen]") {
  hpt::Rng rng(42);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (size_t n = 1; n <= 24; n += 1 + n / 4) {
    std::vector<double> a(n * n);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i; j < n; ++j) {
        a[i * n + j] = a[j * n + i] = u(rng);
      }
    }
    INFO("n = " << n);
    check_decomposition(a, n);
  }
}
