#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "../../engine/src/cli_delete_copy.hpp"  // Internal to the engine.
#include "cli_fixtures.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

// hpt delete-study: only a named study, never while trials run unless forced, nothing made or
// changed on a refusal, and the other studies untouched.
TEST_CASE("cli: delete-study", "[cli][delete]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  int64_t running_id = 0;
  {
    auto s = open_storage(db);
    const int64_t keep = s->create_study("keep", Direction::Minimize);
    s->create_trial(keep, FrozenTrial{});
    const int64_t gone = s->create_study("gone", Direction::Minimize);
    FrozenTrial done;
    done.state = TrialState::Complete;
    done.value = 1.0;
    s->create_trial(gone, done);
    running_id = s->claim_trial(gone, 10, Json("host"), nullptr)->trial.id;
  }
  const auto missing = run_hpt_capture({"delete-study", dir.file("nope.db"), "--study", "gone"});
  CHECK(missing.first == 1);
  CHECK_THAT(missing.second, Catch::Contains("nope.db") && Catch::Contains("no such file"));
  CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
  const auto unnamed = run_hpt_capture({"delete-study", db});
  CHECK(unnamed.first == 2);
  CHECK_THAT(unnamed.second, Catch::Contains("--study"));
  const auto typo = run_hpt_capture({"delete-study", db, "--study", "gon"});
  CHECK(typo.first == 1);
  CHECK_THAT(typo.second, Catch::Contains("'gon'") && Catch::Contains("gone"));
  const auto busy = run_hpt_capture({"delete-study", db, "--study", "gone"});
  CHECK(busy.first == 1);
  CHECK(busy.second ==
        "hpt: error: study 'gone' has 1 RUNNING trial: a run may be going on (or was killed); "
        "stop it first, or give --force\n");
  CHECK(open_storage(db, true)->list_studies().size() == 2);
  ::chmod(db.c_str(), 0444);
  if (::access(db.c_str(), W_OK) != 0) {  // Not root: the file is read-only.
    const auto read_only = run_hpt_capture({"delete-study", db, "--study", "gone", "--force"});
    CHECK(read_only.first == 1);
    CHECK_THAT(read_only.second, Catch::Contains("read-only"));
  }
  ::chmod(db.c_str(), 0644);
  const auto forced = run_hpt_capture({"delete-study", db, "--study", "gone", "--force"});
  CHECK(forced.first == 0);
  CHECK(forced.second.empty());
  auto s = open_storage(db, true);
  const auto studies = s->list_studies();
  REQUIRE(studies.size() == 1);
  CHECK(studies[0].name == "keep");
  CHECK(s->get_all_trials(studies[0].id).size() == 1);
  CHECK_THROWS_AS(s->get_trial(running_id), StorageError);
}

// delete-study names the study's own trials folder, known by the study key it records: found
// where the study's runs put it (beside the database) even when no trial wrote a log; a folder
// of that name recording another key, or the folder its (copied) trials' logs are in when that
// records another study's key, is not named.
TEST_CASE("cli: delete-study names a trials folder no log points to", "[cli][delete]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  const std::string folder = dir.file("s_trials/quiet");
  {
    auto s = open_storage(db);
    for (const char* name : {"quiet", "other"}) {
      const int64_t id = s->create_study(name, Direction::Minimize);
      s->set_study_system_attr(id, k_study_key_attr, std::string(name) + "-key");
      FrozenTrial waiting;
      waiting.state = TrialState::Waiting;
      if (std::string(name) == "other") {  // Copied: its log is in the source's folder.
        waiting.system_attrs[k_log_attr] = dir.file("source_trials/other/0.log");
      }
      s->create_trial(id, waiting);
    }
  }
  std::filesystem::create_directories(folder);
  record_folder_study_key(folder, "quiet-key");
  std::filesystem::create_directories(dir.file("s_trials/other"));
  record_folder_study_key(dir.file("s_trials/other"), "a study of another database");
  std::filesystem::create_directories(dir.file("source_trials/other"));
  std::ofstream(dir.file("source_trials/other/0.log")) << "log\n";
  record_folder_study_key(dir.file("source_trials/other"), "the source study's key");
  for (const char* name : {"quiet", "other"}) {
    std::ostringstream out;
    auto* old = std::cout.rdbuf(out.rdbuf());
    const auto result = run_hpt_capture({"delete-study", db, "--study", name});
    std::cout.rdbuf(old);
    INFO(name << ": " << result.second << out.str());
    CHECK(result.first == 0);
    const bool named = out.str().find("its trials folder is left as it is") != std::string::npos;
    CHECK(named == (std::string(name) == "quiet"));
    if (named) {
      CHECK_THAT(out.str(), Catch::EndsWith(": " + folder + "\n"));
    }
  }
  CHECK(std::filesystem::is_directory(folder));
}

// hpt copy-study: the study copied whole under its new name, said in one line; a bad new name or
// a missing source is refused before anything is made.
TEST_CASE_METHOD(SampleStudy, "cli: copy-study", "[cli][copy]") {
  const std::string from = dir.file("s.db");
  const std::string to = dir.file("t.db");
  const auto bad = run_hpt_capture({"copy-study", from, to, "--to-study", "\xff"});
  CHECK(bad.first == 2);
  CHECK(bad.second == "hpt: error: --to-study: is not valid UTF-8\n");
  const auto missing = run_hpt_capture({"copy-study", dir.file("nope.db"), to});
  CHECK(missing.first == 1);
  CHECK_THAT(missing.second, Catch::Contains("nope.db: no such file"));
  CHECK_FALSE(std::filesystem::exists(to));
  std::pair<int, std::string> copied;
  const std::string out = cout_of([&] {
    copied = run_hpt_capture({"copy-study", from, to, "--to-study", "copy"});
  });
  CHECK(copied.first == 0);
  CHECK(copied.second.empty());
  CHECK(out == "copied study 'demo' and its 2 trials from " + from + " to " + to + " as 'copy'\n");
  auto t = open_storage(to, true);
  const auto copy = t->find_study("copy");
  REQUIRE(copy);
  CHECK(t->get_all_trials(copy->id).size() == 2);
  int code = -1;
  CHECK_THAT(cout_of([&] { code = copy_study_command(from, dir.file("u.db"), "demo", {}); }),
             Catch::StartsWith("copied study 'demo' and its 2 trials from "));
  CHECK(code == 0);
  CHECK(open_storage(dir.file("u.db"), true)->find_study("demo"));
}
