#include "hpt/tuner/symmetric_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hpt {

SymmetricEigen symmetric_eigen(std::vector<double> a, size_t n) {
  auto at = [&](size_t i, size_t j) -> double& { return a[i * n + j]; };
  for (size_t i = 0; i < n; ++i) {  // Symmetric from the upper triangle.
    for (size_t j = i + 1; j < n; ++j) {
      at(j, i) = at(i, j);
    }
  }
  std::vector<double> v(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    v[i * n + i] = 1.0;
  }
  // Rotations until the off-diagonal mass is negligible (Numerical Recipes' jacobi, with
  // Rutishauser's rotation formulas); 100 sweeps is far beyond what convergence needs.
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0;
    double diag = 0.0;
    for (size_t i = 0; i < n; ++i) {
      diag += at(i, i) * at(i, i);
      for (size_t j = i + 1; j < n; ++j) {
        off += at(i, j) * at(i, j);
      }
    }
    if (off == 0.0 || off <= 1e-32 * diag) {
      break;
    }
    for (size_t p = 0; p < n; ++p) {
      for (size_t q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (apq == 0.0) {
          continue;
        }
        const double theta = (at(q, q) - at(p, p)) / (2.0 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double s = t * c;
        for (size_t k = 0; k < n; ++k) {  // A ← A·J (columns p and q).
          const double akp = at(k, p);
          const double akq = at(k, q);
          at(k, p) = c * akp - s * akq;
          at(k, q) = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) {  // A ← Jᵀ·A (rows p and q).
          const double apk = at(p, k);
          const double aqk = at(q, k);
          at(p, k) = c * apk - s * aqk;
          at(q, k) = s * apk + c * aqk;
        }
        at(p, q) = at(q, p) = 0.0;
        for (size_t k = 0; k < n; ++k) {  // V ← V·J.
          const double vkp = v[k * n + p];
          const double vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return at(x, x) < at(y, y); });
  SymmetricEigen out;
  out.values.resize(n);
  out.vectors.resize(n * n);
  for (size_t j = 0; j < n; ++j) {
    out.values[j] = at(order[j], order[j]);
    for (size_t k = 0; k < n; ++k) {
      out.vectors[k * n + j] = v[k * n + order[j]];
    }
  }
  return out;
}

}  // namespace hpt
