#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/tuner/cmaes_sampler.hpp"
#include "hpt/tuner/gp_sampler.hpp"
#include "hpt/tuner/grid_sampler.hpp"
#include "hpt/tuner/nsga2_sampler.hpp"
#include "hpt/tuner/options.hpp"
#include "hpt/tuner/qmc_sampler.hpp"
#include "hpt/tuner/random_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "hpt/tuner/tpe_sampler.hpp"

namespace hpt {

SamplerChoice read_independent_sampler(OptionReader& r, const std::string& what,
                                       const SearchSpace& space) {
  SamplerChoice out;
  const Json given = r.get_json("independent_sampler");
  const std::string at = fmt::format("{} option 'independent_sampler'", what);
  if (given.is_string()) {
    out.type = given.get<std::string>();
  } else if (given.is_object() && given.contains("type") && given["type"].is_string()) {
    out.type = given["type"].get<std::string>();
    out.options = given;
    out.options.erase("type");
  } else if (!given.is_null()) {
    throw std::invalid_argument(
        fmt::format("{} must be random, tpe or {{type: tpe, ...}}, but got {}", at, given.dump()));
  }
  if (out.type != "random" && out.type != "tpe") {
    throw std::invalid_argument(fmt::format("{}: '{}'{} cannot be one; expected random or tpe", at,
                                            out.type, did_you_mean(out.type, {"random", "tpe"})));
  }
  try {
    make_sampler(out.type, out.options, 0, space);  // Its options' errors.
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", at, e.what()));
  }
  return out;
}

std::unique_ptr<Sampler> make_sampler(const SamplerChoice& choice, uint64_t seed) {
  return make_sampler(choice.type, choice.options, seed, {});
}

std::map<std::string, double> sample_rest(Sampler& independent, const SearchSpace& space,
                                          const std::vector<size_t>& taken,
                                          const SampleContext& ctx) {
  SearchSpace rest;
  for (size_t p = 0; p < space.size(); ++p) {
    if (std::find(taken.begin(), taken.end(), p) == taken.end()) {
      rest.push_back(space[p]);
    }
  }
  return rest.empty() ? std::map<std::string, double>{} : independent.sample(rest, ctx);
}

const std::vector<std::string>& sampler_types() {
  static const std::vector<std::string> k_types = {"tpe",   "random", "grid",
                                                   "nsga2", "cmaes",  "qmc",
                                                   "gp"};
  return k_types;
}

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
  if (type == "cmaes") {
    return std::make_unique<CmaEsSampler>(cmaes_options_from_json(options, space), seed);
  }
  if (type == "qmc") {
    return std::make_unique<QmcSampler>(qmc_options_from_json(options, space), seed);
  }
  if (type == "gp") {
    return std::make_unique<GpSampler>(gp_options_from_json(options, space), seed);
  }
  const auto& types = sampler_types();
  throw std::invalid_argument(
      fmt::format("unknown sampler type '{}'{}; expected {} or {}", type, did_you_mean(type, types),
                  fmt::join(types.begin(), std::prev(types.end()), ", "), types.back()));
}

}  // namespace hpt
