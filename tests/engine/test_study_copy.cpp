#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>

#include "hpt/engine/study_copy.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "support/file_size_limit.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

FrozenTrial trial_in(TrialState state, std::optional<double> value) {
  FrozenTrial t;
  t.state = state;
  t.value = value;
  t.distributions = {{"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}}};
  t.params = {{"lr", 0.01}};
  t.intermediate_values = {{0, 0.5}, {1, 0.25}};
  t.user_attrs = {{"u", "kept"}};
  t.system_attrs = {{k_owner_attr, "a run of the source"}, {"fixed_params", Json{{"lr", 0.01}}}};
  return t;
}

}  // namespace

TEST_CASE("copy_study copies every trial, hands RUNNING ones back, and drops the study key") {
  hpt::test::TempDir dir("copy");
  auto from = open_storage(dir.file("from.db"));
  const int64_t id =
      from->create_study("s", std::vector<Direction>{Direction::Maximize, Direction::Minimize});
  from->set_study_user_attr(id, "note", "kept");
  from->set_study_system_attr(id, k_study_key_attr, "0123456789abcdef0123456789abcdef");
  from->set_study_system_attr(id, k_search_space_attr, Json{{"lr", "kept"}});
  FrozenTrial complete = trial_in(TrialState::Complete, std::nullopt);
  complete.values = {0.9, 12.0};
  from->create_trial(id, complete);
  from->create_trial(id, trial_in(TrialState::Pruned, std::nullopt));
  const auto claim = from->claim_trial(id, 10, Json("source run"), nullptr);
  REQUIRE(claim);
  from->set_trial_param(claim->trial.id, "lr", 0.02, complete.distributions.at("lr"));
  from->set_trial_intermediate_value(claim->trial.id, 4, 0.75);
  from->create_trial(id, trial_in(TrialState::Fail, std::nullopt));

  auto to = open_storage(dir.file("to.db"));
  const auto copy = copy_study(*from, *from->find_study("s"), *to, "s2");
  CHECK(copy.trials == 4);
  CHECK(copy.handed_back == 1);
  const auto info = to->find_study("s2");
  REQUIRE(info);
  CHECK(info->id == copy.study_id);
  CHECK(info->directions == std::vector<Direction>{Direction::Maximize, Direction::Minimize});
  CHECK(to->study_user_attrs(copy.study_id).at("note") == "kept");
  const auto system = to->study_system_attrs(copy.study_id);
  CHECK(system.count(k_study_key_attr) == 0);
  CHECK(system.at(k_search_space_attr) == Json{{"lr", "kept"}});

  const auto source = from->get_all_trials(id);
  const auto copied = to->get_all_trials(copy.study_id);
  REQUIRE(copied.size() == source.size());
  for (size_t i = 0; i < copied.size(); ++i) {
    INFO("trial " << i);
    CHECK(copied[i].number == source[i].number);
    CHECK(copied[i].params == source[i].params);
    CHECK(copied[i].user_attrs == source[i].user_attrs);
    CHECK(copied[i].system_attrs.count("fixed_params") ==
          source[i].system_attrs.count("fixed_params"));
    if (source[i].state == TrialState::Running) {
      CHECK(copied[i].state == TrialState::Waiting);  // As a stopped run hands it back.
      CHECK_FALSE(copied[i].datetime_start);
      CHECK(copied[i].intermediate_values.empty());
      CHECK(copied[i].system_attrs.count(k_owner_attr) == 0);
      CHECK(copied[i].params.at("lr") == 0.02);
    } else {
      CHECK(copied[i].state == source[i].state);
      CHECK(copied[i].values == source[i].values);
      CHECK(copied[i].intermediate_values == source[i].intermediate_values);
      CHECK(copied[i].datetime_start == source[i].datetime_start);
      CHECK(copied[i].datetime_complete == source[i].datetime_complete);
      CHECK(copied[i].system_attrs.at(k_owner_attr) == "a run of the source");
    }
  }
  // The source is unchanged: its trial still RUNNING, its key kept.
  CHECK(from->get_trial(claim->trial.id).state == TrialState::Running);
  CHECK(from->study_system_attrs(id).count(k_study_key_attr) == 1);
  // The copy's next claim runs the handed-back trial again, with its params.
  const auto next = to->claim_trial(copy.study_id, 10, Json("copy run"), nullptr);
  REQUIRE(next);
  CHECK(next->kind == TrialClaim::Kind::Waiting);
  CHECK(next->trial.number == claim->trial.number);
  CHECK(next->trial.params.at("lr") == 0.02);
}

TEST_CASE("copy_study into the same database needs a new name, and writes nothing otherwise") {
  hpt::test::TempDir dir("copy");
  auto db = open_storage(dir.file("one.db"));
  const int64_t id = db->create_study("s", Direction::Minimize);
  db->create_trial(id, trial_in(TrialState::Complete, 1.5));
  const StudyInfo info = *db->find_study("s");
  CHECK_THROWS_WITH(copy_study(*db, info, *db, "s"), Catch::Contains("already exists"));
  CHECK(db->list_studies().size() == 1);
  const auto copy = copy_study(*db, info, *db, "s-copy");
  CHECK(db->list_studies().size() == 2);
  REQUIRE(db->get_all_trials(copy.study_id).size() == 1);
  CHECK(db->get_all_trials(copy.study_id)[0].value == 1.5);
  CHECK(db->get_all_trials(id).size() == 1);
}

// A study attribute whose JSON hpt cannot read would be copied as hpt read it (a placeholder
// string): the copy is refused, naming it, and nothing is written.
TEST_CASE("copy_study refuses a study attribute it cannot read") {
  for (const char* table : {"study_user_attributes", "study_system_attributes"}) {
    hpt::test::TempDir dir("copy");
    const std::string path = dir.file("from.db");
    {
      auto from = open_storage(path);
      const int64_t id = from->create_study("s", Direction::Minimize);
      from->set_study_user_attr(id, "note", "kept");
      from->set_study_system_attr(id, "sys", 1);
    }
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE);
      raw.exec(fmt::format("UPDATE {} SET value_json = '{{oops'", table));
    }
    auto from = open_storage(path, true);
    const StudyInfo info = *from->find_study("s");
    const bool user = std::string(table) == "study_user_attributes";
    const auto attrs = user ? from->study_user_attrs(info.id) : from->study_system_attrs(info.id);
    REQUIRE(attrs.count(k_read_problems_attr) == 1);
    INFO(table);
    CHECK_THROWS_WITH(
        copy_study(*from, info, *open_storage(dir.file("to.db")), "s"),
        Catch::StartsWith(std::string("cannot copy study 's' as it is: hpt cannot "
                                      "read its study ") +
                          (user ? "user attribute note: " : "system attribute sys: ")));
    CHECK(open_storage(dir.file("to.db"), true)->list_studies().empty());
  }
}

// A copy that cannot be written (the file-size limit here, a full disk alike) is said of the
// file asked for (it named the temporary, already gone), and leaves nothing behind.
TEST_CASE("copy_study_to names the new file when the copy cannot be written") {
  hpt::test::TempDir dir("copy");
  auto from = open_storage(dir.file("from.db"));
  const int64_t id = from->create_study("s", std::vector<Direction>{Direction::Minimize});
  from->create_trial(id, trial_in(TrialState::Complete, 1.0));
  std::string error;
  {
    const hpt::test::FileSizeLimit limit(16384);  // As hpt's main: EFBIG, not SIGXFSZ.
    try {
      copy_study_to(*from, *from->find_study("s"), dir.file("new.db"), "s");
    } catch (const StorageError& e) {
      error = e.what();
    }
  }
  CHECK_THAT(error, Catch::StartsWith(dir.file("new.db") + ": "));
  CHECK(error.find(".tmp") == std::string::npos);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"from.db", "from.db-shm", "from.db-wal"});
}

// A stop (Ctrl-C caught by copy-study's StopSignals) once the study is read writes nothing: no
// new file, no study in an existing one.
TEST_CASE("copy_study_to writes nothing when stopped after the read") {
  hpt::test::TempDir dir("copy");
  auto from = open_storage(dir.file("from.db"));
  const int64_t id = from->create_study("s", std::vector<Direction>{Direction::Minimize});
  from->create_trial(id, trial_in(TrialState::Complete, 1.0));
  const auto stopped = [] { return true; };
  CHECK_FALSE(copy_study_to(*from, *from->find_study("s"), dir.file("new.db"), "s", stopped));
  CHECK_FALSE(std::filesystem::exists(dir.file("new.db")));
  open_storage(dir.file("to.db"))->create_study("t", std::vector<Direction>{Direction::Minimize});
  CHECK_FALSE(copy_study_to(*from, *from->find_study("s"), dir.file("to.db"), "s", stopped));
  CHECK(open_storage(dir.file("to.db"), true)->list_studies().size() == 1);
  const auto copied = copy_study_to(*from, *from->find_study("s"), dir.file("to.db"), "s");
  REQUIRE(copied);
  CHECK(copied->trials == 1);
}
