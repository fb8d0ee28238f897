#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

#include "hpt/tuner/distribution.hpp"

namespace {

const hpt::FloatDistribution k_unit{0.0, 1.0, false, std::nullopt};

}  // namespace

// Optuna's check_distribution_compatibility: kind, log and categorical choices (order too)
// must stay; ranges and steps may change.
TEST_CASE("compatibility_problem follows Optuna", "[distribution]") {
  using hpt::compatibility_problem;
  CHECK_FALSE(compatibility_problem(k_unit, hpt::FloatDistribution{-5.0, 5.0, false, 0.5}));
  CHECK_FALSE(compatibility_problem(hpt::IntDistribution{1, 8, false, 1},
                                    hpt::IntDistribution{0, 100, false, 4}));
  CHECK(*compatibility_problem(k_unit, hpt::IntDistribution{0, 1, false, 1}) ==
        "it is stored as float but declared as int");
  CHECK(*compatibility_problem(hpt::FloatDistribution{1e-3, 1.0, true, std::nullopt}, k_unit) ==
        "it is stored with log=true but declared with log=false");
  CHECK(compatibility_problem(hpt::IntDistribution{1, 8, false, 1},
                              hpt::IntDistribution{1, 8, true, 1}));
  const hpt::CategoricalDistribution ab{{"a", "b"}};
  CHECK_FALSE(compatibility_problem(ab, hpt::CategoricalDistribution{{"a", "b"}}));
  CHECK(compatibility_problem(ab, hpt::CategoricalDistribution{{"b", "a"}}));
  CHECK(compatibility_problem(ab, hpt::CategoricalDistribution{{"a", "b", "c"}}));
  CHECK(compatibility_problem(ab, k_unit));
}

// Descriptions for messages; a long choice list is cut, never inside a UTF-8 character.
TEST_CASE("distribution_text", "[distribution]") {
  CHECK(hpt::distribution_text(hpt::FloatDistribution{1e-4, 0.1, true, std::nullopt}) ==
        "float [0.0001, 0.1] log");
  CHECK(hpt::distribution_text(hpt::IntDistribution{8, 64, false, 8}) == "int [8, 64] step 8");
  CHECK(hpt::distribution_text(hpt::CategoricalDistribution{{"a", 3}}) == "categorical [\"a\",3]");
  hpt::CategoricalDistribution many;
  for (int i = 0; i < 200; ++i) {
    many.choices.push_back("\xc3\xa9");
  }
  const std::string text = hpt::distribution_text(many);
  CHECK(text.size() < 200);
  REQUIRE(text.substr(text.size() - 3) == "...");
  CHECK(static_cast<unsigned char>(text[text.size() - 4]) != 0xc3);  // Not half of an é.
}

// Nesting depth ignores brackets in strings and stops counting past the limit.
TEST_CASE("json_nesting_depth", "[distribution]") {
  CHECK(hpt::json_nesting_depth("1", 10) == 0);
  CHECK(hpt::json_nesting_depth("[[1], {\"a\": [2]}]", 10) == 3);
  CHECK(hpt::json_nesting_depth("[\"[[[[\\\"[[\"]", 10) == 1);
  CHECK(hpt::json_nesting_depth(std::string(300000, '['), 256) == 257);
}

// A distribution text nested 300,000 deep (or a choice string that is) is refused, not
// recursed into.
TEST_CASE("distribution_from_json refuses deep nesting", "[distribution]") {
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  CHECK_THROWS_WITH(hpt::distribution_from_json(deep), Catch::Contains("nested deeper"));
  const auto d = hpt::distribution_from_json(
      R"({"name": "CategoricalDistribution", "attributes": {"choices": [")" + deep + R"("]}})");
  CHECK(std::get<hpt::CategoricalDistribution>(d).choices.at(0).get<std::string>() == deep);
  CHECK(hpt::distribution_from_json(hpt::distribution_to_json(k_unit)) ==
        hpt::Distribution(k_unit));
}

// A list choice is stored as its JSON text and read back as that text, so a string that
// looks like JSON ("[1]", Optuna users' usual spelling of a list) stays a string; both are one
// choice (choice_equal), as they are one stored string. Choices that are not a list are
// refused (a string's characters are not its choices).
TEST_CASE("distribution_from_json keeps string choices strings", "[distribution]") {
  using hpt::Json;
  const hpt::CategoricalDistribution strings{{Json("[1]"), Json("{}"), Json("b")}};
  const auto back = std::get<hpt::CategoricalDistribution>(
      hpt::distribution_from_json(hpt::distribution_to_json(strings)));
  CHECK(back.choices.at(0) == Json("[1]"));
  CHECK(back.choices.at(1) == Json("{}"));
  const hpt::CategoricalDistribution lists{{Json::array({1}), Json::object(), Json("b")}};
  const auto lists_back = std::get<hpt::CategoricalDistribution>(
      hpt::distribution_from_json(hpt::distribution_to_json(lists)));
  CHECK(lists_back.choices.at(0) == Json("[1]"));
  CHECK(hpt::Distribution(lists_back) == hpt::Distribution(lists));
  CHECK(hpt::Distribution(strings) == hpt::Distribution(lists));
  CHECK_FALSE(hpt::compatibility_problem(lists_back, lists));
  CHECK(hpt::compatibility_problem(
      hpt::distribution_from_json(
          R"({"name": "CategoricalDistribution", "attributes": {"choices": ["[1, 2]"]}})"),
      hpt::CategoricalDistribution{{Json::array({1, 2})}}));  // Stored "[1, 2]", not "[1,2]".
  CHECK_THROWS_WITH(hpt::distribution_from_json(
                        R"({"name": "CategoricalDistribution", "attributes": {"choices": "abc"}})"),
                    Catch::Contains("not a list"));
  CHECK_THROWS_WITH(hpt::distribution_from_json(R"({"type": "categorical", "choices": 3})"),
                    Catch::Contains("not a list"));
}

// Ranges samplers cannot compute on are refused with the values: int bounds beyond 2^53 (the
// stored double would round them), float ranges whose width (plus a step) overflows.
TEST_CASE("validate refuses ranges too wide to sample", "[distribution]") {
  const int64_t top = int64_t{1} << 53;
  CHECK_NOTHROW(hpt::validate(hpt::IntDistribution{-top, top, false, 1}));
  CHECK_THROWS_WITH(
      hpt::validate(hpt::IntDistribution{9223372036854775800, INT64_MAX, false, 1}),
      "low and high must be within -9007199254740992..9007199254740992 (integers beyond are not "
      "exact in the stored double), but got low=9223372036854775800, high=9223372036854775807");
  CHECK_THROWS(hpt::validate(hpt::IntDistribution{INT64_MIN, 0, false, 1}));
  CHECK_THROWS(hpt::validate(hpt::IntDistribution{-top - 2, 0, false, 1}));
  // One past 2^53 rounds to 2^53 as a double: compared as integers, it is refused.
  CHECK_THROWS(hpt::validate(hpt::IntDistribution{0, top + 1, false, 1}));
  CHECK_THROWS(hpt::validate(hpt::IntDistribution{-top - 1, 0, false, 1}));
  const double big = std::numeric_limits<double>::max();
  CHECK_NOTHROW(hpt::validate(hpt::FloatDistribution{-big / 2, big / 2, false, std::nullopt}));
  CHECK_NOTHROW(hpt::validate(hpt::FloatDistribution{1e308, big, false, std::nullopt}));
  CHECK_THROWS_WITH(hpt::validate(hpt::FloatDistribution{-1e308, 1e308, false, std::nullopt}),
                    "the range is too wide: high - low must be at most 1.79769e+308, but got "
                    "low=-1e+308, high=1e+308");
  CHECK_THROWS_WITH(hpt::validate(hpt::FloatDistribution{-8e307, 8e307, false, 1e307 * 3}),
                    "the range is too wide: high - low + step must be at most 1.79769e+308, but "
                    "got low=-8e+307, high=8e+307, step=3e+307");
  CHECK_THROWS(hpt::validate(hpt::FloatDistribution{0, 1, false, INFINITY}));
}

// Int values that no int64 holds (a foreign database row) come out as numbers, not garbage.
TEST_CASE("to_external of an int beyond int64", "[distribution]") {
  const hpt::IntDistribution d{0, 10, false, 1};
  CHECK(hpt::to_external(d, 7.0) == hpt::Json(7));
  CHECK(hpt::to_external(d, 0x1p63).get<double>() == 0x1p63);
}

// Off-grid internal values (a foreign row) read as Optuna's int() reads them: toward zero.
TEST_CASE("to_external truncates as Optuna's int()", "[distribution]") {
  const hpt::IntDistribution d{-10, 10, false, 1};
  CHECK(hpt::to_external(d, 2.7) == hpt::Json(2));
  CHECK(hpt::to_external(d, 5.5) == hpt::Json(5));
  CHECK(hpt::to_external(d, -2.7) == hpt::Json(-2));
  const hpt::CategoricalDistribution c{{"a", "b"}};
  CHECK(hpt::to_external(c, 1.9) == hpt::Json("b"));
  CHECK(hpt::to_external(c, -0.5) == hpt::Json("a"));
  CHECK_THROWS_AS(hpt::to_external(c, 2.0), std::invalid_argument);
  CHECK_THROWS_AS(hpt::to_external(c, -1.0), std::invalid_argument);
  CHECK_THROWS_AS(hpt::to_external(c, NAN), std::invalid_argument);
}

// A step that does not divide the range lowers high to the last value it reaches, exactly as
// Optuna 3.1 does (_adjust_int_uniform_high, _adjust_discrete_uniform_high in decimal); the
// expected values and JSON are Optuna's own.
TEST_CASE("reachable_high follows Optuna", "[distribution]") {
  using hpt::FloatDistribution;
  using hpt::IntDistribution;
  CHECK(hpt::reachable_high(IntDistribution{0, 10, false, 3}) == 9);
  CHECK(hpt::reachable_high(IntDistribution{-7, 5, false, 4}) == 5);
  CHECK(hpt::reachable_high(IntDistribution{0, 5, false, 10}) == 0);
  CHECK(hpt::reachable_high(IntDistribution{16, 256, false, 16}) == 256);
  const struct {
    double low, high, step, expected;
  } floats[] = {{0, 1, 0.3, 0.9},
                {0, 10, 3, 9.0},
                {0.1, 1.0, 0.2, 0.9},
                {1e-4, 0.1, 3e-4, 0.1},
                {-1, 1, 0.7, 0.4},
                {0, 0.9, 0.3, 0.9},
                {0.5, 12.3456, 0.01, 12.34},
                {2.5, 7.3, 0.25, 7.25},
                {0, 1, 1.0 / 3, 0.9999999999999999}};
  for (const auto& f : floats) {
    INFO(f.low << " " << f.high << " " << f.step);
    CHECK(hpt::reachable_high(FloatDistribution{f.low, f.high, false, f.step}) == f.expected);
  }
  CHECK(hpt::reachable_high(FloatDistribution{0, 1, false, std::nullopt}) == 1.0);
  CHECK(hpt::Json::parse(hpt::distribution_to_json(FloatDistribution{0, 0.9, false, 0.3})) ==
        hpt::Json::parse(R"({"name": "FloatDistribution", "attributes": {"step": 0.3, "low": 0.0,
                             "high": 0.9, "log": false}})"));
}

// Choices compare as Python compares them (Optuna's CategoricalDistribution.to_internal_repr):
// numbers by exact value whatever their JSON type, bools apart from numbers.
TEST_CASE("choice_key: choices equal as in Python", "[distribution]") {
  using hpt::choice_key;
  using hpt::Json;
  CHECK(choice_key(1) == choice_key(1.0));
  CHECK(choice_key(-0.0) == choice_key(0));
  CHECK(choice_key(-3) == choice_key(-3.0));
  // A list or mapping is the text it is stored as: one choice with that string.
  CHECK(choice_key(Json::array({1, 2})) == choice_key(Json("[1,2]")));
  CHECK(choice_key(Json{{"a", 1}}) == choice_key(Json(R"({"a":1})")));
  CHECK(choice_key(Json::array({1, 2.0})) != choice_key(Json::array({1.0, 2})));
  CHECK(hpt::choice_equal(Json::array({64}), Json("[64]")));
  CHECK_FALSE(hpt::choice_equal(Json::array({64}), Json("[64] ")));
  CHECK(hpt::choice_equal(Json(2), Json(2.0)));
  CHECK_FALSE(hpt::choice_equal(Json(true), Json(1)));
  CHECK(choice_key(9007199254740993LL) != choice_key(9007199254740992LL));
  CHECK(choice_key(9007199254740993LL) != choice_key(9007199254740992.0));
  CHECK(choice_key(18446744073709551615ULL) == choice_key(Json(18446744073709551615ULL)));
  CHECK(choice_key(0.5) != choice_key(0));
  CHECK(choice_key(true) != choice_key(1));
  CHECK(choice_key(nullptr) == choice_key(Json()));
  CHECK(choice_key("1") != choice_key(1));
  const hpt::CategoricalDistribution big{{Json(9007199254740993LL), Json(5)}};
  CHECK_THROWS_AS(hpt::to_internal(big, Json(9007199254740992LL)), std::invalid_argument);
  CHECK(hpt::to_internal(big, Json(9007199254740993LL)) == 0.0);
  CHECK(hpt::to_internal(big, Json(5.0)) == 1.0);
}

// A float value must be finite and an int one exact (within ±2^53): an Optuna-enqueued NaN or
// inf became JSON null in the worker's params and a NULL param_value hpt could not read back;
// 10**20 reached an int parameter's worker as 1e+20 (helper audit).
TEST_CASE("to_internal refuses non-finite and inexact numbers", "[distribution]") {
  const hpt::FloatDistribution x{0, 1, false, std::nullopt};
  const hpt::IntDistribution i{0, 3, false, 1};
  for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    CHECK_THROWS_WITH(hpt::to_internal(x, hpt::Json(bad)),
                      Catch::StartsWith("expected a finite number"));
    CHECK_THROWS_WITH(hpt::to_internal(i, hpt::Json(bad)),
                      Catch::StartsWith("expected an integer"));
  }
  CHECK(hpt::to_internal(x, hpt::Json(1e300)) == 1e300);  // Outside, but a number: run as given.
  CHECK(hpt::to_internal(i, hpt::Json(9007199254740992LL)) == 0x1p53);
  CHECK_THROWS_WITH(hpt::to_internal(i, hpt::Json(9007199254740993LL)),
                    Catch::Contains("beyond ±2^53"));
  CHECK_THROWS_WITH(hpt::to_internal(i, hpt::Json(1e20)), Catch::Contains("beyond ±2^53"));
}

// On a log scale only positive values are values (Optuna refuses the others, and an
// Optuna-enqueued -1 that hpt stored broke Optuna's TPE and copy_study on the study; helper
// audit); out of range but positive is run as given.
TEST_CASE("to_internal refuses a value a log scale cannot hold", "[distribution]") {
  const hpt::FloatDistribution x{1e-3, 1, true, std::nullopt};
  const hpt::IntDistribution i{1, 64, true, 1};
  for (const double bad : {-1.0, 0.0, -0.0}) {
    CHECK_THROWS_WITH(hpt::to_internal(x, hpt::Json(bad)), Catch::Contains("log scale"));
    CHECK_THROWS_WITH(hpt::to_internal(i, hpt::Json(bad)), Catch::Contains("log scale"));
  }
  CHECK(hpt::to_internal(x, hpt::Json(5.0)) == 5.0);
  CHECK(hpt::to_internal(i, hpt::Json(128)) == 128.0);
  const hpt::FloatDistribution linear{-1, 1, false, std::nullopt};
  CHECK(hpt::to_internal(linear, hpt::Json(-1.0)) == -1.0);
}

// Choices read as a vector, are shared by copies, and a push_back onto a shared list copies it
// first: the other copy keeps its choices.
TEST_CASE("Choices are shared by copies", "[distribution]") {
  using hpt::CategoricalDistribution;
  using hpt::Choices;
  using hpt::Json;
  Choices none;
  CHECK(none.empty());
  CHECK(none.size() == 0);
  Choices c{Json("a"), Json(2)};
  Choices copy = c;
  CHECK(&copy.values() == &c.values());
  CHECK(copy.shares(c));
  copy.push_back(Json::array({1, 2}));
  CHECK(c.size() == 2);
  CHECK(copy.size() == 3);
  CHECK_FALSE(copy.shares(c));
  CHECK(copy.at(2) == Json::array({1, 2}));
  CHECK(c[1] == Json(2));
  const std::vector<Json>& as_vector = c;
  CHECK(as_vector == std::vector<Json>{"a", 2});
  Choices equal{Json("a"), Json(2.0)};  // Equal lists, not shared: still equal.
  CHECK_FALSE(equal.shares(c));
  CHECK(CategoricalDistribution{equal} == CategoricalDistribution{c});
  CHECK_FALSE(CategoricalDistribution{Choices{Json("a")}} == CategoricalDistribution{c});
  CHECK_FALSE(CategoricalDistribution{Choices{Json(2), Json("a")}} == CategoricalDistribution{c});
}
