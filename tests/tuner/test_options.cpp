#include <catch2/catch.hpp>

#include "hpt/tuner/options.hpp"

using hpt::Json;
using hpt::OptionReader;

// Typed getters return values or defaults, and unknown keys are rejected with a hint.
TEST_CASE("option reader reads typed values and rejects unknown keys", "[options]") {
  OptionReader r("tpe sampler", Json{{"a", 3}, {"b", true}, {"c", 0.5}});
  CHECK(r.get_int("a", 0, 0) == 3);
  CHECK(r.get_bool("b", false));
  CHECK(r.get_double("c", 1.0, 0.0, 1.0) == 0.5);
  CHECK(r.get_int("absent", 7, 0) == 7);
  CHECK_NOTHROW(r.finish());

  OptionReader typo("tpe sampler", Json{{"n_startup_trial", 3}});
  typo.get_int("n_startup_trials", 10, 0);
  CHECK_THROWS_WITH(
      typo.finish(),
      "unknown tpe sampler option 'n_startup_trial' (did you mean 'n_startup_trials'?)");
}

// Wrong types and out-of-range values name the option and the value received.
TEST_CASE("option reader names the culprit of a type error", "[options]") {
  OptionReader r("median pruner", Json{{"n", "x"}, {"b", 1}, {"d", 2.5}, {"f", 1.5}});
  CHECK_THROWS_WITH(r.get_int("n", 0, 0),
                    "median pruner option 'n' must be an integer >= 0, but got \"x\"");
  CHECK_THROWS_WITH(r.get_bool("b", false),
                    "median pruner option 'b' must be true or false, but got 1");
  CHECK_THROWS_WITH(r.get_double("d", 0.0, 0.0, 1.0),
                    "median pruner option 'd' must be a number in [0, 1], but got 2.5");
  CHECK_THROWS_WITH(r.get_int("f", 0, 0),
                    "median pruner option 'f' must be an integer >= 0, but got 1.5");
  CHECK_THROWS_AS(OptionReader("x", Json::array()), std::invalid_argument);
  CHECK_NOTHROW(OptionReader("x", Json()).finish());
}
