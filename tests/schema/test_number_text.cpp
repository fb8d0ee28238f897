#include <catch2/catch.hpp>

#include "hpt/schema/number_text.hpp"

using namespace hpt;

namespace {

IntText status(const char* text) {
  int64_t v = 0;
  return parse_decimal_int(text, v);
}

int64_t value(const char* text) {
  int64_t v = -12345;
  REQUIRE(parse_decimal_int(text, v) == IntText::ok);
  return v;
}

}  // namespace

// Decimal only: leading zeros never mean octal, signs are taken, the int64 range is exact.
TEST_CASE("parse_decimal_int reads decimal integers", "[schema]") {
  CHECK(value("0010") == 10);
  CHECK(value("+7") == 7);
  CHECK(value("-0") == 0);
  CHECK(value("9223372036854775807") == INT64_MAX);
  CHECK(value("-9223372036854775808") == INT64_MIN);
}

// Junk, hex, octal prefixes, spaces and fractions are not integers; overflow is out of range.
TEST_CASE("parse_decimal_int refuses the rest", "[schema]") {
  for (const char* bad : {"", "+", "-", "0x10", "0o7", "1e3", "1.0", " 1", "1 ", "1_000", "--1",
                          "abc", "12abc", "\xd9\xa3"}) {
    INFO(bad);
    CHECK(status(bad) == IntText::not_an_integer);
  }
  CHECK(status("9223372036854775808") == IntText::out_of_range);
  CHECK(status("4294967296000000000000") == IntText::out_of_range);
  CHECK(status("-9223372036854775809") == IntText::out_of_range);
}

// Decimal floats only; hex floats, inf/nan words and overflow are refused.
TEST_CASE("parse_decimal_double", "[schema]") {
  CHECK(parse_decimal_double("1.5e-3") == 1.5e-3);
  CHECK(parse_decimal_double(".5") == 0.5);
  CHECK(parse_decimal_double("-2") == -2.0);
  for (const char* bad : {"", "0x1p3", "inf", "nan", "1e400", "1.5 ", "1,5", "e5", "."}) {
    INFO(bad);
    CHECK_FALSE(parse_decimal_double(bad));
  }
}

TEST_CASE("parse_duration_seconds", "[schema]") {
  CHECK(parse_duration_seconds("90") == 90.0);
  CHECK(parse_duration_seconds("90s") == 90.0);
  CHECK(parse_duration_seconds("90m") == 5400.0);
  CHECK(parse_duration_seconds("1.5h") == 5400.0);
  CHECK(parse_duration_seconds("2d") == 172800.0);
  CHECK(parse_duration_seconds("0.5") == 0.5);
  CHECK(parse_duration_seconds("-5m") == -300.0);  // The caller checks the range.
  for (const char* bad :
       {"", "m", "1e3", "5e", "1h30m", "2 h", "2H", "inf", "nanh", "1x", "1e400", "0x10"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_seconds(bad));
  }
}
