#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../../engine/src/cli_ask_tell.hpp"  // Internal to the engine.
#include "cli_fixtures.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/constraints.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

namespace {

// run_hpt_capture with what it printed on stdout too: exit code, stdout, stderr.
struct Printed {
  int code = -1;
  std::string out, err;
};
Printed run_hpt_printed(const std::vector<std::string>& args) {
  Printed p;
  p.out = cout_of([&] { std::tie(p.code, p.err) = run_hpt_capture(args); });
  return p;
}

// A study "m" of one objective (minimised) with RUNNING trial 0, as hpt ask leaves it (no
// owner), whose last step 3 reported 0.75.
std::string running_study(const hpt::test::TempDir& dir) {
  const std::string db = dir.file("m.db");
  auto s = open_storage(db);
  const int64_t id = s->create_study("m", Direction::Minimize);
  FrozenTrial running;
  running.state = TrialState::Running;
  const int64_t trial = s->create_trial(id, running);
  s->set_trial_intermediate_value(trial, 3, 0.75);
  return db;
}

// Trial 0 of the database's only study, as stored.
FrozenTrial trial_zero(const std::string& db) {
  auto s = open_storage(db, true);
  const auto studies = s->list_studies();
  REQUIRE(studies.size() == 1);
  const auto trial = s->find_trial(studies[0].id, 0);
  REQUIRE(trial);
  return *trial;
}

}  // namespace

// hpt ask prints the trial it started as one line of JSON; hpt tell finishes it, once.
TEST_CASE("cli: ask then tell", "[cli][ask_tell]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  const std::string cfg = command_study_config(dir, "storage: " + db);
  const Printed asked = run_hpt_printed({"ask", "--config", cfg});
  CHECK(asked.code == 0);
  CHECK(asked.out == "{\"number\": 0, \"params\": {\"a\": 7}}\n");
  const Printed told = run_hpt_printed({"tell", db, "--trial-number", "0", "--values", "0.5"});
  CHECK(told.code == 0);
  CHECK(told.out == "trial 0 is COMPLETE with values [0.5]\n");
  const Printed again = run_hpt_printed({"tell", db, "--trial-number", "0", "--values", "0.5"});
  CHECK(again.code == 1);
  CHECK(again.err ==
        "hpt: error: trial 0 is COMPLETE: only a RUNNING trial can be told (--skip-if-finished "
        "leaves a finished one as it is)\n");
  const Printed skipped =
      run_hpt_printed({"tell", db, "--trial-number", "0", "--state", "fail", "--skip-if-finished"});
  CHECK(skipped.code == 0);
  CHECK(skipped.out == "trial 0 is already COMPLETE: left as it is\n");
  const FrozenTrial trial = trial_zero(db);
  CHECK(trial.state == TrialState::Complete);
  CHECK(trial.value == 0.5);
}

// An ask claims its trial as its own until the trial is whole, then leaves it to its caller
// (no owner, no heartbeat). A trial an ask left half made (killed after the claim: some or none
// of its parameters) is its dead process's, so the next ask takes it, whole, before making
// another; an asked trial is never taken. It was left RUNNING with no owner for good (helper
// audit: 3 of 3 asks killed as the trial appeared).
TEST_CASE("cli: ask takes the trial a killed ask left half made", "[cli][ask_tell]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  const std::string cfg = command_study_config(dir, "storage: " + db);
  REQUIRE(run_hpt_printed({"ask", "--config", cfg}).out.rfind("{\"number\": 0,", 0) == 0);
  {
    auto s = open_storage(db);
    const int64_t study = s->list_studies().at(0).id;
    Owner killed = Owner::current();
    killed.pid = 0x7ffffff0;  // No such process.
    const auto half =
        s->claim_trial(study, 100, killed.to_json(), [](const FrozenTrial&) { return false; });
    REQUIRE(half);
    CHECK(half->trial.number == 1);
    const auto asked = s->find_trial(study, 0);
    CHECK(asked->system_attrs.at(k_owner_attr).is_null());
    CHECK_FALSE(s->heartbeat_age(asked->id));
  }
  const Printed next = run_hpt_printed({"ask", "--config", cfg});
  CHECK(next.code == 0);
  CHECK(next.out.rfind("{\"number\": 1, \"params\": {\"a\": ", 0) == 0);
  CHECK_THAT(next.err, Catch::Contains("trial 1 was left RUNNING by a stopped process"));
  auto s = open_storage(db, true);
  const auto trial = s->find_trial(s->list_studies().at(0).id, 1);
  CHECK(trial->state == TrialState::Running);
  CHECK(trial->params.count("a") == 1);
  CHECK(trial->system_attrs.at(k_owner_attr).is_null());  // The caller's now.
  CHECK_FALSE(s->heartbeat_age(trial->id));
  CHECK(run_hpt_printed({"ask", "--config", cfg}).out.rfind("{\"number\": 2,", 0) == 0);
}

// Values and constraints that do not fit the study or the state are refused (exit 2) and
// nothing is written; an unknown trial is named with the study's count (exit 1).
TEST_CASE("cli: tell refuses what it cannot write", "[cli][ask_tell]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = running_study(dir);
  const std::pair<std::vector<std::string>, std::string> usage[] = {
      {{"--values", "1", "2"}, "--values: study 'm' has 1 objective, but 2 values were given"},
      {{"--values", "nan"}, "--values: NaN is not a value (tell it with --state fail)"},
      {{"--state", "pruned", "--values", "1"},
       "--values: a pruned trial takes no values (as Optuna's tell); leave them out"},
      {{"--state", "fail", "--constraints", "1"},
       "--constraints: a failed trial keeps no constraints (as Optuna's); leave them out"},
      {{"--values", "1", "--constraints", "nan"},
       "--constraints: NaN is no constraint value (each is <= 0 when met)"},
  };
  for (const auto& [flags, error] : usage) {
    INFO(error);
    std::vector<std::string> args{"tell", db, "--trial-number", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    const Printed p = run_hpt_printed(args);
    CHECK(p.code == 2);
    CHECK(p.out.empty());
    CHECK(p.err == "hpt: error: " + error + "\n");
  }
  const Printed unknown = run_hpt_printed({"tell", db, "--trial-number", "5", "--values", "1"});
  CHECK(unknown.code == 1);
  CHECK(unknown.err == "hpt: error: study 'm' has no trial 5 (1 trials: 0 to 0)\n");
  CHECK(trial_zero(db).state == TrialState::Running);
}

// A pruned trial takes its last step's value; constraints are stored with it and said.
TEST_CASE("cli: tell a pruned trial with constraints", "[cli][ask_tell][constraints]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = running_study(dir);
  int code = -1;
  const std::string out = cout_of([&] {
    code = tell_command({db, "m", 0, {}, {-1, 0.5}, "pruned", false});
  });
  CHECK(code == 0);
  CHECK(out == "trial 0 is PRUNED with values [0.75] and constraints [-1, 0.5] (infeasible)\n");
  const FrozenTrial trial = trial_zero(db);
  CHECK(trial.state == TrialState::Pruned);
  CHECK(trial.value == 0.75);
  CHECK(trial.system_attrs.at(k_constraints_attr) == Json::array({-1, 0.5}));
}

// A failed trial is told without values.
TEST_CASE("cli: tell a failed trial", "[cli][ask_tell]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = running_study(dir);
  const Printed failed = run_hpt_printed({"tell", db, "--trial-number", "0", "--state", "fail"});
  CHECK(failed.code == 0);
  CHECK(failed.out == "trial 0 is FAIL\n");
  CHECK(trial_zero(db).state == TrialState::Fail);
}
