#pragma once
// Benchmark objectives (minimised, optimum value known); bench_optuna.py mirrors them.

#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::bench {

struct Objective {
  std::string name;
  SearchSpace space;
  double optimum;
  std::function<double(const std::map<std::string, double>&)> f;
};

inline SearchSpace box(int d, double low, double high) {
  SearchSpace s;
  for (int i = 0; i < d; ++i) {
    s.emplace_back("x" + std::to_string(i), FloatDistribution{low, high, false, {}});
  }
  return s;
}

inline std::vector<double> xs(const std::map<std::string, double>& p, int d) {
  std::vector<double> x(d);
  for (int i = 0; i < d; ++i) {
    x[i] = p.at("x" + std::to_string(i));
  }
  return x;
}

// An objective over the box [low, high]^d of a function of the vector x0..x{d-1}.
inline Objective on_box(std::string name, int d, double low, double high, double optimum,
                        std::function<double(const std::vector<double>&)> f) {
  return {std::move(name), box(d, low, high), optimum,
          [d, f = std::move(f)](const auto& p) { return f(xs(p, d)); }};
}

// Hartmann-3 / -6 (Surjanovic & Bingham's constants) on [0, 1]^d.
inline double hartmann(const std::vector<double>& x, const double (*a)[6], const double (*p)[6]) {
  const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double f = 0;
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (size_t j = 0; j < x.size(); ++j) {
      s += a[i][j] * (x[j] - 1e-4 * p[i][j]) * (x[j] - 1e-4 * p[i][j]);
    }
    f -= alpha[i] * std::exp(-s);
  }
  return f;
}

inline double rastrigin(const std::vector<double>& x) {
  double s = 10.0 * static_cast<double>(x.size());
  for (double v : x) {
    s += v * v - 10 * std::cos(2 * M_PI * v);
  }
  return s;
}

inline double ackley(const std::vector<double>& x) {
  const double d = static_cast<double>(x.size());
  double s1 = 0, s2 = 0;
  for (double v : x) {
    s1 += v * v;
    s2 += std::cos(2 * M_PI * v);
  }
  return -20 * std::exp(-0.2 * std::sqrt(s1 / d)) - std::exp(s2 / d) + 20 + M_E;
}

inline double styblinski_tang(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) {
    s += 0.5 * (v * v * v * v - 16 * v * v + 5 * v);
  }
  return s;
}

inline double levy(const std::vector<double>& x) {
  const size_t d = x.size();
  auto w = [&](size_t i) { return 1 + (x[i] - 1) / 4; };
  double s = std::pow(std::sin(M_PI * w(0)), 2);
  for (size_t i = 0; i + 1 < d; ++i) {
    s += std::pow(w(i) - 1, 2) * (1 + 10 * std::pow(std::sin(M_PI * w(i) + 1), 2));
  }
  return s + std::pow(w(d - 1) - 1, 2) * (1 + std::pow(std::sin(2 * M_PI * w(d - 1)), 2));
}

inline double rosenbrock(const std::vector<double>& x) {
  double s = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    s += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  }
  return s;
}

// The benchmark families, 2 to 10 dimensions; the mixed training-run space is last.
inline std::vector<Objective> objectives() {
  static const double a3[4][6] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
  static const double p3[4][6] = {
      {3689, 1170, 2673}, {4699, 4387, 7470}, {1091, 8732, 5547}, {381, 5743, 8828}};
  static const double a6[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                  {0.05, 10, 17, 0.1, 8, 14},
                                  {3, 3.5, 1.7, 10, 17, 8},
                                  {17, 8, 0.05, 10, 0.1, 14}};
  static const double p6[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                  {2329, 4135, 8307, 3736, 1004, 9991},
                                  {2348, 1451, 3522, 2883, 3047, 6650},
                                  {4047, 8828, 8732, 5743, 1091, 381}};
  std::vector<Objective> out;
  SearchSpace branin{{"x0", FloatDistribution{-5, 10, false, {}}},
                     {"x1", FloatDistribution{0, 15, false, {}}}};
  out.push_back({"branin-2d", branin, 0.39788735772973816, [](const auto& p) {
                   const double x = p.at("x0"), y = p.at("x1");
                   const double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
                   return std::pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - t) * std::cos(x) + 10;
                 }});
  SearchSpace camel{{"x0", FloatDistribution{-3, 3, false, {}}},
                    {"x1", FloatDistribution{-2, 2, false, {}}}};
  out.push_back({"six-hump-camel-2d", camel, -1.0316284534898774, [](const auto& p) {
                   double x = p.at("x0"), y = p.at("x1");
                   return (4 - 2.1 * x * x + x * x * x * x / 3) * x * x + x * y +
                          (-4 + 4 * y * y) * y * y;
                 }});
  out.push_back(on_box("hartmann-3d", 3, 0, 1, -3.8627821478207558,
                       [](const auto& x) { return hartmann(x, a3, p3); }));
  out.push_back(on_box("hartmann-6d", 6, 0, 1, -3.3223680114155156,
                       [](const auto& x) { return hartmann(x, a6, p6); }));
  out.push_back(on_box("rosenbrock-4d", 4, -5, 10, 0.0, rosenbrock));
  out.push_back(on_box("styblinski-tang-5d", 5, -5, 5, -39.166165703771416 * 5, styblinski_tang));
  out.push_back(on_box("rastrigin-5d", 5, -5.12, 5.12, 0.0, rastrigin));
  out.push_back(on_box("levy-7d", 7, -10, 10, 0.0, levy));
  out.push_back(on_box("ackley-10d", 10, -32.768, 32.768, 0.0, ackley));
  out.push_back(
      on_box("styblinski-tang-10d", 10, -5, 5, -39.166165703771416 * 10, styblinski_tang));
  SearchSpace train{{"lr", FloatDistribution{1e-5, 1.0, true, {}}},
                    {"batch", IntDistribution{16, 512, true, 1}},
                    {"units", IntDistribution{32, 512, false, 32}},
                    {"dropout", FloatDistribution{0.0, 0.5, false, 0.05}},
                    {"optimizer", CategoricalDistribution{{"sgd", "adam", "rmsprop"}}},
                    {"layers", IntDistribution{1, 5, false, 1}}};
  out.push_back({"training-run", train, 0.0, [](const auto& p) {
                   const int opt = static_cast<int>(p.at("optimizer"));
                   const double best_lr[] = {-1.0, -3.0, -3.5};
                   const double penalty[] = {0.05, 0.0, 0.02};
                   double lr = std::log10(p.at("lr")) - best_lr[opt];
                   double batch = std::log2(p.at("batch")) - 6.0;
                   double units = (p.at("units") - 256.0) / 256.0;
                   double drop = p.at("dropout") - 0.2;
                   return 0.1 * lr * lr + 0.02 * batch * batch + 0.3 * units * units +
                          2.0 * drop * drop + penalty[opt] + 0.03 * std::abs(p.at("layers") - 3.0) +
                          0.02 * lr * batch * (opt == 0 ? 1.0 : 0.5);
                 }});
  return out;
}

// Few parameters, one of them categorical (bench/tpe/categorical.sh): where the default's
// neighbour-distance bandwidths (below 3 parameters) and Scott's rule trade wins. Choice i is
// the number i.
inline std::vector<Objective> categorical_objectives() {
  const auto choices = [](int k) {
    CategoricalDistribution c;
    for (int i = 0; i < k; ++i) {
      c.choices.push_back(Json(i));
    }
    return c;
  };
  const FloatDistribution unit{-1, 1, false, {}};
  std::vector<Objective> out;
  out.push_back({"cat2-float", {{"c", choices(2)}, {"x", unit}}, 0.0, [](const auto& p) {
                   const double x = p.at("x");
                   return p.at("c") == 0 ? (x - 0.7) * (x - 0.7) : 0.02 + (x + 0.2) * (x + 0.2);
                 }});
  out.push_back({"cat3-float", {{"c", choices(3)}, {"x", unit}}, -0.05, [](const auto& p) {
                   const double x = p.at("x");
                   const int c = static_cast<int>(p.at("c"));
                   return c == 0   ? (x - 0.3) * (x - 0.3)
                          : c == 1 ? (x + 0.5) * (x + 0.5) - 0.05
                                   : 0.1 + x * x;
                 }});
  out.push_back({"cat50-float", {{"c", choices(50)}, {"x", unit}}, 0.0, [](const auto& p) {
                   const int c = static_cast<int>(p.at("c"));
                   const double x = p.at("x") - 0.3;
                   return ((c * 17 + 5) % 50) / 50.0 + x * x;
                 }});
  out.push_back({"cat4-separable",
                 {{"c", choices(4)}, {"x", FloatDistribution{-5, 5, false, {}}}},
                 0.0,
                 [](const auto& p) { return p.at("x") * p.at("x") + (p.at("c") == 2 ? 0 : 10); }});
  out.push_back({"cat8-int",
                 {{"c", choices(8)}, {"n", IntDistribution{1, 100, false, 1}}},
                 0.0,
                 [](const auto& p) {
                   const int c = static_cast<int>(p.at("c"));
                   const double n = p.at("n") - 37;
                   return ((c * 5 + 3) % 8) / 8.0 + n * n / 10000.0;
                 }});
  return out;
}

// BENCH_SET=categorical: categorical_objectives(); otherwise objectives().
inline std::vector<Objective> selected_set() {
  const char* set = std::getenv("BENCH_SET");
  return set && std::string(set) == "categorical" ? categorical_objectives() : objectives();
}

}  // namespace hpt::bench
