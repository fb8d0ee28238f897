#pragma once
// Samplers propose a trial's parameters from the study's history (Optuna's
// BaseSampler, for hpt's static search spaces).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

struct SampleContext {
  Direction direction = Direction::Minimize;
  // Every trial of the study (any state), including RUNNING ones of other workers.
  const std::vector<FrozenTrial>* trials = nullptr;
  int trial_number = 0;  // The trial being sampled; it is excluded from *trials' use.
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Returns an internal value for every parameter of space, each inside its
  // distribution. Deterministic given (seed, space, trials, trial_number).
  virtual std::map<std::string, double> sample(const SearchSpace& space,
                                               const SampleContext& ctx) = 0;
};

// Builds a sampler from its config: type "tpe", "random" or "grid" and its options
// (a JSON object). Throws std::invalid_argument naming an unknown type or option.
std::unique_ptr<Sampler> make_sampler(const std::string& type, const Json& options, uint64_t seed,
                                      const SearchSpace& space);

}  // namespace hpt
