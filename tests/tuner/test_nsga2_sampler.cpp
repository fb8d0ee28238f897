#include <catch2/catch.hpp>
#include <set>

#include "hpt/tuner/nsga2_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FloatDistribution;
using hpt::FrozenTrial;
using hpt::Json;
using hpt::Nsga2Options;
using hpt::Nsga2Sampler;
using hpt::SampleContext;
using hpt::SearchSpace;
using hpt::TrialState;
using hpt::test::numbers;

namespace {

// 20 trials (minimise, maximise) with a duplicate (7 = 2) and a tie in objective 0 (12, 4):
// the population of tests/tuner/optuna_multi_objective_reference.py.
std::vector<FrozenTrial> reference_population() {
  const std::vector<std::vector<double>> vals{
      {0.22, 0.87}, {0.21, 0.92}, {0.49, 0.61}, {0.77, 0.52}, {0.3, 0.19},
      {0.08, 0.74}, {0.44, 0.16}, {0.49, 0.61}, {0.41, 0.3},  {0.63, 0.58},
      {0.6, 0.27},  {0.28, 0.25}, {0.3, 0.14},  {0.17, 0.96}, {0.96, 0.19},
      {0.02, 0.2},  {0.7, 0.78},  {0.02, 0.58}, {0.0, 0.52},  {0.64, 0.99}};
  return hpt::test::complete_with_values(vals);
}

const std::vector<Direction> k_min_max{Direction::Minimize, Direction::Maximize};

}  // namespace

// Optuna 3.1's NSGAIISampler._select_elite_population on the same population prints
// [5, 19, 18, 17, 13, 1, 15, 0] (size 8) and [5, 19, 18, 17, 13, 1, 15, 0, 16, 11, 8, 7, 2]
// (size 13: rank 3 ordered by crowding distance, ties in Optuna's order).
TEST_CASE("NSGA-II elite selection equals Optuna's", "[nsga2]") {
  const auto trials = reference_population();
  std::vector<const FrozenTrial*> population;
  for (const auto& t : trials) {
    population.push_back(&t);
  }
  CHECK(numbers(hpt::nsga2_select_elite(population, k_min_max, 8)) ==
        std::vector<int>{5, 19, 18, 17, 13, 1, 15, 0});
  CHECK(numbers(hpt::nsga2_select_elite(population, k_min_max, 13)) ==
        std::vector<int>{5, 19, 18, 17, 13, 1, 15, 0, 16, 11, 8, 7, 2});
}

// Generations follow the trials' nsga2:generation: generation 0 complete (4 COMPLETE of
// population 4; its FAIL/RUNNING members do not count) gives parents; generation 1 with
// only 3 COMPLETE does not.
TEST_CASE("NSGA-II parent population from generation attributes", "[nsga2]") {
  auto trials = reference_population();
  trials.resize(10);
  for (int i = 0; i < 10; ++i) {
    trials[i].system_attrs[hpt::k_nsga2_generation_attr] = i < 6 ? 0 : 1;
  }
  trials[1].state = TrialState::Fail;
  trials[2].state = TrialState::Running;
  trials[8].state = TrialState::Fail;
  auto parents = hpt::nsga2_parent_population(trials, k_min_max, 4);
  CHECK(parents.generation == 0);
  CHECK(parents.parents.size() == 4);
  for (const auto* p : parents.parents) {
    CHECK(p->number < 6);
    CHECK(p->state == TrialState::Complete);
  }
  trials.push_back(trials[9]);
  trials.back().number = 10;
  trials.back().system_attrs[hpt::k_nsga2_generation_attr] = "1";  // Unreadable: no generation.
  CHECK(hpt::nsga2_parent_population(trials, k_min_max, 4).generation == 0);
  trials.back().system_attrs[hpt::k_nsga2_generation_attr] = 1;
  // Generation 1 now has 4 COMPLETE: its elite joined with generation 0's.
  CHECK(hpt::nsga2_parent_population(trials, k_min_max, 4).generation == 1);
}

// The first generation is random; afterwards, with crossover always and no mutation, each
// parameter comes from an elite parent. The generation is reported for the trial, and the
// same (seed, trial number, history) samples the same values (resumable).
TEST_CASE("NSGA-II sampler: generations, crossover, determinism", "[nsga2]") {
  const SearchSpace space{{"x", FloatDistribution{0, 1, false, {}}},
                          {"y", FloatDistribution{0, 1, false, {}}},
                          {"c", FloatDistribution{2, 2, false, {}}}};
  Nsga2Options o;
  o.population_size = 6;
  o.mutation_prob = 0.0;
  o.crossover_prob = 1.0;
  Nsga2Sampler sampler(o, 3);
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < 30; ++i) {
    std::map<std::string, Json> attrs;
    SampleContext ctx{Direction::Minimize, &trials, i, k_min_max, &attrs};
    const auto params = sampler.sample(space, ctx);
    std::map<std::string, Json> again_attrs;
    SampleContext again{Direction::Minimize, &trials, i, k_min_max, &again_attrs};
    CHECK(sampler.sample(space, again) == params);
    const auto parents = hpt::nsga2_parent_population(trials, k_min_max, 6);
    CHECK(attrs.at(hpt::k_nsga2_generation_attr) == parents.generation + 1);
    CHECK(params.at("c") == 2.0);
    if (parents.generation >= 0) {
      std::set<double> xs;
      std::set<double> ys;
      for (const auto* p : parents.parents) {
        xs.insert(p->params.at("x"));
        ys.insert(p->params.at("y"));
      }
      CHECK(xs.count(params.at("x")) == 1);
      CHECK(ys.count(params.at("y")) == 1);
    }
    FrozenTrial t;
    t.number = i;
    t.state = TrialState::Complete;
    t.params = params;
    t.distributions = {{"x", space[0].second}, {"y", space[1].second}, {"c", space[2].second}};
    t.values = {params.at("x"), params.at("y")};
    t.system_attrs = attrs;
    trials.push_back(t);
  }
  CHECK(hpt::nsga2_parent_population(trials, k_min_max, 6).generation >= 2);
}

// Options: Optuna's ranges and names; one-line errors naming the option.
TEST_CASE("NSGA-II options are validated", "[nsga2]") {
  auto o = hpt::nsga2_options_from_json(Json{{"population_size", 10}, {"mutation_prob", 0.2}});
  CHECK(o.population_size == 10);
  CHECK(o.mutation_prob == 0.2);
  CHECK(hpt::nsga2_options_from_json(Json(nullptr)).population_size == 50);
  CHECK_FALSE(hpt::nsga2_options_from_json(Json(nullptr)).mutation_prob);
  CHECK_THROWS_WITH(hpt::nsga2_options_from_json(Json{{"population_size", 1}}),
                    Catch::Contains("'population_size' must be an integer >= 2"));
  CHECK_THROWS_WITH(hpt::nsga2_options_from_json(Json{{"crossover_prob", 1.5}}),
                    Catch::Contains("'crossover_prob' must be a number in [0, 1]"));
  CHECK_THROWS_WITH(hpt::nsga2_options_from_json(Json{{"crossover", "sbx"}}),
                    Catch::Contains("must be \"uniform\""));
  // A count beyond an int is refused, not wrapped (2^32 + 2 used to become 2).
  CHECK_THROWS_WITH(hpt::nsga2_options_from_json(Json{{"population_size", 4294967298LL}}),
                    Catch::Contains("must be at most 1000000, but got 4294967298"));
  CHECK_THROWS_WITH(hpt::nsga2_options_from_json(Json{{"populaton_size", 10}}),
                    Catch::Contains("did you mean 'population_size'"));
}
