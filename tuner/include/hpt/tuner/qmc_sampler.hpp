#pragma once
// Quasi-Monte Carlo sampling (Optuna's QMCSampler): the float and int parameters of trial n are
// point n of a Sobol' or Halton sequence over their ranges, which fills the space more evenly
// than independent uniform draws; categoricals come from an independent sampler.

#include <cstdint>
#include <memory>
#include <string>

#include "hpt/tuner/sampler.hpp"

namespace hpt {

struct QmcOptions {
  std::string qmc_type = "sobol";  // sobol (at most 128 float/int parameters) or halton.
  bool scramble = false;           // Randomised from the sampler's seed (Optuna's default: off).
  SamplerChoice independent;       // For categoricals.
};

// Reads the config's options (qmc_type, scramble, independent_sampler) against space. Throws
// std::invalid_argument naming an unknown option, a bad value or a space sobol cannot serve.
QmcOptions qmc_options_from_json(const Json& options, const SearchSpace& space);

// Optuna's study system attribute counting the points its QMCSampler drew: "sobol
// (scramble=False)'s last sample id" (unscrambled; a scrambled sequence is hpt's own).
std::string qmc_counter_attr(const std::string& qmc_type);

class QmcSampler : public Sampler {
 public:
  QmcSampler(QmcOptions options, uint64_t seed);
  ~QmcSampler() override;
  // The float/int parameters that vary, in space order, from point ctx.trial_number of the
  // sequence scaled to their transformed ranges (log, stepped and int ones as the random sampler
  // maps [0, 1)); the others from the independent sampler. A function of (seed, space, trial
  // number): parallel and resumed trials need no shared counter. Unscrambled (the points are
  // Optuna's), it raises Optuna's counter qmc_counter_attr() to the trial number in
  // ctx.study_counters, so that Optuna continuing the study samples the next points.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;
  std::string space_warning(const SearchSpace& space) const override;

 private:
  struct Sequence;
  QmcOptions m_options;
  uint64_t m_seed;
  std::unique_ptr<Sampler> m_independent;
  std::unique_ptr<Sequence> m_sequence;  // Made for the first space sampled, kept while it fits.
};

}  // namespace hpt
