#include <catch2/catch.hpp>

#include "hpt/schema/config_error.hpp"

using namespace hpt;
using Json = nlohmann::json;

// Scalars convert by YAML's core schema: quoted stays string, nan/inf words stay strings.
TEST_CASE("schema: yaml_to_json scalar types", "[schema]") {
  YAML::Node n = YAML::Load(
      R"({i: 3, f: 1.5e-3, b: true, s: relu, q: "12", z: ~, w: nan, l: [1, [2, 3]], e: []})");
  Json j = yaml_to_json(n);
  CHECK(j["i"] == 3);
  CHECK(j["i"].is_number_integer());
  CHECK(j["f"].get<double>() == Approx(1.5e-3));
  CHECK(j["b"] == true);
  CHECK(j["s"] == "relu");
  CHECK(j["q"] == "12");
  CHECK(j["z"].is_null());
  CHECK(j["w"] == "nan");
  CHECK(j["l"] == Json::parse("[1, [2, 3]]"));
  CHECK(j["e"] == Json::array());
}

// Unknown keys fail with the line, the key path and a suggestion.
TEST_CASE("schema: check_keys and typed reads", "[schema]") {
  YAML::Node n = YAML::Load("a: 1\nmargn: 0.2\n");
  ConfigPath at{"f.yaml", "model"};
  CHECK_THROWS_WITH(check_keys(n, at, {"a", "margin"}),
                    "f.yaml:2: model.margn: unknown key 'margn' (did you mean 'margin'?)");
  CHECK(read_int(n["a"], at.child("a")) == 1);
  CHECK_THROWS_WITH(read_bool(n["a"], at.child("a")),
                    "f.yaml:1: model.a: expected true or false, got \"1\"");
}

// One rule for booleans, YAML 1.2's core schema as yaml_to_json reads `fixed`: true and false
// in three spellings; YAML 1.1's yes/no/on/off are refused with a hint (they were true in one
// place and strings in another).
TEST_CASE("schema: read_bool reads YAML 1.2 booleans only", "[schema]") {
  const ConfigPath at{"f.yaml", ""};
  for (const char* yes : {"true", "True", "TRUE"}) {
    CHECK(read_bool(YAML::Load(yes), at.child("x")));
  }
  for (const char* no : {"false", "False", "FALSE"}) {
    CHECK_FALSE(read_bool(YAML::Load(no), at.child("x")));
  }
  for (const char* word : {"yes", "no", "on", "off", "y", "N", "Yes", "OFF"}) {
    CHECK_THROWS_WITH(read_bool(YAML::Load(std::string("\n") + word), at.child("x")),
                      "f.yaml:2: x: expected true or false, got " + std::string(word) +
                          " (hpt reads YAML 1.2, where only true and false are booleans)");
    CHECK(yaml_to_json(YAML::Load(word)) == Json(word));  // The same rule: a string.
  }
  CHECK_THROWS_WITH(read_double(YAML::Load("[1]"), at),
                    Catch::Contains("expected a number, got a list"));
}

// Invalid UTF-8 is refused with its line; valid multi-byte text passes.
TEST_CASE("schema: check_utf8", "[schema]") {
  CHECK_NOTHROW(check_utf8("name: caf\xc3\xa9 \xe2\x82\xac\n", "f.yaml"));
  CHECK_THROWS_WITH(check_utf8("a: 1\nb: \xff\n", "f.yaml"), "f.yaml:2: not valid UTF-8 text");
  CHECK_THROWS_WITH(check_utf8("a: \xc3", "f.yaml"), "f.yaml:1: not valid UTF-8 text");
}

// Integers beyond 64 bits are refused, never wrapped; ranges are checked with the value.
TEST_CASE("schema: read_int_in and read_double_in", "[schema]") {
  YAML::Node n = YAML::Load("big: 99999999999999999999\nm: 4294967296\nt: 0\nz: 0010\n");
  ConfigPath at{"f.yaml", "study"};
  CHECK_THROWS_WITH(read_int(n["big"], at.child("big")),
                    "f.yaml:1: study.big: integer out of range (beyond the signed 64-bit range, "
                    "±9223372036854775807), got "
                    "\"99999999999999999999\"");
  CHECK_THROWS_WITH(read_int_in(n["m"], at.child("m"), 1, INT32_MAX),
                    "f.yaml:2: study.m: must be in [1, 2147483647], but got 4294967296");
  CHECK_THROWS_WITH(read_int_in(n["t"], at.child("t"), 1),
                    "f.yaml:3: study.t: must be >= 1, but got 0");
  CHECK(read_int_in(n["z"], at.child("z"), 0, 100) == 10);
  CHECK_THROWS_WITH(read_double_in(n["t"], at.child("t"), 0, 10, true),
                    "f.yaml:3: study.t: must be > 0, but got 0");
  CHECK_THROWS_WITH(read_double_in(n["m"], at.child("m"), 0, 1e9, true),
                    "f.yaml:2: study.m: must be <= 1000000000, but got 4294967296");
}

// Numbers and booleans come from plain scalars only: a quoted or !!str-tagged scalar is a
// string for every typed read and for yaml_to_json; !!int and the like are still numbers.
TEST_CASE("schema: quoted and tagged scalars are strings", "[schema]") {
  YAML::Node n =
      YAML::Load("q: \"5\"\ns: !!str 5\ni: !!int 5\nb: 'true'\nf: \"1.5\"\no: !foo 7\np: 5\n");
  ConfigPath at{"f.yaml", "study"};
  CHECK_THROWS_WITH(read_int(n["q"], at.child("q")),
                    "f.yaml:1: study.q: expected an integer, got \"5\" (quoted or tagged as a "
                    "string)");
  CHECK_THROWS_WITH(read_int_in(n["s"], at.child("s"), 0),
                    "f.yaml:2: study.s: expected an integer, got \"5\" (quoted or tagged as a "
                    "string)");
  CHECK(read_int(n["i"], at.child("i")) == 5);
  CHECK_THROWS_WITH(read_bool(n["b"], at.child("b")),
                    "f.yaml:4: study.b: expected true or false, got \"true\" (quoted or tagged as "
                    "a string)");
  CHECK_THROWS_WITH(read_double(n["f"], at.child("f")), Catch::Contains("(quoted or tagged"));
  CHECK_THROWS_WITH(read_double_in(n["o"], at.child("o"), 0, 10), Catch::Contains("(quoted or"));
  const Json j = yaml_to_json(n);
  CHECK(j == Json::parse(R"({"q": "5", "s": "5", "i": 5, "b": "true", "f": "1.5", "o": "7",
                             "p": 5})"));
  CHECK(typed_scalar(YAML::Node("5")));  // Built in code: untagged.
}

// A plain scalar YAML reads as a number but hpt does not (hex, octal, binary, underscores,
// .inf, .nan, beyond a double) is refused with its place; quoted, it is a string.
TEST_CASE("schema: refuse_unread_numbers", "[schema]") {
  ConfigPath at{"f.yaml", "fixed"};
  CHECK_THROWS_WITH(refuse_unread_numbers(YAML::Load("a: [1, {b: 1e400}]"), at),
                    "f.yaml:1: fixed.a[1].b: 1e400 reads as a number in YAML, but hpt reads "
                    "finite decimal numbers only; write it in decimal, or quote it (\"1e400\") "
                    "for a string");
  CHECK_THROWS_WITH(refuse_unread_numbers(YAML::Load("a: 12345678901234567890123"), at),
                    "f.yaml:1: fixed.a: 12345678901234567890123 is an integer beyond 64 bits, "
                    "which hpt cannot pass on exactly; quote it (\"12345678901234567890123\") "
                    "for a string");
  for (const char* text : {"0x10", "+0b1", "0o17", "0b101", "1_000", ".inf", "-.Inf", ".NaN",
                           "1e400", "9223372036854775808", "-9223372036854775809"}) {
    INFO(text);
    CHECK_THROWS_AS(refuse_unread_numbers(YAML::Load(text), at), ConfigError);
  }
  for (const char* text :
       {"\"0x10\"", "'.nan'", "nan", "inf", "1e-400", "0010", "1.5e3", "v1.2",
        "9223372036854775807", "-9223372036854775808", "\"12345678901234567890\"", "1.2.3", "x",
        "~", "true", "12:30", "[1, 2.5]"}) {
    INFO(text);
    CHECK_NOTHROW(refuse_unread_numbers(YAML::Load(text), at));
  }
}
