// Synthetic studies (8 params of mixed kinds + 1 conditional, pruned/failed trials, learning
// curves) -> render_report time and size, and fANOVA time. Writes the trials as JSON for
// optuna_bench.py and prints one JSON line per measurement.
// Usage: bench_reports OUT_DIR [N_TRIALS...]   (default 1000 10000)

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>

#include "hpt/reports/report.hpp"
#include "hpt/tuner/importance.hpp"

namespace {

std::vector<hpt::FrozenTrial> synthetic_study(int n, uint64_t seed) {
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

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_reports OUT_DIR [N_TRIALS...]\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) {
    sizes.push_back(std::stoi(argv[i]));
  }
  if (sizes.empty()) {
    sizes = {1000, 10000};
  }
  for (int n : sizes) {
    const auto trials = synthetic_study(n, 42);
    hpt::Json rows = hpt::Json::array();
    for (const auto& t : trials) {
      rows.push_back({{"state", hpt::trial_state_name(t.state)},
                      {"value", t.value ? hpt::Json(*t.value) : hpt::Json()},
                      {"params", t.external_params()},
                      {"intermediate", t.intermediate_values},
                      {"duration", *t.duration_seconds()}});
    }
    std::ofstream(dir + "/study_" + std::to_string(n) + ".json") << rows.dump();

    auto t0 = std::chrono::steady_clock::now();
    const auto imp = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value);
    const double fanova_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const std::string html =
        hpt::reports::render_report({1, "bench", hpt::Direction::Maximize}, trials);
    const double report_s = seconds_since(t0);
    std::ofstream(dir + "/hpt_report_" + std::to_string(n) + ".html") << html;
    hpt::Json out = {{"tool", "hpt"},
                     {"trials", n},
                     {"fanova_s", fanova_s},
                     {"report_s", report_s},
                     {"report_bytes", html.size()},
                     {"importance", imp}};
    std::cout << out.dump() << std::endl;
  }
  return 0;
}
