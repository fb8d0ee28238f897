#include <catch2/catch.hpp>
#include <filesystem>

#include "hpt/engine/cli.hpp"
#include "hpt/storage/storage.hpp"

using namespace hpt;

namespace {

// A study with one COMPLETE and one FAIL trial, params x (float) and c (categorical list).
std::unique_ptr<Storage> sample_study(const std::string& db, StudyInfo& info) {
  std::filesystem::remove(db);
  auto s = open_storage(db);
  info.id = s->create_study("demo", Direction::Minimize);
  info.name = "demo";
  FloatDistribution fx{0, 1, false, {}};
  CategoricalDistribution fc{{Json::array({512, 256}), "a,b"}};
  FrozenTrial a;
  a.state = TrialState::Complete;
  a.value = 0.25;
  a.params = {{"x", 0.5}, {"c", 0}};
  a.distributions = {{"x", fx}, {"c", fc}};
  s->create_trial(info.id, a);
  FrozenTrial b = a;
  b.state = TrialState::Fail;
  b.value.reset();
  b.params = {{"x", 0.75}, {"c", 1}};
  s->create_trial(info.id, b);
  return s;
}

}  // namespace

// json: an array of objects with number, state, value and external params.
TEST_CASE("cli: trials as json", "[cli]") {
  StudyInfo info;
  auto s =
      sample_study((std::filesystem::temp_directory_path() / "hpt_cli_json.db").string(), info);
  Json j = Json::parse(format_trials(*s, info, "json"));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["number"] == 0);
  CHECK(j[0]["state"] == "COMPLETE");
  CHECK(j[0]["value"] == 0.25);
  CHECK(j[0]["params"]["c"] == Json::array({512, 256}));
  CHECK(j[1]["state"] == "FAIL");
  CHECK(j[1]["value"].is_null());
}

// csv quotes values holding commas; table aligns columns.
TEST_CASE("cli: trials as csv and table", "[cli]") {
  StudyInfo info;
  auto s = sample_study((std::filesystem::temp_directory_path() / "hpt_cli_csv.db").string(), info);
  const std::string csv = format_trials(*s, info, "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,value,duration,params_c,params_x\n"));
  CHECK_THAT(csv, Catch::Contains("\n0,COMPLETE,0.25,") && Catch::Contains(",\"[512,256]\",0.5\n"));
  CHECK_THAT(csv, Catch::Contains("\n1,FAIL,,") && Catch::Contains(",\"a,b\",0.75\n"));
  const std::string table = format_trials(*s, info, "table");
  CHECK_THAT(table, Catch::Contains("number  state"));
  CHECK_THROWS_WITH(format_trials(*s, info, "xml"),
                    Catch::Contains("--format must be table, json or csv"));
}
