#pragma once
// The Tree-structured Parzen Estimator sampler (Optuna 3.1's TPESampler, with its
// defaults), univariate or multivariate, with the constant liar for parallel workers.

#include <cstdint>

#include "hpt/tuner/parzen_estimator.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

constexpr int k_auto_multivariate_params = 3;

struct TpeOptions {
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  bool multivariate = false;
  // "multivariate: auto": joint sampling when the space has at least
  // k_auto_multivariate_params non-single parameters, univariate below (bench/tpe: joint
  // bandwidths lose on 2-D functions, win on most 3-10-D ones).
  bool multivariate_auto = false;
  bool constant_liar = true;  // RUNNING trials of other workers count as "bad".
  ParzenOptions parzen;
};

// Reads the config's options object (null = defaults). Throws std::invalid_argument
// naming an unknown option (with a suggestion) or a wrongly typed value.
TpeOptions tpe_options_from_json(const Json& options);

class TpeSampler : public Sampler {
 public:
  TpeSampler(TpeOptions options, uint64_t seed);
  // Random (same seed stream) until n_startup_trials trials are COMPLETE or PRUNED;
  // then for each parameter (or all jointly, multivariate) the best of n_ei_candidates
  // draws from the good trials' estimator l(x) by l(x) / g(x).
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;

  const TpeOptions& options() const { return m_options; }

 private:
  TpeOptions m_options;
  uint64_t m_seed;
};

}  // namespace hpt
