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
#include "synthetic_study.hpp"

namespace {

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
  for (int n : hpt::bench::study_sizes(argc, argv)) {
    const auto trials = hpt::bench::synthetic_study(n, 42);
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
    hpt::StudyInfo study;
    study.id = 1;
    study.name = "bench";
    study.directions = {hpt::Direction::Maximize};
    const std::string html = hpt::reports::render_report(study, trials);
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
