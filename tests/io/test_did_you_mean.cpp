#include <catch2/catch.hpp>

#include "hpt/io/did_you_mean.hpp"

using hpt::did_you_mean;
using hpt::near_miss;

// Near misses are suggested only when close: up to max(2, length / 3) edits.
TEST_CASE("near_miss suggests only close names", "[io]") {
  CHECK(near_miss("lerning_rate", {"learning_rate", "margin"}) ==
        std::optional<std::string>("learning_rate"));
  CHECK(near_miss("tpee", {"tpe", "random", "grid"}) == std::optional<std::string>("tpe"));
  CHECK(near_miss("medain", {"median", "percentile"}) == std::optional<std::string>("median"));
  CHECK_FALSE(near_miss("zzzzzz", {"learning_rate", "margin"}));
  CHECK_FALSE(near_miss("bayesian", {"tpe", "random", "grid"}));
  // Three edits are too many for a short word (the old tuner rule suggested 'tpe' here).
  CHECK_FALSE(near_miss("abc", {"tpe"}));
  // ... and three are few for a long one: 16 characters allow 5 edits.
  CHECK(near_miss("n_startup_trailz", {"n_startup_trials"}) ==
        std::optional<std::string>("n_startup_trials"));
  CHECK_FALSE(near_miss("x", {}));
}

// Equally close candidates: the first one wins.
TEST_CASE("near_miss prefers the first of equally close names", "[io]") {
  CHECK(near_miss("ab", {"ac", "ad"}) == std::optional<std::string>("ac"));
}

// The formatted hint, or nothing.
TEST_CASE("did_you_mean formats the hint", "[io]") {
  CHECK(did_you_mean("nmae", {"name", "objective"}) == " (did you mean 'name'?)");
  CHECK(did_you_mean("bayesian", {"tpe", "random"}).empty());
}
