#pragma once
// CMA-ES for the float and int parameters (Optuna's CmaEsSampler, on the [0, 1]-scaled space
// Optuna uses since 3.2), another sampler for the rest (categoricals, single values).
// A function of the trials, as hpt's other samplers: the optimiser is rebuilt from the trials'
// generation attributes (Optuna's keys) by telling each complete generation again (memoised
// between calls: the memo is only a cache).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/cma.hpp"
#include "hpt/tuner/param_transform.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

// The trial system attribute holding a trial's CMA-ES generation: Optuna's "cma:generation", or
// "cma:restart_<r>:generation" under restart_strategy ipop (with "cma:n_restarts" = r).
std::string cmaes_generation_attr(bool restarts, int restart);
inline constexpr const char* k_cmaes_restarts_attr = "cma:n_restarts";

struct CmaEsOptions {
  std::map<std::string, double> x0;     // Internal values of some float/int parameters; the
                                        // others start at the middle of their range.
  double sigma0 = 1.0 / 6;              // On the [0, 1]-scaled space.
  int n_startup_trials = 1;             // Finished trials sampled by the independent sampler.
  SamplerChoice independent;            // For what CMA-ES does not sample.
  bool consider_pruned_trials = false;  // A PRUNED trial counts with its last step's value.
  bool ipop = false;                    // restart_strategy: ipop.
  int popsize = 0;                      // 0: 4 + ⌊3 ln n⌋.
  int inc_popsize = 2;                  // Population factor at each ipop restart.
};

// Reads the config's options (x0, sigma0, n_startup_trials, independent_sampler,
// consider_pruned_trials, restart_strategy, popsize, inc_popsize) against space. Throws
// std::invalid_argument naming an unknown option, a bad value, an x0 entry that is not a float
// or int parameter of space or lies outside its range, and Optuna options hpt does not offer.
CmaEsOptions cmaes_options_from_json(const Json& options, const SearchSpace& space);

class CmaEsSampler : public Sampler {
 public:
  CmaEsSampler(CmaEsOptions options, uint64_t seed);
  ~CmaEsSampler() override;
  // Once n_startup_trials trials are finished and two or more float/int parameters vary, those
  // come from the CMA-ES of the trials' generations (generation g is told once population_size
  // of its trials are finished, the first finished first), drawn with derive_seed(seed,
  // ctx.trial_number, "cmaes"); ctx.system_attrs gets the generation. Everything else comes from
  // the independent sampler. Throws std::invalid_argument for a multi-objective study.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;
  bool supports_multi_objective() const override { return false; }
  bool ignores_constraints() const override { return true; }
  std::string space_warning(const SearchSpace& space) const override;

 private:
  struct Replay;
  // The optimiser after every generation the finished trials complete (each with its value to
  // minimise), from the memo where it still holds.
  Replay& replay(const SearchSpace& space, const std::vector<size_t>& params,
                 std::vector<std::pair<const FrozenTrial*, double>> finished);
  // A new optimiser for the parameters names: at x0 (else the middle) for restart 0, at a random
  // point for later ones (ipop).
  Cma fresh_optimizer(const std::vector<std::string>& names,
                      const std::vector<ParamTransform>& transforms, int restart,
                      int popsize) const;

  CmaEsOptions m_options;
  uint64_t m_seed;
  std::unique_ptr<Sampler> m_independent;
  std::unique_ptr<Replay> m_replay;  // The optimiser after the generations told so far.
};

}  // namespace hpt
