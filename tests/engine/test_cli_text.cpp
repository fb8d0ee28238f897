#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "../../engine/src/cli_text.hpp"  // Internal to the engine.
#include "hpt/storage/attribute_names.hpp"
#include "hpt/tuner/constraints.hpp"

using namespace hpt;

// Strings bare, the rest as compact JSON; invalid UTF-8 from a database does not throw.
TEST_CASE("cli_text: param_text", "[cli]") {
  CHECK(param_text(Json("a,b")) == "a,b");
  CHECK(param_text(Json(0.5)) == "0.5");
  CHECK(param_text(Json(std::nan(""))) == "NaN");  // Not JSON's null: a value, not none.
  CHECK(param_text(Json(-HUGE_VAL)) == "-Infinity");
  CHECK(param_text(Json::array({512, 256})) == "[512,256]");
  CHECK(param_text(Json(nullptr)) == "null");
  CHECK_NOTHROW(param_text(Json::array({std::string("\xff")})));
}

// Each value in fmt_spec, comma-separated in brackets.
TEST_CASE("cli_text: values_cell", "[cli]") {
  CHECK(values_cell({0.25, 3}, "{}") == "[0.25, 3]");
  CHECK(values_cell({1.0 / 3, -HUGE_VAL}, "{:.6g}") == "[0.333333, -inf]");
  CHECK(values_cell({}, "{}") == "[]");
}

// A trial's JSON: null for what it lacks, values only with several objectives, the failure's
// reason and constraints only when recorded.
TEST_CASE("cli_text: trial_json", "[cli]") {
  FrozenTrial t;
  t.number = 4;
  t.state = TrialState::Fail;
  t.intermediate_values = {{2, 0.5}};
  t.system_attrs[k_fail_reason_attr] = "exited with status 1";
  const Json j = trial_json(t);
  CHECK(j["number"] == 4);
  CHECK(j["state"] == "FAIL");
  CHECK(j["value"].is_null());
  CHECK(j["datetime_start"].is_null());
  CHECK(j["duration"].is_null());
  CHECK(j["intermediate_values"] == Json{{"2", 0.5}});
  CHECK(j["fail_reason"] == "exited with status 1");
  CHECK_FALSE(j.contains("values"));
  CHECK_FALSE(j.contains("constraints"));
  FrozenTrial m;
  m.state = TrialState::Complete;
  m.values = {1, 2};
  m.system_attrs[k_constraints_attr] = Json::array({-1});
  const Json mj = trial_json(m);
  CHECK(mj["values"] == Json::array({1, 2}));
  CHECK(mj["constraints"] == Json::array({-1}));
  CHECK_FALSE(mj.contains("fail_reason"));
}

// The error line hides a storage URL's password.
TEST_CASE("cli_text: report_error hides credentials", "[cli]") {
  CHECK(hide_credentials("postgresql://u:secret@h/db") == "postgresql://u:***@h/db");
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  report_error("cannot open postgresql://u:secret@h/db");
  std::cerr.rdbuf(old);
  CHECK(err.str() == "hpt: error: cannot open postgresql://u:***@h/db\n");
}
