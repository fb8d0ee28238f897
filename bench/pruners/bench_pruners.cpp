// bench_pruners <trials> <seeds>: hpt's TPE with each pruner (none, median, successive
// halving, hyperband, patient with patience 5) on the curve families of curves.hpp, one trial at a
// time, a pruning decision after every step (hpt's orchestrator, in process). Prints tab-separated
// lines "pruners <family> <pruner> <mean steps> <se> <mean best> <se>" (BENCH_ONLY=families and
// BENCH_PRUNERS=pruners limit it).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../env_list.hpp"
#include "curves.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/sampler.hpp"

namespace {

using hpt::Json;

struct Outcome {
  double steps = 0;  // Steps reported over the study.
  double best = INFINITY;  // Best COMPLETE final value.
};

Outcome run_study(const hpt::bench::CurveFamily& family, const std::string& pruner_type,
                  const Json& pruner_options, int n_trials, int seed) {
  auto sampler = hpt::make_sampler("tpe", Json::object(), static_cast<uint64_t>(seed), family.space);
  auto pruner = hpt::make_pruner(pruner_type, pruner_options);
  const std::string study_name = "bench-" + std::to_string(seed);
  std::vector<hpt::FrozenTrial> trials;
  Outcome out;
  for (int i = 0; i < n_trials; ++i) {
    const hpt::PruneContext ctx{hpt::Direction::Minimize, &trials, study_name};
    const auto bracket = pruner->sampler_trials(ctx, i);
    auto params = sampler->sample(family.space, {hpt::Direction::Minimize,
                                                 bracket ? &*bracket : &trials, i});
    trials.emplace_back();
    hpt::FrozenTrial& t = trials.back();
    t.number = i;
    t.params = params;
    for (const auto& [name, dist] : family.space) {
      t.distributions[name] = dist;
    }
    double v = 0;
    for (int s = 0; s < hpt::bench::k_steps; ++s) {
      v = family.loss(params, s);
      out.steps += 1;
      trials.back().intermediate_values[s] = v;
      const hpt::FrozenTrial running = trials.back();
      hpt::PruneDecision d = pruner->decide(ctx, running);
      for (const auto& [key, value] : d.system_attrs) {
        trials.back().system_attrs[key] = value;
      }
      if (d.prune) {
        trials.back().state = hpt::TrialState::Pruned;
        break;
      }
    }
    if (trials.back().state != hpt::TrialState::Pruned) {
      trials.back().state = hpt::TrialState::Complete;
      trials.back().value = v;
      out.best = std::min(out.best, v);
    }
  }
  return out;
}

// Whether name is listed in the environment variable (a comma-separated list; unset or empty:
// every name is).
}  // namespace

int main(int argc, char** argv) {
  const int n_trials = argc > 1 ? std::atoi(argv[1]) : 60;
  const int n_seeds = argc > 2 ? std::atoi(argv[2]) : 30;
  const std::vector<std::pair<std::string, Json>> pruners{{"none", Json::object()},
                                                          {"median", Json::object()},
                                                          {"successive_halving", Json::object()},
                                                          {"hyperband", Json::object()},
                                                          {"patient", Json{{"patience", 5}}}};
  for (const auto& family : hpt::bench::curve_families()) {
    if (!hpt::bench::env_list_selects("BENCH_ONLY", family.name)) {
      continue;
    }
    for (const auto& [type, options] : pruners) {
      if (!hpt::bench::env_list_selects("BENCH_PRUNERS", type)) {
        continue;
      }
      double s1 = 0, s2 = 0, b1 = 0, b2 = 0;
      for (int seed = 0; seed < n_seeds; ++seed) {
        const Outcome o = run_study(family, type, options, n_trials, seed);
        s1 += o.steps;
        s2 += o.steps * o.steps;
        b1 += o.best;
        b2 += o.best * o.best;
      }
      const double n = n_seeds;
      const double sm = s1 / n, bm = b1 / n;
      std::printf("pruners\t%s\t%s\t%.1f\t%.3g\t%.5g\t%.3g\n", family.name.c_str(), type.c_str(),
                  sm, std::sqrt(std::max(0.0, s2 / n - sm * sm) / n), bm,
                  std::sqrt(std::max(0.0, b2 / n - bm * bm) / n));
    }
  }
  return 0;
}
