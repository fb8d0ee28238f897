#pragma once
// Constrained test problems for bench/constraints (same definitions as bench_optuna.py), all
// minimised; a constraint is met when its value is <= 0 (Optuna's convention).
// - Rosenbrock with a cubic and a line (x in [-1.5, 1.5], y in [-0.5, 2.5]): optimum 0 at (1, 1).
// - Simionescu (x, y in [-1.25, 1.25]): optimum -0.072 on the flower-shaped boundary.
// - Gardner (x, y in [0, 6]): sin x + y with sin x sin y <= -0.95, a narrow feasible region.
// - Binh and Korn (two objectives; x in [0, 5], y in [0, 3]): scored by hypervolume.

#include <cmath>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::bench {

struct Evaluation {
  std::vector<double> values;
  std::vector<double> constraints;
};

struct ConstrainedProblem {
  std::string name;
  SearchSpace space;
  std::vector<double> reference;  // Several objectives: the hypervolume reference point.
  Evaluation (*f)(double x, double y);
};

inline Evaluation rosenbrock(double x, double y) {
  return {{(1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)},
          {(x - 1) * (x - 1) * (x - 1) - y + 1, x + y - 2}};
}

inline Evaluation simionescu(double x, double y) {
  const double r = 1 + 0.2 * std::cos(8 * std::atan2(x, y));
  return {{0.1 * x * y}, {x * x + y * y - r * r}};
}

inline Evaluation gardner(double x, double y) {
  return {{std::sin(x) + y}, {std::sin(x) * std::sin(y) + 0.95}};
}

inline Evaluation binh_korn(double x, double y) {
  return {{4 * x * x + 4 * y * y, (x - 5) * (x - 5) + (y - 5) * (y - 5)},
          {(x - 5) * (x - 5) + y * y - 25, 7.7 - (x - 8) * (x - 8) - (y + 3) * (y + 3)}};
}

inline SearchSpace box(double xl, double xh, double yl, double yh) {
  return {{"x", FloatDistribution{xl, xh, false, {}}}, {"y", FloatDistribution{yl, yh, false, {}}}};
}

inline std::vector<ConstrainedProblem> constrained_problems() {
  return {{"Rosenbrock, cubic + line", box(-1.5, 1.5, -0.5, 2.5), {}, rosenbrock},
          {"Simionescu", box(-1.25, 1.25, -1.25, 1.25), {}, simionescu},
          {"Gardner", box(0, 6, 0, 6), {}, gardner},
          {"Binh and Korn (2 obj)", box(0, 5, 0, 3), {140, 50}, binh_korn}};
}

}  // namespace hpt::bench
