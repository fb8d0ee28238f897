#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../../engine/src/cli_listing.hpp"  // Internal to the engine.
#include "cli_fixtures.hpp"
#include "hpt/engine/cli.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/constraints.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

// json: an array of objects with number, state, value and external params.
TEST_CASE_METHOD(SampleStudy, "cli: trials as json", "[cli]") {
  Json j = Json::parse(format_trials(*s, info, "json"));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["number"] == 0);
  CHECK(j[0]["state"] == "COMPLETE");
  CHECK(j[0]["value"] == 0.25);
  CHECK(j[0]["params"]["c"] == Json("[512,256]"));  // A list choice, as the database holds it.
  CHECK(j[1]["state"] == "FAIL");
  CHECK(j[1]["value"].is_null());
  CHECK(j[1]["datetime_complete"].is_string());
  FrozenTrial waiting;
  waiting.state = TrialState::Waiting;
  s->create_trial(info.id, waiting);
  CHECK(Json::parse(format_trials(*s, info, "json"))[2]["datetime_complete"].is_null());  // Not "".
}

// csv quotes values holding commas; table aligns columns.
TEST_CASE_METHOD(SampleStudy, "cli: trials as csv and table", "[cli]") {
  const std::string csv = format_trials(*s, info, "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,value,duration,params_c,params_x\n"));
  CHECK_THAT(csv, Catch::Contains("\n0,COMPLETE,0.25,1.234567,") &&
                      Catch::Contains(",\"[512,256]\",0.5\n"));  // The duration as in json.
  CHECK(Json::parse(format_trials(*s, info, "json"))[0]["duration"] == 1.234567);
  CHECK_THAT(csv, Catch::Contains("\n1,FAIL,,") && Catch::Contains(",\"a,b\",0.75\n"));
  const std::string table = format_trials(*s, info, "table");
  CHECK_THAT(table, Catch::Contains("number  state"));
  CHECK_THROWS_WITH(format_trials(*s, info, "xml"),
                    Catch::Contains("--format must be table, json or csv"));
}

// A constrained study's trials carry their constraint values: json "constraints", csv
// columns constraints and feasible (exact), the table a column marking violated ones.
TEST_CASE_METHOD(SampleStudy, "cli: trials of a constrained study", "[cli][constraints]") {
  FrozenTrial c = complete_trial(0.5);
  c.system_attrs["constraints"] = Json::array({-0.5, 0.1});
  s->create_trial(info.id, c);
  c.system_attrs["constraints"] = Json::array({-1});
  s->create_trial(info.id, c);
  const Json j = Json::parse(format_trials(*s, info, "json"));
  CHECK_FALSE(j[0].contains("constraints"));
  CHECK(j[2]["constraints"] == Json::array({-0.5, 0.1}));
  const std::string csv = format_trials(*s, info, "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,value,duration,params_c,params_x,constraints,"
                                    "feasible\n"));
  CHECK_THAT(csv, Catch::Contains(",\"[-0.5, 0.1]\",False\n") && Catch::Contains(",[-1],True\n") &&
                      Catch::Contains(",0.5,,\n"));
  const std::string table = format_trials(*s, info, "table");
  CHECK_THAT(table, Catch::Contains("constraints") && Catch::Contains("[-0.5, 0.1] violated") &&
                        Catch::Contains("[-1]"));
  CHECK(format_trials(*s, info, "table").find("[-1] violated") == std::string::npos);
}

// A multi-objective study's csv has one column per objective, values_0, values_1, ... as
// Optuna's trials_dataframe (they were one quoted "[0.5, 2]" cell no spreadsheet reads as
// numbers); a trial without values leaves them empty.
TEST_CASE("cli: multi-objective trials as csv", "[cli]") {
  hpt::test::TempDir dir("cli");
  auto s = open_storage(dir.file("m.db"));
  const int64_t id =
      s->create_study("m", std::vector<Direction>{Direction::Minimize, Direction::Maximize});
  FrozenTrial t = complete_trial(0);
  t.value.reset();
  t.values = {0.5, -HUGE_VAL};
  s->create_trial(id, t);
  FrozenTrial failed = complete_trial(0);
  failed.state = TrialState::Fail;
  failed.value.reset();
  s->create_trial(id, failed);
  const std::string csv = format_trials(*s, *s->find_study("m"), "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,values_0,values_1,duration\n"));
  CHECK_THAT(csv, Catch::Contains("\n0,COMPLETE,0.5,-inf,") && Catch::Contains("\n1,FAIL,,,"));
}

// json keeps NaN and infinities as Python's json writes them (they read back as floats);
// csv writes the shortest exact text of each value.
TEST_CASE_METHOD(SampleStudy, "cli: non-finite values in json and csv", "[cli]") {
  FrozenTrial t = complete_trial(0.1);
  t.intermediate_values = {{0, std::nan("")}, {1, -HUGE_VAL}};
  t.user_attrs = {{"inf", HUGE_VAL}};
  t.params = {{"x", 0.3}, {"c", 0}};
  t.distributions = {{"x", FloatDistribution{0, 1, false, {}}},
                     {"c", CategoricalDistribution{{Json::array({512, 256}), "a,b"}}}};
  s->create_trial(info.id, t);
  const std::string json = format_trials(*s, info, "json");
  CHECK_THAT(json, Catch::Contains("\"0\": NaN") && Catch::Contains("\"1\": -Infinity") &&
                       Catch::Contains("\"inf\": Infinity"));
  CHECK_THAT(format_trials(*s, info, "csv"), Catch::Contains("\n2,COMPLETE,0.1,"));
}

// Table cells from the database show control characters escaped.
TEST_CASE_METHOD(SampleStudy, "cli: table escapes control characters", "[cli]") {
  FrozenTrial t = complete_trial(1);
  t.params = {{"\x1b[2Jname", 0}};
  t.distributions = {{"\x1b[2Jname", CategoricalDistribution{{"\x1b]0;x\x07"}}}};
  s->create_trial(info.id, t);
  const std::string table = format_trials(*s, info, "table");
  CHECK(table.find('\x1b') == std::string::npos);
  CHECK_THAT(table, Catch::Contains("\\x1b[2Jname") && Catch::Contains("\\x1b]0;x\\x07"));
  CHECK(format_trials(*s, info, "csv").find("\x1b]0;x\x07") != std::string::npos);
}

// hpt studies: a line per study (name, direction, trial counts), or Optuna's json.
TEST_CASE_METHOD(SampleStudy, "cli: studies lists each study", "[cli]") {
  s->create_study("other", std::vector<Direction>{Direction::Minimize, Direction::Maximize});
  int code = -1;
  const std::string table = cout_of([&] { code = print_studies(dir.file("s.db"), "table"); });
  CHECK(code == 0);
  CHECK(table ==
        "demo   MINIMIZE              2 trials (1 finished)\n"
        "other  [MINIMIZE, MAXIMIZE]  0 trials (0 finished)\n");
  const Json j = Json::parse(cout_of([&] { print_studies(dir.file("s.db"), "json"); }));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["name"] == "demo");
  CHECK(j[0]["direction"] == Json::array({"MINIMIZE"}));
  CHECK(j[0]["n_trials"] == 2);
  CHECK(j[0]["datetime_start"].is_string());
  CHECK(j[1]["datetime_start"].is_null());
  hpt::test::TempDir empty("cli");
  open_storage(empty.file("e.db"));
  CHECK(cout_of([&] { print_studies(empty.file("e.db"), "table"); }) ==
        "no study in this database yet\n");
}

// hpt best: the best trial's value, params and user attributes (a long list in a few words),
// or as json.
TEST_CASE_METHOD(SampleStudy, "cli: best shows the best trial", "[cli][best]") {
  FrozenTrial t = complete_trial(0.125);
  t.params = {{"x", 0.375}, {"c", 1}};
  t.distributions = {{"x", FloatDistribution{0, 1, false, {}}},
                     {"c", CategoricalDistribution{{Json::array({512, 256}), "a,b"}}}};
  t.user_attrs = {{"roc", Json(std::vector<double>(100, 0.5))}, {"note", "ok"}};
  s->create_trial(info.id, t);
  int code = -1;
  const std::string table = cout_of([&] { code = print_best(dir.file("s.db"), "", "table"); });
  CHECK(code == 0);
  CHECK(table ==
        "study demo: best trial 2 value=0.125\n"
        "  c = a,b\n"
        "  x = 0.375\n"
        "  [note] ok\n"
        "  [roc] (100 items in a list; --format json shows it)\n");
  const Json j = Json::parse(cout_of([&] { print_best(dir.file("s.db"), "demo", "json"); }));
  CHECK(j["number"] == 2);
  CHECK(j["user_attrs"]["roc"].size() == 100);
}

// hpt best of a constrained study names the met constraints; a multi-objective study shows its
// Pareto front.
TEST_CASE("cli: best of a constrained and of a multi-objective study", "[cli][best]") {
  hpt::test::TempDir dir("cli");
  const std::string db = dir.file("s.db");
  auto s = open_storage(db);
  const int64_t one = s->create_study("one", Direction::Minimize);
  FrozenTrial c = complete_trial(2);
  c.system_attrs[k_constraints_attr] = Json::array({-0.5, 0});
  s->create_trial(one, c);
  CHECK(cout_of([&] { print_best(db, "one", "table"); }) ==
        "study one: best trial 0 value=2\n  constraints: [-0.5, 0] (met)\n");
  const int64_t two =
      s->create_study("two", std::vector<Direction>{Direction::Minimize, Direction::Maximize});
  for (const auto& values : {std::vector<double>{1, 2}, {2, 3}, {2, 1}}) {
    FrozenTrial m = complete_trial(0);
    m.value.reset();
    m.values = values;
    s->create_trial(two, m);
  }
  const std::string front = cout_of([&] { print_best(db, "two", "table"); });
  CHECK(front ==
        "study two: 2 trials on the Pareto front of [MINIMIZE, MAXIMIZE]\n"
        "  trial 0 values=[1, 2] params={}\n"
        "  trial 1 values=[2, 3] params={}\n");
  CHECK(Json::parse(cout_of([&] { print_best(db, "two", "json"); })).size() == 2);
}

// A study without a best trial is said on one error line (exit 1): none COMPLETE, none meeting
// its constraints, or none with a value per objective; --format experiment needs one objective.
TEST_CASE("cli: best says why there is none", "[cli][best]") {
  hpt::test::TempDir dir("cli");
  const std::string db = dir.file("s.db");
  {
    auto s = open_storage(db);
    FrozenTrial failed;
    failed.state = TrialState::Fail;
    s->create_trial(s->create_study("failed", Direction::Minimize), failed);
    FrozenTrial violated = complete_trial(1);
    violated.system_attrs[k_constraints_attr] = Json::array({0.5});
    s->create_trial(s->create_study("violated", Direction::Minimize), violated);
    const int64_t two =
        s->create_study("two", std::vector<Direction>{Direction::Minimize, Direction::Minimize});
    FrozenTrial half = complete_trial(1);
    s->create_trial(two, half);
    const int64_t front =
        s->create_study("front", std::vector<Direction>{Direction::Minimize, Direction::Minimize});
    FrozenTrial both = complete_trial(0);
    both.value.reset();
    both.values = {1, 2};
    s->create_trial(front, both);
  }
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"best", db, "--study", "failed"}, "study 'failed' has no complete trial yet\n"},
      {{"best", db, "--study", "violated"},
       "study 'violated' has 1 COMPLETE trial, but none meets its constraints (every constraint "
       "value <= 0; see hpt trials)\n"},
      {{"best", db, "--study", "two"},
       "study 'two' has 1 COMPLETE trial, but none with a value for each of its 2 objectives (see "
       "hpt trials)\n"},
      {{"best", db, "--study", "front", "--format", "experiment"},
       "--format experiment is for a study of one objective; study 'front' has 2 (hpt best shows "
       "its Pareto front)\n"},
  };
  for (const auto& [args, error] : cases) {
    INFO(error);
    std::pair<int, std::string> result;
    CHECK(cout_of([&] { result = run_hpt_capture(args); }).empty());
    CHECK(result.first == 1);
    CHECK(result.second == "hpt: error: " + error);
  }
}
