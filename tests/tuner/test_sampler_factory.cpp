#include <catch2/catch.hpp>

#include "hpt/tuner/cmaes_sampler.hpp"
#include "hpt/tuner/grid_sampler.hpp"
#include "hpt/tuner/nsga2_sampler.hpp"
#include "hpt/tuner/qmc_sampler.hpp"
#include "hpt/tuner/random_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "hpt/tuner/tpe_sampler.hpp"

using hpt::Json;

namespace {

hpt::SearchSpace space() { return {{"c", hpt::CategoricalDistribution{{1, 2}}}}; }

}  // namespace

// Each known type builds its sampler with its options.
TEST_CASE("make_sampler builds tpe, random and grid", "[factory]") {
  auto tpe = hpt::make_sampler("tpe", Json{{"multivariate", true}}, 1, space());
  REQUIRE(dynamic_cast<hpt::TpeSampler*>(tpe.get()));
  CHECK(dynamic_cast<hpt::TpeSampler*>(tpe.get())->options().multivariate);
  CHECK(dynamic_cast<hpt::RandomSampler*>(hpt::make_sampler("random", Json(), 1, space()).get()));
  auto grid = hpt::make_sampler("grid", Json{{"search_space", {{"c", {2}}}}}, 1, space());
  REQUIRE(dynamic_cast<hpt::GridSampler*>(grid.get()));
  CHECK(dynamic_cast<hpt::GridSampler*>(grid.get())->size() == 1);
  auto nsga2 = hpt::make_sampler("nsga2", Json{{"population_size", 8}}, 1, space());
  REQUIRE(dynamic_cast<hpt::Nsga2Sampler*>(nsga2.get()));
  CHECK(dynamic_cast<hpt::Nsga2Sampler*>(nsga2.get())->options().population_size == 8);
  auto cmaes = hpt::make_sampler("cmaes", Json{{"popsize", 8}}, 1, space());
  REQUIRE(dynamic_cast<hpt::CmaEsSampler*>(cmaes.get()));
  CHECK_FALSE(cmaes->supports_multi_objective());
  CHECK(dynamic_cast<hpt::QmcSampler*>(hpt::make_sampler("qmc", Json(), 1, space()).get()));
  CHECK(tpe->supports_multi_objective());
}

// Unknown types and options get one-line messages with a suggestion.
TEST_CASE("make_sampler error messages", "[factory]") {
  CHECK_THROWS_WITH(
      hpt::make_sampler("tpee", Json(), 1, space()),
      "unknown sampler type 'tpee' (did you mean 'tpe'?); expected tpe, random, grid, nsga2, "
      "cmaes, qmc or gp");
  CHECK_THROWS_WITH(hpt::make_sampler("random", Json{{"seed", 3}}, 1, space()),
                    "unknown random sampler option 'seed'");
  CHECK_THROWS_WITH(hpt::make_sampler("grid", Json{{"search_spaces", Json::object()}}, 1, space()),
                    "unknown grid sampler option 'search_spaces' (did you mean 'search_space'?)");
  CHECK_THROWS_WITH(hpt::make_sampler("tpe", Json{{"constant_liar", "yes"}}, 1, space()),
                    "tpe sampler option 'constant_liar' must be true or false, but got \"yes\"");
}
