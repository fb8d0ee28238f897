#pragma once
// NSGA-II (Optuna 3.1's NSGAIISampler with its defaults): generations of
// population_size COMPLETE trials; each new trial is a child of two parents chosen by
// binary tournament from the elite of the previous generations (non-domination rank, then
// crowding distance), by uniform crossover, with random mutation.

#include <cstdint>
#include <optional>
#include <vector>

#include "hpt/tuner/sampler.hpp"

namespace hpt {

// The trial system attribute holding a trial's generation (Optuna's key and meaning).
inline constexpr const char* k_nsga2_generation_attr = "nsga2:generation";

struct Nsga2Options {
  int population_size = 50;             // >= 2 (two parents per child).
  std::optional<double> mutation_prob;  // Per parameter; default 1 / number of parameters.
  double crossover_prob = 0.9;          // Else the child copies one parent.
  double swapping_prob = 0.5;           // Per parameter: taken from the second parent.
};

// Reads the config's options (population_size, mutation_prob, crossover, crossover_prob,
// swapping_prob; crossover must be "uniform", Optuna's default). Throws
// std::invalid_argument naming an unknown option or a bad value.
Nsga2Options nsga2_options_from_json(const Json& options);

// Optuna's _select_elite_population: the population_size best of population by
// non-domination rank (fast non-dominated sort, in Optuna's order), the last rank that does
// not fit whole cut by crowding distance (largest first); constrained: ranked by
// constrained_dominates (Optuna's constraints_func). requires: each trial has one value per
// direction.
std::vector<const FrozenTrial*> nsga2_select_elite(std::vector<const FrozenTrial*> population,
                                                   const std::vector<Direction>& directions,
                                                   int population_size, bool constrained = false);

struct Nsga2Parents {
  int generation = -1;                      // The parents' generation; -1: none yet.
  std::vector<const FrozenTrial*> parents;  // Its elite population.
  bool constrained = false;                 // constraints_reported: ranked and chosen so.
};

// Optuna's _collect_parent_population, recomputed from the trials' k_nsga2_generation_attr:
// generation g is complete once it has population_size COMPLETE trials (with one value per
// direction); the elite of each complete generation joined with the previous elite is the
// next parent population. A constrained study (constraints_reported) ranks by
// constrained_dominates, in the elite and in the tournament that picks parents.
Nsga2Parents nsga2_parent_population(const std::vector<FrozenTrial>& trials,
                                     const std::vector<Direction>& directions, int population_size);

class Nsga2Sampler : public Sampler {
 public:
  Nsga2Sampler(Nsga2Options options, uint64_t seed);
  // Sets ctx.system_attrs[k_nsga2_generation_attr] to the parents' generation + 1. The
  // first generation is uniform random; later ones crossover + mutation (mutated, single
  // and parent-less parameters uniform random). Draws from derive_seed(seed,
  // ctx.trial_number, "nsga2"): a resumed study samples the same values.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;

  const Nsga2Options& options() const { return m_options; }

 private:
  Nsga2Options m_options;
  uint64_t m_seed;
};

}  // namespace hpt
