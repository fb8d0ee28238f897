#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "hpt/schema/config_error.hpp"
#include "hpt/schema/yaml_document.hpp"
#include "hpt/schema/yaml_text.hpp"

using hpt::yaml_text;
using Json = nlohmann::json;

namespace {

Json read_back(const std::string& text) { return hpt::yaml_to_json(hpt::parse_yaml(text, "t")); }

}  // namespace

TEST_CASE("yaml_text reads back as the same JSON") {
  const Json value = {
      {"experiment_name", "fashion_mnist_hpt"},
      {"epochs", 20},
      {"learning_rate", 0.00054637750226053612},
      {"tiny", 1e-300},
      {"big", 1.5e300},
      {"negative", -3},
      {"huge_int", int64_t{1} << 62},
      {"flag", true},
      {"off", false},
      {"none", nullptr},
      {"units", Json::array({512, 256})},
      {"no_units", Json::array()},
      {"empty", Json::object()},
      {"dataset", {{"format", "idx"}, {"path", "/usr/share/datasets/fashion-mnist"},
                   {"split", {{"val", 0.1}}}}},
      // Strings YAML would read as something else, or not at all, unquoted.
      {"numberish", Json::array({"5", "0x10", "1e3", ".inf", "-1", "007", "1_000"})},
      {"wordish", Json::array({"true", "yes", "no", "null", "~", "off", "", " padded "})},
      {"syntax", Json::array({"a: b", "#comment", "- item", "[x]", "{y}", "*alias", "&anchor",
                              "!tag", "|", ">", "'q'", "\"dq\"", "%", "@", "`"})},
      {"controls", "line\nbreak\ttab\\back\x01"},
      {"unicode", "héllo ✓ \u202e"},
      {"objects_in_lists", Json::array({Json{{"a", 1}}, Json::array({Json::object()})})},
      {"odd key: with # marks", 1},
      {"true", "a key YAML reads as a boolean"},
      {"5", "a key YAML reads as a number"},
      {"", "an empty key"}};
  const std::string text = yaml_text(value);
  CHECK(read_back(text) == value);
  // Readable: plain keys, nested sections in blocks, lists in brackets.
  CHECK(text.find("epochs: 20\n") != std::string::npos);
  CHECK(text.find("dataset:\n  format: \"idx\"\n") != std::string::npos);
  CHECK(text.find("units: [512, 256]\n") != std::string::npos);
  CHECK(text.find("\"true\": ") != std::string::npos);
}

TEST_CASE("yaml_text of what is not a mapping") {
  for (const Json& v : {Json(1.25), Json("text"), Json::array({1, "a"}), Json::object(), Json()}) {
    INFO(v.dump());
    CHECK(read_back(yaml_text(v)) == v);
  }
}

TEST_CASE("yaml_text keeps every double exactly") {
  for (double d : {0.1, 1.0 / 3.0, 2.0, 1e-5, 123456789.123456789, 5e-324,
                   std::numeric_limits<double>::max(), -0.0}) {
    INFO(d);
    const Json back = read_back(yaml_text(Json{{"x", d}}));
    REQUIRE(back["x"].is_number());
    CHECK(back["x"].get<double>() == d);
    CHECK(std::signbit(back["x"].get<double>()) == std::signbit(d));
  }
}
