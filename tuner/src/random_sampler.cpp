#include "hpt/tuner/random_sampler.hpp"

#include "hpt/tuner/param_transform.hpp"

namespace hpt {

std::map<std::string, double> RandomSampler::sample(const SearchSpace& space,
                                                    const SampleContext& ctx) {
  Rng rng(derive_seed(m_seed, ctx.trial_number, "random"));
  std::map<std::string, double> result;
  for (const auto& [name, dist] : space) {
    result[name] = sample_uniform(make_transform(dist), rng);
  }
  return result;
}

}  // namespace hpt
