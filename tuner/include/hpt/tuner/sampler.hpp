#pragma once
// Samplers propose a trial's parameters from the study's history (Optuna's
// BaseSampler, for hpt's static search spaces).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

struct SampleContext {
  // (A constructor rather than an aggregate, so that callers may leave out the last fields.)
  SampleContext(Direction direction_ = Direction::Minimize,
                const std::vector<FrozenTrial>* trials_ = nullptr, int trial_number_ = 0,
                std::vector<Direction> directions_ = {},
                std::map<std::string, Json>* system_attrs_ = nullptr,
                std::map<std::string, int64_t>* study_counters_ = nullptr)
      : direction(direction_),
        trials(trials_),
        trial_number(trial_number_),
        directions(std::move(directions_)),
        system_attrs(system_attrs_),
        study_counters(study_counters_) {}

  Direction direction = Direction::Minimize;
  // Every trial of the study (any state), including RUNNING ones of other workers.
  const std::vector<FrozenTrial>* trials = nullptr;
  int trial_number = 0;  // The trial being sampled; it is excluded from *trials' use.
  // Every objective's direction (a multi-objective study has several); empty means
  // {direction}. See objective_directions().
  std::vector<Direction> directions;
  // Where a sampler puts system attributes to store on the sampled trial (NSGA-II's
  // "nsga2:generation"); null when the caller stores none.
  std::map<std::string, Json>* system_attrs = nullptr;
  // Where a sampler puts study system attributes that count (Optuna's QMC "last sample id"): the
  // caller stores each where it is above the study's value; null when the caller stores none.
  std::map<std::string, int64_t>* study_counters = nullptr;

  // directions, or {direction} when it is empty.
  std::vector<Direction> objective_directions() const {
    return directions.empty() ? std::vector<Direction>{direction} : directions;
  }
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Returns an internal value for every parameter of space, each inside its
  // distribution. Deterministic given (seed, space, trials, trial_number).
  virtual std::map<std::string, double> sample(const SearchSpace& space,
                                               const SampleContext& ctx) = 0;
  // Whether the sampler has nothing new to propose after trials (a grid whose every point a
  // COMPLETE, PRUNED or RUNNING trial holds): no new trial starts, and once none runs the study
  // ends, as Optuna's GridSampler stops it.
  virtual bool exhausted(const std::vector<FrozenTrial>& /*trials*/) const { return false; }
  // Whether the sampler serves studies of several objectives (CMA-ES does not: sample throws).
  virtual bool supports_multi_objective() const { return true; }
  // Whether the sampler learns from the trials without their constraint values (CMA-ES and
  // the GP, as Optuna 3.1's): a constrained study is told so. tpe and nsga2 use them; random,
  // grid and qmc learn nothing from the trials.
  virtual bool ignores_constraints() const { return false; }
  // What a user should know before sampling space ("" if nothing): CMA-ES on fewer than two
  // float/int parameters leaves them all to its independent sampler.
  virtual std::string space_warning(const SearchSpace& /*space*/) const { return ""; }
};

class OptionReader;

// A sampler named in another's options: CMA-ES's and QMC's independent_sampler.
struct SamplerChoice {
  std::string type = "random";  // random or tpe
  Json options = Json::object();
};

// Reads r's option independent_sampler (random, tpe, or {type: tpe, ...} with TPE's options) for
// the sampler what names, its options checked against space. Throws std::invalid_argument
// naming the option.
SamplerChoice read_independent_sampler(OptionReader& r, const std::string& what,
                                       const SearchSpace& space);

// The parameters of space not at the indices taken, sampled by independent (empty when every
// parameter is taken): what CMA-ES, QMC and the GP leave to their independent sampler.
std::map<std::string, double> sample_rest(Sampler& independent, const SearchSpace& space,
                                          const std::vector<size_t>& taken,
                                          const SampleContext& ctx);

// The sampler types make_sampler builds, in the order messages list them.
const std::vector<std::string>& sampler_types();
// Builds a sampler from its config: one of sampler_types() and its options (a JSON object).
// Throws std::invalid_argument naming an unknown type or option.
std::unique_ptr<Sampler> make_sampler(const std::string& type, const Json& options, uint64_t seed,
                                      const SearchSpace& space);
// The independent sampler choice names, with the study's seed (CMA-ES's, QMC's and the GP's).
std::unique_ptr<Sampler> make_sampler(const SamplerChoice& choice, uint64_t seed);

}  // namespace hpt
