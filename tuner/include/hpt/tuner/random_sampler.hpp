#pragma once
// Uniform sampling in each parameter's transformed space (log, step, int, categorical).

#include <cstdint>

#include "hpt/tuner/sampler.hpp"

namespace hpt {

class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(uint64_t seed) : m_seed(seed) {}
  // Draws from derive_seed(seed, ctx.trial_number, "random"); ignores the history.
  std::map<std::string, double> sample(const SearchSpace& space, const SampleContext& ctx) override;

 private:
  uint64_t m_seed;
};

}  // namespace hpt
