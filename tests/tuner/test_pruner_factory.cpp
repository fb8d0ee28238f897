#include <catch2/catch.hpp>

#include "hpt/tuner/hyperband_pruner.hpp"
#include "hpt/tuner/percentile_pruner.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/successive_halving_pruner.hpp"

using hpt::Json;

// median / percentile / none build; "none" never prunes.
TEST_CASE("make_pruner builds each pruner", "[factory]") {
  CHECK(dynamic_cast<hpt::PercentilePruner*>(hpt::make_pruner("median", Json()).get()));
  CHECK(dynamic_cast<hpt::PercentilePruner*>(
      hpt::make_pruner("percentile", Json{{"percentile", 25}, {"n_warmup_steps", 2}}).get()));
  CHECK(dynamic_cast<hpt::SuccessiveHalvingPruner*>(
      hpt::make_pruner("successive_halving", Json{{"min_resource", 2}}).get()));
  CHECK(dynamic_cast<hpt::HyperbandPruner*>(hpt::make_pruner("hyperband", Json()).get()));
  auto none = hpt::make_pruner("none", Json());
  hpt::FrozenTrial t;
  t.intermediate_values[0] = NAN;
  CHECK_FALSE(none->prune(hpt::Direction::Minimize, {}, t));
  auto o = hpt::percentile_options_from_json("median", Json{{"n_startup_trials", 0}}, 50.0);
  CHECK(o.percentile == 50.0);
  CHECK(o.n_startup_trials == 0);
}

// Unknown types, missing / out-of-range / unknown options are named in the message.
TEST_CASE("make_pruner error messages", "[factory]") {
  CHECK_THROWS_WITH(hpt::make_pruner("medain", Json()),
                    "unknown pruner type 'medain' (did you mean 'median'?); expected median, "
                    "percentile, successive_halving, hyperband, threshold, patient or none");
  CHECK_THROWS_WITH(hpt::make_pruner("hyperbnd", Json()),
                    "unknown pruner type 'hyperbnd' (did you mean 'hyperband'?); expected median, "
                    "percentile, successive_halving, hyperband, threshold, patient or none");
  CHECK_THROWS_WITH(hpt::make_pruner("percentile", Json()),
                    "percentile pruner needs option 'percentile' (a number in [0, 100])");
  CHECK_THROWS_WITH(
      hpt::make_pruner("percentile", Json{{"percentile", 101}}),
      "percentile pruner option 'percentile' must be a number in [0, 100], but got 101");
  CHECK_THROWS_WITH(hpt::make_pruner("median", Json{{"percentile", 30}}),
                    "unknown median pruner option 'percentile'");
  CHECK_THROWS_WITH(
      hpt::make_pruner("median", Json{{"n_warmup_step", 3}}),
      "unknown median pruner option 'n_warmup_step' (did you mean 'n_warmup_steps'?)");
  CHECK_THROWS_WITH(hpt::make_pruner("median", Json{{"interval_steps", 0}}),
                    "median pruner option 'interval_steps' must be an integer >= 1, but got 0");
}
