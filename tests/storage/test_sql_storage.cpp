// SqlStorage beyond the conformance suite (storage_conformance.hpp): its schema and version
// checks on planted rows, its messages (the database named, credentials hidden), rollback of
// a write that fails midway, read-only refusals, and its own writes against the trial cache.

#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <thread>

#include "hpt/storage/sql_storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// A closed study database at path: study "s" with one RUNNING trial.
void make_study_db(const std::string& path) {
  auto s = open_storage(path);
  s->claim_trial(s->create_study("s", Direction::Minimize), 10, "me", nullptr);
}

// The message of the StorageError f throws, or "no error".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "no error";
}

// The dialect (connection) of a new SqlStorage on path, taken out of it: to build a
// SqlStorage with another name and URL over the same database.
std::unique_ptr<SqlDialect> take_dialect(const std::string& path) {
  auto s = open_storage(path);
  std::unique_ptr<SqlDialect> out;
  dynamic_cast<SqlStorage&>(*s).wrap_dialect(
      [&](std::unique_ptr<SqlDialect> d) -> std::unique_ptr<SqlDialect> {
        out = std::move(d);
        return nullptr;
      });
  return out;
}

// The integer sql selects (one row, one column).
int64_t integer(SqlStorage& s, const std::string& sql) {
  int64_t out = -1;
  s.dialect().query(sql, {}, [&](const SqlRow& r) { out = r.integer(0); });
  return out;
}

}  // namespace

// A database whose version rows or tables were tampered with is refused, read-write and
// read-only, with the file named first and the problem stated (newer versions and other
// Alembic revisions: test_sqlite_open.cpp). An older schema_version is read.
TEST_CASE("sql storage checks Optuna's tables and version rows", "[storage][sql]") {
  hpt::test::TempDir dir;
  struct Planted {
    const char* sql;
    const char* problem;
  };
  const Planted cases[] = {
      {"DELETE FROM version_info", "Optuna schema without its version_info row"},
      {"DELETE FROM alembic_version", "alembic_version row"},
      {"DROP TABLE trial_heartbeats",
       "incomplete Optuna study schema (missing tables: trial_heartbeats)"},
  };
  int n = 0;
  for (const auto& c : cases) {
    INFO(c.sql);
    const std::string path = dir.file("planted" + std::to_string(n++) + ".db");
    make_study_db(path);
    SQLite::Database(path, SQLite::OPEN_READWRITE).exec(c.sql);
    for (bool read_only : {false, true}) {
      INFO("read_only " << read_only);
      CHECK_THAT(error_of([&] { open_storage(path, read_only); }),
                 Catch::StartsWith(path + ": ") && Catch::Contains(c.problem));
    }
  }
  const std::string older = dir.file("older.db");
  make_study_db(older);
  SQLite::Database(older, SQLite::OPEN_READWRITE)
      .exec("UPDATE version_info SET schema_version = 11, library_version = '3.0.0'");
  CHECK(open_storage(older, true)->list_studies().size() == 1);
}

// A schema another process is still creating (Optuna writes its tables, alembic_version and
// version_info in separate transactions) is waited for; it used to be refused as incomplete.
TEST_CASE("sql storage waits for a schema being created", "[storage][sql]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("creating.db");
  make_study_db(path);
  SQLite::Database(path, SQLite::OPEN_READWRITE).exec("DELETE FROM alembic_version");
  std::thread optuna([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // With a busy timeout, as SQLAlchemy's: hpt looks at the schema in write transactions.
    SQLite::Database(path, SQLite::OPEN_READWRITE, 10000)
        .exec("INSERT INTO alembic_version (version_num) VALUES ('v3.0.0.d')");
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(open_storage(path, false)->list_studies().size() == 1);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(250));
  optuna.join();
}

// Named by a URL with a password (as the PostgreSQL backend names itself), a storage never
// shows the password: not in its own messages, not where the engine's error text echoes it,
// not in the `optuna storage upgrade` hint that quotes the URL.
TEST_CASE("sql storage messages hide the URL's credentials", "[storage][sql][credentials]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("s.db");
  make_study_db(path);
  const std::string url = "postgresql://u:hunter22@db.example/s";
  const std::string shown = "postgresql://u:***@db.example/s";
  SqlStorage s(take_dialect(path), url, url, false);
  CHECK(error_of([&] { s.study_user_attrs(42); }) == shown + ": no study with id 42");
  s.dialect().exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON studies BEGIN SELECT RAISE(ABORT, "
      "'password authentication failed: hunter22'); END");
  CHECK(error_of([&] { s.create_study("t", Direction::Minimize); }) ==
        shown + ": cannot create a study: password authentication failed: ***");

  auto dialect = take_dialect(path);
  dialect->exec("UPDATE alembic_version SET version_num = 'v3.0.0.c'");
  const std::string old = error_of([&] { SqlStorage(std::move(dialect), url, url, true); });
  CHECK_THAT(old, Catch::StartsWith(shown + ": made by an older Optuna") &&
                      Catch::EndsWith("`optuna storage upgrade --storage " + shown + "`"));
  CHECK(old.find("hunter22") == std::string::npos);
}

// Errors say which database and what is wrong: duplicate study, unknown study or trial, a
// finished trial, a NaN value, a heartbeat that is not a time.
TEST_CASE("sql storage errors name the database and the problem", "[storage][sql]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("e.db");
  auto storage = open_storage(path);
  auto& s = dynamic_cast<SqlStorage&>(*storage);
  const int64_t study = s.create_study("a", Direction::Minimize);
  const auto id = [](int64_t v) { return std::to_string(v); };
  CHECK(error_of([&] { s.create_study("a", Direction::Maximize); }) ==
        path + ": a study named 'a' already exists");
  CHECK(error_of([&] { s.count_trials(study + 7); }) ==
        path + ": no study with id " + id(study + 7));
  auto done = s.claim_trial(study, 10, "me", nullptr);
  REQUIRE(done);
  const int64_t trial = done->trial.id;
  CHECK(error_of([&] { s.get_trial(trial + 5); }) == path + ": no trial with id " + id(trial + 5));
  CHECK(error_of([&] { s.set_trial_state_values(trial, TrialState::Complete, std::nan("")); }) ==
        path + ": trial id " + id(trial) + ": a NaN value cannot be stored (make the trial FAIL)");
  REQUIRE(s.set_trial_state_values(trial, TrialState::Complete, 1.0));
  CHECK(error_of([&] { s.set_trial_user_attr(trial, "late", 1); }) ==
        path + ": trial 0 (id " + id(trial) + ") is already COMPLETE and cannot be changed");

  auto running = s.claim_trial(study, 10, "me", nullptr);
  REQUIRE(running);
  s.dialect().exec("UPDATE trial_heartbeats SET heartbeat = 'soon' WHERE trial_id = ?",
                   {running->trial.id});
  CHECK(error_of([&] { s.heartbeat_age(running->trial.id); }) ==
        path + ": trial id " + id(running->trial.id) + ": unreadable heartbeat 'soon'");
}

// The message refusing a too-long key can itself be stored, as the orchestrator stores it in
// fail_reason: the name shown in it is cut at a character boundary, never inside one.
TEST_CASE("sql storage refusals can be stored as a fail_reason", "[storage][sql]") {
  hpt::test::TempDir dir;
  auto s = open_storage(dir.file("r.db"));
  auto c = s->claim_trial(s->create_study("r", Direction::Minimize), 10, "me", nullptr);
  REQUIRE(c);
  std::string key;
  for (size_t i = 0; i <= k_max_name_chars; ++i) {
    key += "\u20ac";  // 3 bytes.
  }
  const std::string reason = error_of([&] { s->set_trial_user_attr(c->trial.id, key, 1); });
  REQUIRE_THAT(reason, Catch::Contains("513 characters"));
  s->set_trial_system_attr(c->trial.id, "fail_reason", reason);
  CHECK(s->get_trial(c->trial.id).system_attrs.at("fail_reason") == reason);
}

// A write whose last statement fails is rolled back whole: no trial, value, param or step of
// a failed create_trial (its number is taken again), and a failed finish leaves the trial
// RUNNING. The storage goes on working afterwards.
TEST_CASE("sql storage rolls back a write that fails midway", "[storage][sql]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("rb.db");
  auto storage = open_storage(path);
  auto& s = dynamic_cast<SqlStorage&>(*storage);
  const int64_t study = s.create_study("rb", Direction::Minimize);
  s.dialect().exec(
      "CREATE TRIGGER no_notes BEFORE INSERT ON trial_user_attributes WHEN NEW.\"key\" = "
      "'note' BEGIN SELECT RAISE(ABORT, 'notes are refused'); END");
  FrozenTrial t;
  t.state = TrialState::Complete;
  t.value = 1.0;
  t.params = {{"x", 0.5}};
  t.distributions = {{"x", FloatDistribution{0.0, 1.0, false, std::nullopt}}};
  t.intermediate_values = {{0, 0.5}};
  t.user_attrs = {{"note", "x"}};
  CHECK(error_of([&] { s.create_trial(study, t); }) ==
        path + ": cannot create a trial: notes are refused");
  CHECK(s.count_trials(study) == 0);
  for (const char* table : {"trial_values", "trial_params", "trial_intermediate_values"}) {
    INFO(table);
    CHECK(integer(s, std::string("SELECT COUNT(*) FROM ") + table) == 0);
  }

  auto c = s.claim_trial(study, 10, "me", nullptr);
  REQUIRE(c);
  CHECK(c->trial.number == 0);
  s.dialect().exec(
      "CREATE TRIGGER no_values BEFORE INSERT ON trial_values BEGIN SELECT RAISE(ABORT, "
      "'values are refused'); END");
  CHECK(error_of([&] { s.set_trial_state_values(c->trial.id, TrialState::Complete, 2.0); }) ==
        path + ": cannot finish a trial: values are refused");
  auto after = s.get_trial(c->trial.id);
  CHECK(after.state == TrialState::Running);
  CHECK_FALSE(after.datetime_complete);
  CHECK(after.values.empty());
  s.dialect().exec("DROP TRIGGER no_values");
  CHECK(s.set_trial_state_values(c->trial.id, TrialState::Complete, 2.0));
  CHECK(s.get_trial(c->trial.id).value == 2.0);
}

// Opened read-only, every write is refused before any SQL runs, with the database named and
// the operation stated; the database is unchanged.
TEST_CASE("sql storage opened read-only refuses every write", "[storage][sql]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("ro.db");
  make_study_db(path);
  auto ro = open_storage(path, true);
  const int64_t study = ro->find_study("s")->id;
  const FrozenTrial running = ro->get_all_trials(study).at(0);
  const int64_t id = running.id;
  const Distribution d = FloatDistribution{0.0, 1.0, false, std::nullopt};
  FrozenTrial waiting;
  waiting.state = TrialState::Waiting;
  const std::pair<const char*, std::function<void()>> writes[] = {
      {"create a study", [&] { ro->create_study("t", Direction::Minimize); }},
      {"set a study attribute", [&] { ro->set_study_user_attr(study, "k", 1); }},
      {"set a study attribute", [&] { ro->set_study_system_attr(study, "k", 1); }},
      {"claim a trial", [&] { ro->claim_trial(study, 10, "me", nullptr); }},
      {"create a trial", [&] { ro->create_trial(study, waiting); }},
      {"set a trial parameter", [&] { ro->set_trial_param(id, "x", 0.5, d); }},
      {"set an intermediate value", [&] { ro->set_trial_intermediate_value(id, 0, 1.0); }},
      {"set a trial attribute", [&] { ro->set_trial_user_attr(id, "k", 1); }},
      {"set a trial attribute", [&] { ro->set_trial_system_attr(id, "k", 1); }},
      {"finish a trial", [&] { ro->set_trial_state_values(id, TrialState::Complete, 1.0); }},
      {"record a heartbeat", [&] { ro->record_heartbeat(id); }},
  };
  for (const auto& [what, write] : writes) {
    INFO(what);
    CHECK(error_of(write) == path + ": cannot " + what + ": the database was opened read-only");
  }
  auto fresh = open_storage(path, true);
  CHECK(fresh->list_studies().size() == 1);
  CHECK(fresh->study_user_attrs(study).empty());
  CHECK(fresh->study_system_attrs(study).empty());
  const auto trials = fresh->get_all_trials(study);
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].state == TrialState::Running);
  CHECK(trials[0].params.empty());
  CHECK(trials[0].intermediate_values.empty());
  CHECK(trials[0].user_attrs.empty());
  CHECK(trials[0].system_attrs == running.system_attrs);
}

// SQLite's data_version does not move for a connection's own commits: a storage's own
// writes still reach its next snapshot. An unchanged database serves the same snapshot;
// a snapshot the caller holds never changes.
TEST_CASE("sql storage snapshots follow its own writes", "[storage][sql]") {
  hpt::test::TempDir dir;
  auto storage = open_storage(dir.file("own.db"));
  auto& s = *storage;
  const int64_t study = s.create_study("own", Direction::Minimize);
  CHECK(s.trials_snapshot(study)->empty());
  auto c = s.claim_trial(study, 10, "me", nullptr);
  REQUIRE(c);
  const auto held = s.trials_snapshot(study);
  REQUIRE(held->size() == 1);
  CHECK(held->at(0).state == TrialState::Running);
  CHECK(s.trials_snapshot(study) == held);  // Nothing changed: not read again.
  REQUIRE(s.set_trial_state_values(c->trial.id, TrialState::Complete, 1.0));
  const auto now = s.trials_snapshot(study);
  CHECK(now != held);
  CHECK(held->at(0).state == TrialState::Running);
  REQUIRE(now->size() == 1);
  CHECK(now->at(0).state == TrialState::Complete);
  CHECK(now->at(0).value == 1.0);
  CHECK(s.get_all_trials(study, {TrialState::Complete}).size() == 1);
}
