#include <catch2/catch.hpp>

#include "hpt/engine/study_match.hpp"

// A study is continued only with its own directions and distributions Optuna would accept;
// the message names the study, the parameter, the stored and the declared distribution.
TEST_CASE("check_study_matches applies Optuna's rules", "[study_match]") {
  auto s = hpt::open_storage(":memory:");
  const int64_t id = s->create_study("s", hpt::Direction::Minimize);
  s->create_study("two", {hpt::Direction::Minimize, hpt::Direction::Maximize});
  const hpt::FloatDistribution lr{1e-4, 1e-1, true, std::nullopt};
  const hpt::CategoricalDistribution act{{"relu", "gelu"}};
  hpt::FrozenTrial t;
  t.state = hpt::TrialState::Complete;
  t.value = 1.0;
  t.params = {{"lr", 1e-3}, {"act", 0}};
  t.distributions = {{"lr", lr}, {"act", act}};
  s->create_trial(id, t);
  const std::vector<hpt::Direction> min{hpt::Direction::Minimize};
  // Unknown study, same space, a changed range, a new parameter: all fine.
  CHECK_NOTHROW(hpt::check_study_matches(*s, "new", min, {}));
  CHECK_NOTHROW(hpt::check_study_matches(*s, "s", min, {{"lr", lr}, {"act", act}}));
  CHECK_NOTHROW(
      hpt::check_study_matches(*s, "s", min,
                               {{"lr", hpt::FloatDistribution{1e-5, 1.0, true, std::nullopt}},
                                {"n", hpt::IntDistribution{1, 3, false, 1}}}));
  CHECK_THROWS_WITH(hpt::check_study_matches(*s, "s", {hpt::Direction::Maximize}, {}),
                    "study 's' exists with direction MINIMIZE, but the config says MAXIMIZE; use "
                    "another study name");
  CHECK_THROWS_WITH(hpt::check_study_matches(*s, "two", min, {}),
                    Catch::Contains("directions [MINIMIZE, MAXIMIZE]"));
  CHECK_THROWS_WITH(
      hpt::check_study_matches(*s, "s", min, {{"lr", hpt::IntDistribution{1, 9, false, 1}}}),
      "study 's': search_space.lr: it is stored as float but declared as int (stored by trial 0: "
      "float [0.0001, 0.1] log; the config: int [1, 9]); Optuna refuses such a change, so hpt "
      "does too: use another study name");
  CHECK_THROWS_WITH(hpt::check_study_matches(
                        *s, "s", min, {{"act", hpt::CategoricalDistribution{{"gelu", "relu"}}}}),
                    Catch::Contains("search_space.act: its categorical choices differ"));
}

// A run that gives the study's trials other settings than its last run did (fixed, the
// objective command, parameters added or dropped) is warned about, once per change; the same
// settings again, or a new study, give no warning.
TEST_CASE("record_run_settings warns when a run changes what trials get", "[study_match]") {
  auto s = hpt::open_storage(":memory:");
  const int64_t id = s->create_study("s", hpt::Direction::Minimize);
  hpt::RunSettings first{hpt::Json{{"a", 1}, {"epochs", 5}}, {"python3", "obj.py"}, {"x", "y"}};
  CHECK(hpt::record_run_settings(*s, id, first).empty());
  CHECK(hpt::record_run_settings(*s, id, first).empty());
  hpt::RunSettings second = first;
  second.fixed = hpt::Json{{"a", 2}, {"seed", 0}};
  second.command = {"python3", "other.py"};
  second.parameters = {"x", "z"};
  const auto warnings = hpt::record_run_settings(*s, id, second);
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0] ==
        "fixed differs from the study's last run (a, seed, epochs changed): its earlier trials "
        "ran with the old values, and they are compared with the new ones");
  CHECK(warnings[1] ==
        "objective.command differs from the study's last run ([\"python3\",\"obj.py\"] "
        "before): its earlier trials ran another objective, and they are compared with the new "
        "ones");
  CHECK(warnings[2] ==
        "the search space adds z and drops y since the study's last run: earlier trials have "
        "other parameters");
  CHECK(hpt::record_run_settings(*s, id, second).empty());  // Recorded: said once.
  CHECK(s->study_system_attrs(id).at("hpt:run_settings").at("parameters") == hpt::Json{"x", "z"});
}

// Two hosts starting a new study at once both pass check_study_matches (no trial yet); the
// search space recorded under the study's lock refuses the second's conflicting kinds, allows
// changed ranges, and learns parameters later runs add. A record hpt cannot read is ignored.
TEST_CASE("claim_search_space refuses what a racing host declared otherwise", "[study_match]") {
  auto s = hpt::open_storage(":memory:");
  const int64_t id = s->create_study("s", hpt::Direction::Minimize);
  const hpt::FloatDistribution lr{1e-4, 1e-1, true, std::nullopt};
  const hpt::IntDistribution n{1, 3, false, 1};
  hpt::claim_search_space(*s, id, "s", {{"lr", lr}});
  CHECK_THROWS_WITH(
      hpt::claim_search_space(*s, id, "s", {{"lr", hpt::IntDistribution{1, 9, false, 1}}}),
      "study 's': search_space.lr: it is stored as float but declared as int (recorded by an "
      "earlier run: float [0.0001, 0.1] log; the config: int [1, 9]); Optuna refuses such a "
      "change, so hpt does too: use another study name");
  CHECK_NOTHROW(hpt::claim_search_space(
      *s, id, "s", {{"lr", hpt::FloatDistribution{1e-5, 1.0, true, std::nullopt}}, {"n", n}}));
  CHECK(s->study_system_attrs(id).at("hpt:search_space").contains("n"));
  CHECK_THROWS_WITH(
      hpt::claim_search_space(*s, id, "s", {{"n", hpt::CategoricalDistribution{{"1", "2"}}}}),
      Catch::Contains("search_space.n: it is stored as int but declared as "
                      "categorical (recorded by an earlier run"));
  s->set_study_system_attr(id, "hpt:search_space", hpt::Json{{"lr", "not a distribution"}});
  CHECK_NOTHROW(hpt::claim_search_space(*s, id, "s", {{"lr", n}}));
  s->set_study_system_attr(id, "hpt:search_space", hpt::Json::array());
  CHECK_NOTHROW(hpt::claim_search_space(*s, id, "s", {{"lr", n}}));
  CHECK(s->study_system_attrs(id).at("hpt:search_space").contains("lr"));
}
