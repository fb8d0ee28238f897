#include <fmt/format.h>

#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/grid_sampler.hpp"
#include "hpt/tuner/nsga2_sampler.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/random_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "hpt/tuner/tpe_sampler.hpp"

namespace hpt {

std::unique_ptr<Sampler> make_sampler(const std::string& type, const Json& options, uint64_t seed,
                                      const SearchSpace& space) {
  if (type == "tpe") {
    return std::make_unique<TpeSampler>(tpe_options_from_json(options), seed);
  }
  if (type == "random") {
    OptionReader("random sampler", options).finish();
    return std::make_unique<RandomSampler>(seed);
  }
  if (type == "grid") {
    OptionReader reader("grid sampler", options);
    Json search_space = reader.get_json("search_space");
    reader.finish();
    return std::make_unique<GridSampler>(space, search_space);
  }
  if (type == "nsga2") {
    return std::make_unique<Nsga2Sampler>(nsga2_options_from_json(options), seed);
  }
  throw std::invalid_argument(
      fmt::format("unknown sampler type '{}'{}; expected tpe, random, grid or nsga2", type,
                  did_you_mean(type, {"tpe", "random", "grid", "nsga2"})));
}

}  // namespace hpt
