#include <catch2/catch.hpp>
#include <limits>

#include "hpt/tuner/options.hpp"
#include "hpt/tuner/percentile_pruner.hpp"

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

// Huge and non-finite floats are refused with one line before any cast to int64 (1e300 used
// to reach static_cast<int64_t>), and an upper bound keeps a count inside an int.
TEST_CASE("option reader bounds integers before casting", "[options]") {
  OptionReader r("median pruner", Json{{"huge", 1e300},
                                       {"neg", -1e300},
                                       {"big", 9223372036854775808.0},
                                       {"u", 18446744073709551615ULL},
                                       {"max", 9223372036854775807LL},
                                       {"int", 3000000000LL},
                                       {"f", 4.0}});
  CHECK_THROWS_WITH(r.get_int("huge", 0, 0),
                    "median pruner option 'huge' must be an integer >= 0, but got 1e+300");
  CHECK_THROWS_WITH(r.get_int("neg", 0, std::numeric_limits<int64_t>::min()),
                    Catch::StartsWith("median pruner option 'neg' must be an integer >= "));
  CHECK_THROWS_AS(r.get_int("big", 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(r.get_int("u", 0, 0), std::invalid_argument);
  CHECK(r.get_int("max", 0, 0) == std::numeric_limits<int64_t>::max());
  CHECK_THROWS_WITH(r.get_int("int", 0, 1, std::numeric_limits<int>::max()),
                    "median pruner option 'int' must be an integer in [1, 2147483647], but got "
                    "3000000000");
  CHECK(r.get_int("f", 0, 0, 10) == 4);
  CHECK_THROWS_AS(r.get_int_or_auto("huge", 1, 1), std::invalid_argument);
  CHECK_THROWS_WITH(hpt::PercentilePruner(hpt::percentile_options_from_json(
                        "median", Json{{"n_startup_trials", 1e12}}, 50.0)),
                    Catch::Contains("'n_startup_trials' must be an integer in [0, 2147483647]"));
}
