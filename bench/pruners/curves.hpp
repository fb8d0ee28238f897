#pragma once
// Synthetic learning curves for bench_pruners (bench_optuna.py mirrors them): a trial's
// loss at step s of k_steps, from its hyperparameters. Deterministic (no noise source
// but a fixed ripple), so hpt and Optuna see the same curve for the same parameters.

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::bench {

constexpr int k_steps = 81;  // Steps 0..80: rungs at 1, 3, 9, 27 (eta 3), max_resource 81.

struct CurveFamily {
  std::string name;
  SearchSpace space;
  // Loss at step s (minimised) of the trial with internal parameter values p.
  std::function<double(const std::map<std::string, double>&, int)> loss;
};

inline std::vector<CurveFamily> curve_families() {
  SearchSpace space{{"lr", FloatDistribution{1e-4, 1.0, true, {}}},
                    {"width", FloatDistribution{0.0, 1.0, false, {}}},
                    {"reg", FloatDistribution{1e-5, 1e-1, true, {}}}};
  std::vector<CurveFamily> out;
  // Exponential decay to a final loss; faster for larger lr (ranks are stable over time).
  out.push_back({"decay", space, [](const auto& p, int s) {
                   const double lr = std::log10(p.at("lr")), reg = std::log10(p.at("reg"));
                   const double final_loss = 0.1 * std::pow(lr + 2.5, 2) +
                                             std::pow(p.at("width") - 0.3, 2) +
                                             0.02 * std::pow(reg + 3, 2);
                   const double rate = 0.02 + 0.3 * p.at("lr");
                   return final_loss + (1.0 - final_loss / 4) * std::exp(-rate * s) +
                          0.005 * std::sin(1.7 * s + 10 * p.at("width"));
                 }});
  // Crossing curves: large lr learns fast and plateaus high, small lr starts slow and
  // ends low: early steps mislead (where pruning costs quality).
  out.push_back({"crossing", space, [](const auto& p, int s) {
                   const double lr = std::log10(p.at("lr")), reg = std::log10(p.at("reg"));
                   const double final_loss = 0.05 * std::pow(lr + 3.2, 2) +
                                             0.5 * std::pow(p.at("width") - 0.6, 2) +
                                             0.02 * std::pow(reg + 2, 2);
                   const double rate = 0.5 * std::pow(p.at("lr"), 0.6);
                   return final_loss + 2.0 / (1.0 + rate * s) +
                          0.005 * std::sin(1.3 * s + 7 * p.at("width"));
                 }});
  return out;
}

}  // namespace hpt::bench
