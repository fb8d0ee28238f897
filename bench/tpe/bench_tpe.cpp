// bench_tpe regret [trials] [seeds] [sampler-options-json]: mean best-value regret per objective.
// (BENCH_ONLY=name,name limits the objectives; SEED_START=k uses seeds k..k+seeds-1.)
// bench_tpe speed [history sizes...]: CPU milliseconds per TPE suggestion after N finished trials.
// bench_tpe run TYPE OPTIONS-JSON [n...]: CPU milliseconds per trial of a whole n-trial study of
// sampler TYPE on the 5-d sphere ("run <n> <ms>").
// Prints tab-separated lines: "regret <objective> <mean> <stderr>" /
// "speed <n> <univariate-ms> <multivariate-ms> <mixed-space-default-ms> <default-ms>".

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "../env_list.hpp"
#include "hpt/tuner/random_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "objectives.hpp"

namespace {

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::Json;
using hpt::SampleContext;

double best_after(hpt::Sampler& sampler, const hpt::bench::Objective& obj, int n) {
  std::vector<FrozenTrial> trials;
  trials.reserve(n);
  double best = INFINITY;
  for (int i = 0; i < n; ++i) {
    std::map<std::string, Json> attrs;  // What the sampler stores on the trial (generations).
    auto params =
        sampler.sample(obj.space, SampleContext{Direction::Minimize, &trials, i, {}, &attrs});
    FrozenTrial t;
    t.number = i;
    t.state = hpt::TrialState::Complete;
    t.value = obj.f(params);
    t.params = std::move(params);
    t.system_attrs = std::move(attrs);
    best = std::min(best, *t.value);
    trials.push_back(std::move(t));
  }
  return best;
}

int run_regret(int n_trials, int n_seeds, const Json& options, const std::string& type) {
  for (const auto& obj : hpt::bench::selected_set()) {
    if (!hpt::bench::env_list_selects("BENCH_ONLY", obj.name)) {
      continue;
    }
    double sum = 0, sum2 = 0;
    const char* start_env = std::getenv("SEED_START");
    const int start = start_env ? std::atoi(start_env) : 0;
    for (int seed = start; seed < start + n_seeds; ++seed) {
      auto sampler = hpt::make_sampler(type, options, static_cast<uint64_t>(seed), obj.space);
      double r = best_after(*sampler, obj, n_trials) - obj.optimum;
      sum += r;
      sum2 += r * r;
    }
    double mean = sum / n_seeds;
    double sd = std::sqrt(std::max(0.0, sum2 / n_seeds - mean * mean));
    std::printf("regret\t%s\t%.6g\t%.3g\n", obj.name.c_str(), mean, sd / std::sqrt(n_seeds));
  }
  return 0;
}

double ms_per_suggestion(const hpt::SearchSpace& space, const Json& options, int history,
                         int repeats) {
  hpt::RandomSampler random(123);
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < history; ++i) {
    FrozenTrial t;
    t.number = i;
    t.state = hpt::TrialState::Complete;
    t.params = random.sample(space, SampleContext{Direction::Minimize, &trials, i});
    double v = 0;
    for (const auto& [k, x] : t.params) {
      v += x * x;
    }
    t.value = v;
    trials.push_back(std::move(t));
  }
  auto tpe = hpt::make_sampler("tpe", options, 1, space);
  double sink = 0;
  // CPU time of this thread: the machine may be shared, wall time would be noisy.
  timespec start{};
  timespec end{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  for (int r = 0; r < repeats; ++r) {
    auto p = tpe->sample(space, SampleContext{Direction::Minimize, &trials, history + r});
    sink += p.begin()->second;
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
  if (sink == 12345.678) {
    std::puts("");
  }
  const double ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) * 1e-6;
  return ms / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "regret";
  if (mode == "regret") {
    int trials = argc > 2 ? std::atoi(argv[2]) : 100;
    int seeds = argc > 3 ? std::atoi(argv[3]) : 20;
    Json options = argc > 4 ? Json::parse(argv[4]) : Json::object();
    std::string type = argc > 5 ? argv[5] : "tpe";
    return run_regret(trials, seeds, options, type);
  }
  if (mode == "speed") {
    std::vector<int> sizes;
    for (int i = 2; i < argc; ++i) {
      sizes.push_back(std::atoi(argv[i]));
    }
    if (sizes.empty()) {
      sizes = {100, 1000, 5000};
    }
    for (int n : sizes) {
      int repeats = n >= 5000 ? 20 : 100;
      const hpt::SearchSpace box = hpt::bench::box(5, -5, 5);
      const hpt::SearchSpace mixed = hpt::bench::objectives().back().space;
      double uni = ms_per_suggestion(box, Json{{"multivariate", false}}, n, repeats);
      double mv = ms_per_suggestion(box, Json{{"multivariate", true}}, n, repeats);
      double mix = ms_per_suggestion(mixed, Json::object(), n, repeats);
      double hybrid = ms_per_suggestion(box, Json::object(), n, repeats);
      std::printf("speed\t%d\t%.4f\t%.4f\t%.4f\t%.4f\n", n, uni, mv, mix, hybrid);
    }
    return 0;
  }
  if (mode == "run" && argc > 3) {
    const hpt::bench::Objective sphere = hpt::bench::on_box("sphere-5d", 5, -5, 5, 0.0, [](const auto& x) {
      double s = 0;
      for (double v : x) {
        s += v * v;
      }
      return s;
    });
    for (int i = 4; i < argc; ++i) {
      const int n = std::atoi(argv[i]);
      auto sampler = hpt::make_sampler(argv[2], Json::parse(argv[3]), 1, sphere.space);
      timespec start{};
      timespec end{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
      const double best = best_after(*sampler, sphere, n);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
      const double ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) * 1e-6;
      std::printf("run\t%d\t%.4f\t%g\n", n, ms / n, best);
    }
    return 0;
  }
  std::fprintf(stderr,
               "usage: bench_tpe regret [trials] [seeds] [options-json] [type] | speed [n...] | run "
               "TYPE OPTIONS [n...]\n");
  return 2;
}
