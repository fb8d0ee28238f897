// bench_constraints [trials] [seeds]: hpt's constrained search (workers' "constraints", the
// tuner's constrained TPE split and NSGA-II's constrained domination) on the problems of
// problems.hpp, over seeds 0..seeds-1. For one objective: the best feasible value after `trials`
// sequential trials (a seed with no feasible trial scores the problem's worst feasible value,
// see bench_optuna.py: it never happened in the README's runs); for two: the hypervolume of
// the feasible trials. Prints tab-separated lines "<problem>\t<sampler>\t<mean>\t<standard
// error>\t<feasible fraction>\t<seeds without a feasible trial>\t<Optuna's sampler to compare
// with>": hpt's default tpe, and (one objective, where hpt's default is multivariate) tpe with
// Optuna 3.1's defaults, multivariate: false. (BENCH_ONLY=tpe or nsga2 limits samplers.)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../env_list.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/hypervolume.hpp"
#include "hpt/tuner/sampler.hpp"
#include "problems.hpp"

namespace {

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::Json;

struct Score {
  double score;
  double feasible_fraction;
};

Score run(const std::string& type, const Json& options,
          const hpt::bench::ConstrainedProblem& problem, int n, uint64_t seed) {
  auto sampler = hpt::make_sampler(type, options, seed, problem.space);
  const size_t n_objectives = problem.reference.empty() ? 1 : problem.reference.size();
  const std::vector<Direction> directions(n_objectives, Direction::Minimize);
  std::vector<FrozenTrial> trials;
  std::vector<hpt::Point> feasible_points;
  double best = INFINITY;
  int feasible = 0;
  for (int i = 0; i < n; ++i) {
    std::map<std::string, Json> attrs;
    auto params = sampler->sample(
        problem.space, hpt::SampleContext{Direction::Minimize, &trials, i, directions, &attrs});
    const auto e = problem.f(params.at("x"), params.at("y"));
    FrozenTrial t;
    t.number = i;
    t.state = hpt::TrialState::Complete;
    t.values = e.values;
    if (n_objectives == 1) {
      t.value = e.values[0];
    }
    t.params = std::move(params);
    t.system_attrs = std::move(attrs);
    t.system_attrs[hpt::k_constraints_attr] = e.constraints;
    if (hpt::is_feasible(t)) {
      ++feasible;
      best = std::min(best, e.values[0]);
      bool inside = true;
      for (size_t k = 0; k < problem.reference.size(); ++k) {
        inside = inside && e.values[k] < problem.reference[k];
      }
      if (inside && n_objectives > 1) {
        feasible_points.push_back(e.values);
      }
    }
    trials.push_back(std::move(t));
  }
  const double score = n_objectives > 1 ? hpt::hypervolume(feasible_points, problem.reference)
                                        : (std::isfinite(best) ? best : NAN);
  return {score, static_cast<double>(feasible) / n};
}

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 100;
  const int seeds = argc > 2 ? std::atoi(argv[2]) : 20;
  if (trials < 1 || seeds < 2) {
    std::fprintf(stderr, "usage: bench_constraints [trials >= 1] [seeds >= 2]\n");
    return 2;
  }
  struct Variant {
    std::string label;
    std::string type;
    Json options;
  };
  const std::vector<Variant> variants{
      {"tpe", "tpe", Json::object()},
      {"tpe, multivariate: false", "tpe", {{"multivariate", false}}},
      {"nsga2", "nsga2", Json::object()}};
  for (const auto& problem : hpt::bench::constrained_problems()) {
    for (const Variant& v : variants) {
      const bool several = !problem.reference.empty();
      if (!hpt::bench::env_list_selects("BENCH_ONLY", v.type) || (v.type == "nsga2" && !several) ||
          (several && v.label != v.type)) {
        continue;  // NSGA-II is for several objectives; there hpt's tpe is univariate already.
      }
      double sum = 0;
      double sum2 = 0;
      double feasible = 0;
      int scored = 0;
      for (int seed = 0; seed < seeds; ++seed) {
        const Score s = run(v.type, v.options, problem, trials, static_cast<uint64_t>(seed));
        feasible += s.feasible_fraction;
        if (!std::isnan(s.score)) {
          sum += s.score;
          sum2 += s.score * s.score;
          ++scored;
        }
      }
      const double mean = sum / std::max(scored, 1);
      const double var =
          scored > 1 ? std::max(0.0, (sum2 - scored * mean * mean) / (scored - 1)) : 0;
      std::printf("%s\t%s\t%.4f\t%.4f\t%.2f\t%d\t%s\n", problem.name.c_str(), v.label.c_str(), mean,
                  std::sqrt(var / std::max(scored, 1)), feasible / seeds, seeds - scored,
                  v.type.c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}
