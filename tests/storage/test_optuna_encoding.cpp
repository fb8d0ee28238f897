#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <regex>

#include "../../storage/src/optuna_encoding.hpp"  // Internal to storage.

using namespace hpt;

namespace {

const double k_inf = std::numeric_limits<double>::infinity();

}  // namespace

// Finite values are stored as they are (-0.0 keeps its sign); NaN and the infinities as
// NULL plus Optuna's type name.
TEST_CASE("encode_value", "[storage][encoding]") {
  auto finite = encode_value(-2.5);
  CHECK(finite.value == -2.5);
  CHECK(std::string(finite.type) == "FINITE");
  auto zero = encode_value(-0.0);
  REQUIRE(zero.value);
  CHECK(std::signbit(*zero.value));
  auto nan = encode_value(std::nan(""));
  CHECK_FALSE(nan.value);
  CHECK(std::string(nan.type) == "NAN");
  CHECK_FALSE(encode_value(k_inf).value);
  CHECK(std::string(encode_value(k_inf).type) == "INF_POS");
  CHECK(std::string(encode_value(-k_inf).type) == "INF_NEG");
}

// decode_value inverts encode_value; the type wins over a stray value, and a NULL value
// (or the type NAN) reads as NaN.
TEST_CASE("decode_value", "[storage][encoding]") {
  for (double v : {0.0, -1e-300, 3.5, 1e308, k_inf, -k_inf}) {
    auto stored = encode_value(v);
    CHECK(decode_value(stored.value, stored.type) == v);
  }
  auto nan = encode_value(std::nan(""));
  CHECK(std::isnan(decode_value(nan.value, nan.type)));
  CHECK(decode_value(7.0, "INF_POS") == k_inf);
  CHECK(decode_value(7.0, "INF_NEG") == -k_inf);
  CHECK(std::isnan(decode_value(7.0, "NAN")));
  CHECK(std::isnan(decode_value(std::nullopt, "FINITE")));
}

// Readable JSON is parsed (Python's NaN included); malformed or too deeply nested text
// becomes a "<unreadable: ...>" string instead of an exception.
TEST_CASE("stored_json_or_note", "[storage][encoding]") {
  CHECK(stored_json_or_note("{\"a\": [1, \"x\"]}") == Json{{"a", Json::array({1, "x"})}});
  CHECK(std::isnan(stored_json_or_note("NaN").get<double>()));
  CHECK(stored_json_or_note("-Infinity").get<double>() == -k_inf);
  const auto bad = stored_json_or_note("{\"a\": ");
  REQUIRE(bad.is_string());
  CHECK_THAT(bad.get<std::string>(), Catch::StartsWith("<unreadable: "));
  // A number beyond a double (nlohmann's out_of_range, not a parse error), nested or not.
  for (const char* overflow : {"1e999", "{\"a\": [-1e400]}"}) {
    const auto note = stored_json_or_note(overflow);
    REQUIRE(note.is_string());
    CHECK_THAT(note.get<std::string>(), Catch::StartsWith("<unreadable: ") &&
                                            Catch::Contains("overflow"));
  }
  // k_max_json_depth levels are read; one more is refused before parsing.
  const size_t depth = k_max_json_depth;
  const auto deepest = stored_json_or_note(std::string(depth, '[') + std::string(depth, ']'));
  CHECK(deepest.is_array());
  const auto too_deep =
      stored_json_or_note(std::string(depth + 1, '[') + std::string(depth + 1, ']'));
  CHECK(too_deep == Json("<unreadable: JSON nested deeper than 256 levels>"));
}

// Only Optuna's exact enum names are directions; NOT_SET and anything else is NotSet.
TEST_CASE("direction_from_stored", "[storage][encoding]") {
  CHECK(direction_from_stored("MINIMIZE") == Direction::Minimize);
  CHECK(direction_from_stored("MAXIMIZE") == Direction::Maximize);
  CHECK(direction_from_stored("NOT_SET") == Direction::NotSet);
  CHECK(direction_from_stored("maximize") == Direction::NotSet);
  CHECK(direction_from_stored("") == Direction::NotSet);
}

// Rows come in any order and are put in objective order; no rows is one NotSet direction.
TEST_CASE("directions_from_rows", "[storage][encoding]") {
  CHECK(directions_from_rows({{1, "MINIMIZE"}, {2, "NOT_SET"}, {0, "MAXIMIZE"}}) ==
        std::vector<Direction>{Direction::Maximize, Direction::Minimize, Direction::NotSet});
  CHECK(directions_from_rows({}) == std::vector<Direction>{Direction::NotSet});
}

// States as a quoted SQL list, in the order given.
TEST_CASE("states_sql", "[storage][encoding]") {
  CHECK(states_sql({}).empty());
  CHECK(states_sql({TrialState::Waiting}) == "'WAITING'");
  CHECK(states_sql({TrialState::Complete, TrialState::Pruned, TrialState::Fail}) ==
        "'COMPLETE', 'PRUNED', 'FAIL'");
}

// Datetimes are local-time text with microseconds; NULL passes through both ways.
TEST_CASE("local datetimes", "[storage][encoding]") {
  const std::string now = now_local();
  CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?)")));
  auto parsed = parse_local(now);
  REQUIRE(parsed);
  CHECK(std::abs(std::chrono::duration<double>(Clock::now() - *parsed).count()) < 5.0);

  const std::string text = "2024-03-05 06:07:08.123456";
  auto t = parse_local(text);
  REQUIRE(t);
  CHECK(format_local(t) == text);
  CHECK(format_local(*t + std::chrono::microseconds(1)) == "2024-03-05 06:07:08.123457");
  CHECK_FALSE(parse_local(std::nullopt));
  CHECK_FALSE(format_local(std::nullopt));
  CHECK_FALSE(parse_local(std::string("yesterday")));
}
