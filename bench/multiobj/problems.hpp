#pragma once
// Multi-objective test problems for bench/multiobj (same definitions as bench_optuna.py):
// ZDT1 and ZDT2 (two objectives, convex and concave fronts) and DTLZ2 (three objectives, a
// spherical front), all minimised on [0, 1]^d, each with the hypervolume reference point.

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::bench {

struct Problem {
  std::string name;
  SearchSpace space;
  std::vector<double> reference;  // Hypervolume reference point.
  std::vector<double> (*f)(const std::vector<double>& x);
};

inline double zdt_g(const std::vector<double>& x) {
  double s = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    s += x[i];
  }
  return 1.0 + 9.0 * s / static_cast<double>(x.size() - 1);
}

inline std::vector<double> zdt1(const std::vector<double>& x) {
  const double g = zdt_g(x);
  return {x[0], g * (1.0 - std::sqrt(x[0] / g))};
}

inline std::vector<double> zdt2(const std::vector<double>& x) {
  const double g = zdt_g(x);
  return {x[0], g * (1.0 - (x[0] / g) * (x[0] / g))};
}

inline std::vector<double> dtlz2(const std::vector<double>& x) {
  const size_t m = 3;
  double g = 0;
  for (size_t i = m - 1; i < x.size(); ++i) {
    g += (x[i] - 0.5) * (x[i] - 0.5);
  }
  const double a = x[0] * M_PI / 2;
  const double b = x[1] * M_PI / 2;
  return {(1 + g) * std::cos(a) * std::cos(b), (1 + g) * std::cos(a) * std::sin(b),
          (1 + g) * std::sin(a)};
}

inline SearchSpace unit_space(int d) {
  SearchSpace s;
  for (int i = 0; i < d; ++i) {
    s.emplace_back("x" + std::to_string(i), FloatDistribution{0, 1, false, {}});
  }
  return s;
}

inline std::vector<Problem> problems() {
  return {{"ZDT1 (d=6)", unit_space(6), {1.1, 6.0}, zdt1},
          {"ZDT2 (d=6)", unit_space(6), {1.1, 6.0}, zdt2},
          {"DTLZ2 (3 obj, d=6)", unit_space(6), {1.5, 1.5, 1.5}, dtlz2}};
}

}  // namespace hpt::bench
