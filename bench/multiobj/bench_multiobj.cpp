// bench_multiobj [trials] [seeds]: hypervolume after `trials` sequential trials of hpt's
// multi-objective samplers (MOTPE = the default tpe, NSGA-II with its defaults) on each
// problem of problems.hpp, over seeds 0..seeds-1. Prints tab-separated lines
// "<problem>\t<sampler>\t<mean>\t<standard error>". (BENCH_ONLY=tpe or nsga2 limits samplers.)

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../env_list.hpp"
#include "hpt/tuner/hypervolume.hpp"
#include "hpt/tuner/sampler.hpp"
#include "problems.hpp"

namespace {

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::Json;

// The hypervolume of the points that dominate the reference point.
double hypervolume_inside(const std::vector<std::vector<double>>& points,
                          const std::vector<double>& reference) {
  std::vector<hpt::Point> inside;
  for (const auto& p : points) {
    bool in = true;
    for (size_t i = 0; i < p.size(); ++i) {
      in = in && p[i] < reference[i];
    }
    if (in) {
      inside.push_back(p);
    }
  }
  return hpt::hypervolume(inside, reference);
}

double run(const std::string& type, const hpt::bench::Problem& problem, int n, uint64_t seed) {
  auto sampler = hpt::make_sampler(type, Json::object(), seed, problem.space);
  const std::vector<Direction> directions(problem.reference.size(), Direction::Minimize);
  std::vector<FrozenTrial> trials;
  std::vector<std::vector<double>> points;
  for (int i = 0; i < n; ++i) {
    std::map<std::string, Json> attrs;
    auto params = sampler->sample(
        problem.space, hpt::SampleContext{Direction::Minimize, &trials, i, directions, &attrs});
    std::vector<double> x;
    for (const auto& [name, dist] : problem.space) {
      x.push_back(params.at(name));
    }
    FrozenTrial t;
    t.number = i;
    t.state = hpt::TrialState::Complete;
    t.values = problem.f(x);
    t.params = std::move(params);
    t.system_attrs = std::move(attrs);
    points.push_back(t.values);
    trials.push_back(std::move(t));
  }
  return hypervolume_inside(points, problem.reference);
}

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 100;
  const int seeds = argc > 2 ? std::atoi(argv[2]) : 30;
  if (trials < 1 || seeds < 2) {
    std::fprintf(stderr, "usage: bench_multiobj [trials >= 1] [seeds >= 2]\n");
    return 2;
  }
  for (const auto& problem : hpt::bench::problems()) {
    for (const std::string type : {"tpe", "nsga2"}) {
      if (!hpt::bench::env_list_selects("BENCH_ONLY", type)) {
        continue;
      }
      double sum = 0;
      double sum2 = 0;
      for (int seed = 0; seed < seeds; ++seed) {
        const double hv = run(type, problem, trials, static_cast<uint64_t>(seed));
        sum += hv;
        sum2 += hv * hv;
      }
      const double mean = sum / seeds;
      const double var = std::max(0.0, (sum2 - seeds * mean * mean) / (seeds - 1));
      std::printf("%s\t%s\t%.4f\t%.4f\n", problem.name.c_str(), type.c_str(), mean,
                  std::sqrt(var / seeds));
      std::fflush(stdout);
    }
  }
  return 0;
}
