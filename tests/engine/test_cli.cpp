#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_fixtures.hpp"
#include "hpt/engine/cli.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

// An empty value never silently means "not given": every option and positional of hpt and of
// registrars' verbs refuses it, naming itself.
TEST_CASE("cli: empty values are refused naming the flag", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const std::string db = dir.file("s.db");
  open_storage(db)->create_study("only", Direction::Minimize);
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--config", cfg, "--trials", "1", "--study", ""}, "--study: must not be empty"},
      {{"--config", cfg, "--trials", "1", "--storage", ""}, "--storage: must not be empty"},
      {{"--config", cfg, "--trials", "", "--study", "x"}, "--trials: must not be empty"},
      {{"trials", db, "--study", ""}, "--study: must not be empty"},
      {{"trials", db, "--study="}, "--study: "},  // CLI11's own refusal of "--study=".
      {{"best", db, "--study", ""}, "--study: must not be empty"},
      {{"studies", ""}, "DB: must not be empty"},
      {{"report", "-o", ""}, "--out: must not be empty"},
  };
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());  // Where the config's default storage would go.
  std::vector<std::pair<int, std::string>> results;
  for (const auto& c : cases) {
    results.push_back(run_hpt_capture(c.args));
  }
  std::filesystem::current_path(cwd);
  for (size_t i = 0; i < results.size(); ++i) {
    INFO(cases[i].error);
    CHECK(results[i].first == 2);
    CHECK_THAT(results[i].second, Catch::StartsWith("hpt: error: " + cases[i].error));
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("hpt_study.db")));
}

// --timeout: a time with an optional unit; a bad one is refused naming the flag, before
// anything is opened; with neither --trials nor --timeout the study command is refused.
TEST_CASE("cli: --timeout", "[cli][timeout]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "study: {storage: " << dir.file("s.db")
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  for (const char* bad : {"0", "-5", "abc", "1e3", "2H", "1h30m", "inf", "2000000000"}) {
    INFO(bad);
    const auto [code, err] = run_hpt_capture({"--config", cfg, "--timeout", bad});
    CHECK(code == 2);
    CHECK_THAT(err, Catch::StartsWith("hpt: error: --timeout: expected a time such as 3600, 90m"));
  }
  const auto none = run_hpt_capture({"--config", cfg});
  CHECK(none.first == 2);
  CHECK_THAT(none.second, Catch::Contains("--trials N is required with --config") &&
                              Catch::Contains("or --timeout TIME"));
  const auto no_config = run_hpt_capture({"--timeout", "1h"});
  CHECK(no_config.first == 2);
  CHECK(no_config.second == "hpt: error: --timeout needs --config FILE\n");
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
}

// A study flag before a verb would be ignored: it is refused naming it (exit 2); a first word
// that is no verb is named with the closest verb.
TEST_CASE("cli: study flags before a verb, and unknown verbs", "[cli]") {
  const auto early = run_hpt_capture({"--trials", "7", "studies", "x.db"});
  CHECK(early.first == 2);
  CHECK(early.second ==
        "hpt: error: --trials: is a flag of a study run (hpt --config CFG ...), but it comes "
        "before the verb `studies`: give the verb's own flags after it (see hpt studies --help)\n");
  const auto typo = run_hpt_capture({"studeis", "x.db"});
  CHECK(typo.first == 2);
  CHECK_THAT(typo.second, Catch::StartsWith("hpt: error: unknown verb 'studeis'") &&
                              Catch::Contains("studies") && Catch::Contains("report"));
}

// tell's --values (and --constraints) are read as Python's float() reads them; a negative one
// after the first is a value, not an option.
TEST_CASE("cli: tell's numbers", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  {
    auto s = open_storage(db);
    const int64_t id = s->create_study(
        "m", std::vector<Direction>{Direction::Minimize, Direction::Minimize, Direction::Minimize});
    FrozenTrial running;
    running.state = TrialState::Running;
    s->create_trial(id, running);
  }
  const auto word = run_hpt_capture({"tell", db, "--trial-number", "0", "--values", "abc"});
  CHECK(word.first == 2);
  CHECK(word.second ==
        "hpt: error: --values: 'abc' is not a number (a decimal such as 0.25, 1e-3, inf or "
        "-inf) (see hpt tell --help)\n");
  std::pair<int, std::string> told;
  const std::string out = cout_of([&] {
    told = run_hpt_capture({"tell", db, "--trial-number", "0", "--values", "1e3", "-inf", "-.5"});
  });
  CHECK(told.first == 0);
  CHECK(told.second.empty());
  CHECK(out == "trial 0 is COMPLETE with values [1000, -inf, -0.5]\n");
}
