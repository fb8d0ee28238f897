#pragma once
// Synthetic studies for the benchmarks (bench/reports, bench/dashboard): 8 params of mixed
// kinds + 1 conditional, pruned/failed trials, learning curves; seeded.

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::bench {

// The study sizes a benchmark's command line names after its output folder (argv[2], ...);
// 1,000 and 10,000 trials when it names none.
inline std::vector<int> study_sizes(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) {
    sizes.push_back(std::stoi(argv[i]));
  }
  return sizes.empty() ? std::vector<int>{1000, 10000} : sizes;
}

inline std::vector<hpt::FrozenTrial> synthetic_study(int n, uint64_t seed) {
  const hpt::FloatDistribution lr{1e-5, 1e-1, true, std::nullopt};
  const hpt::FloatDistribution momentum{0.0, 0.99, false, std::nullopt};
  const hpt::FloatDistribution dropout{0.0, 0.5, false, 0.05};
  const hpt::IntDistribution layers{1, 6, false, 1};
  const hpt::IntDistribution batch{16, 512, false, 16};
  const hpt::CategoricalDistribution opt{
      {hpt::Json("adam"), hpt::Json("sgd"), hpt::Json("rmsprop")}};
  const hpt::CategoricalDistribution widths{
      {hpt::Json::parse("[64,32]"), hpt::Json::parse("[128]"), hpt::Json::parse("[256,128,64]")}};
  const hpt::FloatDistribution margin{0.05, 2.0, true, std::nullopt};
  const hpt::CategoricalDistribution bools{{hpt::Json(false), hpt::Json(true)}};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    hpt::FrozenTrial t;
    t.id = i + 1;
    t.number = i;
    auto put = [&](const std::string& name, double v, const hpt::Distribution& d) {
      t.params[name] = v;
      t.distributions[name] = d;
    };
    const double l = std::exp(std::log(1e-5) + u(rng) * std::log(1e4));
    const double m = 0.99 * u(rng);
    const double dr = 0.05 * std::floor(u(rng) * 11);
    const double ly = 1 + std::floor(u(rng) * 6);
    const double b = 16 * (1 + std::floor(u(rng) * 32));
    const double o = std::floor(u(rng) * 3);
    const double w = std::floor(u(rng) * 3);
    put("lr", l, lr);
    put("momentum", m, momentum);
    put("dropout", dr, dropout);
    put("layers", ly, layers);
    put("batch", b, batch);
    put("optimizer", o, opt);
    put("widths", w, widths);
    const double mg = std::exp(std::log(0.05) + u(rng) * std::log(40.0));
    put("margin", mg, margin);
    const double nesterov = std::floor(u(rng) * 2);
    if (o == 1) {  // A conditional 9th param, only in SGD trials.
      put("nesterov", nesterov, bools);
    }
    const double noise = 0.02 * (u(rng) - 0.5);
    const double auc = 0.95 - 0.02 * std::pow(std::log10(l) + 3, 2) -
                       0.03 * (o == 1) * (1 - 0.5 * nesterov) - 0.05 * dr * dr + 0.01 * w -
                       0.01 * std::abs(std::log(mg)) + noise;
    const int state_draw = static_cast<int>(u(rng) * 20);
    t.state = state_draw == 0  ? hpt::TrialState::Fail
              : state_draw < 6 ? hpt::TrialState::Pruned
                               : hpt::TrialState::Complete;
    const int steps = t.state == hpt::TrialState::Pruned ? 3 : 20;
    for (int s = 0; s < steps; ++s) {
      t.intermediate_values[s] = auc - 0.3 / (s + 1);
    }
    if (t.state != hpt::TrialState::Fail) {
      t.value = t.state == hpt::TrialState::Pruned ? t.intermediate_values.rbegin()->second : auc;
    }
    t.datetime_start = hpt::Clock::time_point{} + std::chrono::seconds(60 * i);
    t.datetime_complete =
        *t.datetime_start +
        std::chrono::milliseconds(
            static_cast<int>(1000 * (5 + 2 * ly + b / 64.0) * (steps / 20.0) * (1 + u(rng) * 0.1)));
    t.user_attrs["recall_at_1"] = auc - 0.1;
    trials.push_back(std::move(t));
  }
  return trials;
}

}  // namespace hpt::bench
