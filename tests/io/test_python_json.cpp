#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "hpt/io/python_json.hpp"

using Json = nlohmann::json;

// Dumps match Python's json.dumps byte for byte (expected strings written from Python).
TEST_CASE("python_json_dumps writes Python's json.dumps text", "[io][json]") {
  using hpt::python_json_dumps;
  CHECK(python_json_dumps(Json{{"b", Json::array({1, 2.5, nullptr, true})}, {"a", "x"}}) ==
        R"({"a": "x", "b": [1, 2.5, null, true]})");
  CHECK(python_json_dumps(Json::array()) == "[]");
  CHECK(python_json_dumps(Json::object()) == "{}");
  CHECK(python_json_dumps(1.0) == "1.0");
  CHECK(python_json_dumps(1e-05) == "1e-05");
  CHECK(python_json_dumps(std::nan("")) == "NaN");
  CHECK(python_json_dumps(-std::numeric_limits<double>::infinity()) == "-Infinity");
  CHECK(python_json_dumps(Json::array({std::numeric_limits<double>::infinity()})) == "[Infinity]");
  CHECK(python_json_dumps("é\"\n\t") == R"("\u00e9\"\n\t")");
  CHECK(python_json_dumps("😀") == R"("\ud83d\ude00")");
}

// Loads accept Python's non-standard NaN / Infinity tokens, but not inside strings.
TEST_CASE("python_json_loads reads NaN and Infinity", "[io][json]") {
  using hpt::python_json_loads;
  CHECK(std::isnan(python_json_loads("NaN").get<double>()));
  auto v = python_json_loads(R"({"a": [Infinity, -Infinity, "NaN"], "b": 1})");
  CHECK(v["a"][0].get<double>() == std::numeric_limits<double>::infinity());
  CHECK(v["a"][1].get<double>() == -std::numeric_limits<double>::infinity());
  CHECK(v["a"][2] == "NaN");
  CHECK(v["b"] == 1);
  CHECK(python_json_loads(R"("\u00e9")") == "é");
  CHECK_THROWS_AS(python_json_loads("{"), std::invalid_argument);
  CHECK_THROWS_AS(python_json_loads("Nan"), std::invalid_argument);
  // Round trip through the Python text.
  Json all = {{"x", Json::array({1, -2, 0.1, "s", nullptr, false})}, {"y", Json{{"z", 1e300}}}};
  CHECK(python_json_loads(hpt::python_json_dumps(all)) == all);
}

// indent = 2 writes json.dumps(v, indent=2) byte for byte (the CLI's --format json).
TEST_CASE("python_json_dumps with indent", "[io][json]") {
  const Json v = {{"a", Json::array({1, Json::object(), Json::array()})},
                  {"b", Json{{"c", std::nan("")}}}};
  CHECK(hpt::python_json_dumps(v, 2) ==
        "{\n  \"a\": [\n    1,\n    {},\n    []\n  ],\n  \"b\": {\n    \"c\": NaN\n  }\n}");
  CHECK(hpt::python_json_dumps(Json::array(), 2) == "[]");
}

// Text from outside (a worker's stderr, a cut message) may not be UTF-8: each bad byte is
// stored as U+FFFD, as Python's bytes.decode(errors="replace") reads it, instead of throwing.
TEST_CASE("python_json_dumps replaces bytes that are not UTF-8", "[io][json]") {
  using hpt::python_json_dumps;
  CHECK(python_json_dumps(Json("bad \xff\xfe bytes")) == R"("bad \ufffd\ufffd bytes")");
  CHECK(python_json_dumps(Json{{"tail", std::string("\xe2\x82")}}) == R"({"tail": "\ufffd"})");
  CHECK(python_json_dumps(Json("caf\xc3\xa9")) == R"("caf\u00e9")");  // Valid text unchanged.
}
