#pragma once
// Gaussian-process Bayesian optimisation (Optuna's GPSampler, single objective): a GP fitted to
// the COMPLETE trials (gaussian_process.hpp), and the next point where the log expected
// improvement is largest (gp_acquisition.hpp). Trials still running count as observed at the
// GP's mean there (Kriging believer), so parallel workers do not all propose one point.

#include <cstdint>
#include <memory>

#include "hpt/tuner/sampler.hpp"

namespace hpt {

struct GpOptions {
  int n_startup_trials = 10;           // COMPLETE trials sampled by the independent sampler.
  bool deterministic_objective = false;  // Noise fixed at its minimum.
  SamplerChoice independent;           // For the startup trials.
};

// Reads the config's options (n_startup_trials, deterministic_objective, independent_sampler)
// against space. Throws std::invalid_argument naming an unknown option or a bad value.
GpOptions gp_options_from_json(const Json& options, const SearchSpace& space);

class GpSampler : public Sampler {
 public:
  GpSampler(GpOptions options, uint64_t seed);
  ~GpSampler() override;
  // Once n_startup_trials COMPLETE trials hold every parameter of space, each parameter that
  // varies comes from the GP (drawn with derive_seed(seed, ctx.trial_number, "gp")); before, the
  // independent sampler samples. Throws std::invalid_argument for a multi-objective study.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;
  bool supports_multi_objective() const override { return false; }
  bool ignores_constraints() const override { return true; }

 private:
  GpOptions m_options;
  uint64_t m_seed;
  std::unique_ptr<Sampler> m_independent;
};

}  // namespace hpt
