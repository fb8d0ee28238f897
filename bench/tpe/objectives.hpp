#pragma once
// Benchmark objectives (minimised, optimum value known); bench_optuna.py mirrors them.

#include <cmath>
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

inline std::vector<Objective> objectives() {
  std::vector<Objective> out;
  out.push_back({"rosenbrock-4d", box(4, -5, 10), 0.0, [](const auto& p) {
                   auto x = xs(p, 4);
                   double s = 0;
                   for (int i = 0; i < 3; ++i) {
                     s += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
                   }
                   return s;
                 }});
  out.push_back({"ackley-4d", box(4, -32.768, 32.768), 0.0, [](const auto& p) {
                   auto x = xs(p, 4);
                   double s1 = 0, s2 = 0;
                   for (double v : x) {
                     s1 += v * v;
                     s2 += std::cos(2 * M_PI * v);
                   }
                   return -20 * std::exp(-0.2 * std::sqrt(s1 / 4)) - std::exp(s2 / 4) + 20 + M_E;
                 }});
  out.push_back({"rastrigin-4d", box(4, -5.12, 5.12), 0.0, [](const auto& p) {
                   auto x = xs(p, 4);
                   double s = 40;
                   for (double v : x) {
                     s += v * v - 10 * std::cos(2 * M_PI * v);
                   }
                   return s;
                 }});
  SearchSpace camel{{"x0", FloatDistribution{-3, 3, false, {}}},
                    {"x1", FloatDistribution{-2, 2, false, {}}}};
  out.push_back({"six-hump-camel", camel, -1.0316284534898774, [](const auto& p) {
                   double x = p.at("x0"), y = p.at("x1");
                   return (4 - 2.1 * x * x + x * x * x * x / 3) * x * x + x * y +
                          (-4 + 4 * y * y) * y * y;
                 }});
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

}  // namespace hpt::bench
