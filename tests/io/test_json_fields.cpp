#include "hpt/io/json_fields.hpp"

#include <catch2/catch.hpp>
#include <cstdint>

using hpt::JsonFields;
using nlohmann::json;

// Each getter returns the value when it has the type and lies in range, else throws one line
// naming the key by its path from the root.
TEST_CASE("JsonFields reads checked values by key", "[io]") {
  const json doc = json::parse(R"({"format": "m-v1", "head": {"units": [8, 4], "dropout": 0.25,
      "dim": 16, "mean": [0.5, 0.25]}, "big": 18446744073709551615, "nan": null})");
  const JsonFields root(doc, "");
  CHECK(root.string("format") == "m-v1");
  const JsonFields head = root.object("head");
  CHECK(head.integers("units", 1, 100, 4) == std::vector<int64_t>{8, 4});
  CHECK(head.number("dropout", 0, 1) == 0.25);
  CHECK(head.integer("dim", 1, 64) == 16);
  CHECK(head.numbers("mean", 3) == std::vector<double>{0.5, 0.25});
  CHECK(head.has("dim"));
  CHECK_FALSE(head.has("width"));
  CHECK(head.path("dim") == "head.dim");

  CHECK_THROWS_WITH(head.integer("width", 1, 64), "head.width: missing");
  CHECK_THROWS_WITH(head.integer("dim", 1, 8), "head.dim: expected an integer from 1 to 8, got 16");
  CHECK_THROWS_WITH(head.number("dim", 0, 1), Catch::StartsWith("head.dim: expected a number"));
  CHECK_THROWS_WITH(head.integers("units", 1, 100, 1),
                    Catch::StartsWith("head.units: expected a list of at most 1 integers"));
  CHECK_THROWS_WITH(head.integers("units", 5, 100, 4),
                    Catch::StartsWith("head.units[1]: expected an integer from 5 to 100"));
  CHECK_THROWS_WITH(root.string("head", 10), Catch::StartsWith("head: expected a string"));
  CHECK_THROWS_WITH(root.object("format"), Catch::StartsWith("format: expected an object"));
  CHECK_THROWS_WITH(root.integer("big", 0, INT64_MAX),
                    Catch::StartsWith("big: expected an integer"));  // Beyond int64.
  CHECK_THROWS_WITH(root.number("nan", 0, 1), Catch::StartsWith("nan: expected a number"));
  CHECK_THROWS_WITH(JsonFields(json::array(), ""), "(root): expected an object, got []");
}
