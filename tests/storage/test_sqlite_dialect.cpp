#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <regex>

#include "hpt/storage/sql_storage.hpp"
#include "storage_conformance.hpp"
#include "support/file_size_limit.hpp"
#include "support/temp_dir.hpp"

namespace {

using hpt::conformance::StorageFactory;

// A new database file in its own temporary directory; the factory keeps the directory.
StorageFactory new_sqlite_db() {
  auto dir = std::make_shared<hpt::test::TempDir>();
  return [dir]() { return hpt::open_storage("sqlite:///" + dir->file("study.db")); };
}

std::string text(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getString();
}

}  // namespace

HPT_STORAGE_CONFORMANCE_TESTS("sqlite", new_sqlite_db)

// The rows hpt writes use Optuna's encodings: state names, value types, NULL for
// non-finite numbers, Python-style JSON, SQLAlchemy datetimes (UTC heartbeats).
TEST_CASE("sqlite storage writes Optuna's value encodings", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  auto path = dir.file("enc.db");
  auto s = hpt::open_storage(path);
  int64_t study = s->create_study("enc", hpt::Direction::Maximize);
  auto c = s->claim_trial(study, 5, hpt::Json{{"pid", 7}}, nullptr);
  s->set_trial_param(c->trial.id, "lr", 0.001,
                     hpt::FloatDistribution{1e-5, 1.0, true, std::nullopt});
  s->set_trial_intermediate_value(c->trial.id, 0, std::nan(""));
  s->set_trial_intermediate_value(c->trial.id, 1, -HUGE_VAL);
  s->set_trial_intermediate_value(c->trial.id, 2, 0.5);
  s->set_trial_user_attr(c->trial.id, "a", hpt::Json{{"k", hpt::Json::array({1, "é"})}});
  s->set_trial_state_values(c->trial.id, hpt::TrialState::Complete, HUGE_VAL);

  SQLite::Database db(path);
  CHECK(text(db, "SELECT direction FROM study_directions") == "MAXIMIZE");
  CHECK(text(db, "SELECT state FROM trials") == "COMPLETE");
  CHECK(text(db, "SELECT number FROM trials") == "0");
  CHECK(text(db, "SELECT value_type || '|' || (value IS NULL) FROM trial_values") == "INF_POS|1");
  CHECK(text(db,
             "SELECT group_concat(intermediate_value_type || ':' || "
             "ifnull(intermediate_value, 'null'), ',') FROM (SELECT * FROM "
             "trial_intermediate_values ORDER BY step)") == "NAN:null,INF_NEG:null,FINITE:0.5");
  CHECK(text(db, "SELECT value_json FROM trial_user_attributes") == "{\"k\": [1, \"\\u00e9\"]}");
  CHECK(text(db, "SELECT value_json FROM trial_system_attributes WHERE key = 'hpt:owner'") ==
        "{\"pid\": 7}");
  CHECK(text(db, "SELECT param_value FROM trial_params") == "0.001");
  CHECK(text(db, "SELECT schema_version || ' ' || library_version FROM version_info") ==
        "12 3.1.0");
  CHECK(text(db, "SELECT version_num FROM alembic_version") == "v3.0.0.d");
  CHECK(text(db, "PRAGMA journal_mode") == "wal");
  std::regex datetime(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})");
  CHECK(std::regex_match(text(db, "SELECT datetime_start FROM trials"), datetime));
  CHECK(std::regex_match(text(db, "SELECT datetime_complete FROM trials"), datetime));
  auto heartbeat = text(db, "SELECT heartbeat FROM trial_heartbeats");
  CHECK(std::regex_match(heartbeat, datetime));
  // Heartbeats are UTC, as SQL CURRENT_TIMESTAMP (Optuna's func.now()) writes them.
  CHECK(std::abs(db.execAndGet("SELECT (julianday('now') - julianday('" + heartbeat + "')) * 86400")
                     .getDouble()) < 10);
}

// Reads follow the cache rules: a second get_all_trials serves finished trials from
// memory (changes made behind its back to a finished trial stay unseen) but re-reads
// unfinished ones.
TEST_CASE("sqlite storage caches finished trials only", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  auto path = dir.file("cache.db");
  auto s = hpt::open_storage(path);
  int64_t study = s->create_study("cache", hpt::Direction::Minimize);
  auto done = s->claim_trial(study, 5, 1, nullptr);
  s->set_trial_state_values(done->trial.id, hpt::TrialState::Complete, 1.0);
  auto running = s->claim_trial(study, 5, 1, nullptr);
  REQUIRE(s->get_all_trials(study).size() == 2);
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE trial_values SET value = 99 WHERE trial_id = " +
             std::to_string(done->trial.id));
    raw.exec("INSERT INTO trial_user_attributes (trial_id, key, value_json) VALUES (" +
             std::to_string(running->trial.id) + ", 'seen', 'true')");
  }
  auto all = s->get_all_trials(study);
  CHECK(all[0].value == 1.0);  // From the cache.
  CHECK(all[1].user_attrs.at("seen") == true);
  CHECK(hpt::open_storage(path)->get_all_trials(study)[0].value == 99.0);  // Fresh reader.
}

// A storage opened read-only reads but refuses every write with a StorageError.
TEST_CASE("sqlite storage opened read-only refuses writes", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  auto path = dir.file("ro.db");
  int64_t study = hpt::open_storage(path)->create_study("ro", hpt::Direction::Minimize);
  auto ro = hpt::open_storage(path, true);
  CHECK(ro->list_studies().size() == 1);
  CHECK(ro->get_all_trials(study).empty());
  CHECK_THROWS_WITH(ro->create_study("x", hpt::Direction::Minimize),
                    Catch::Contains("read-only") && Catch::Contains("ro.db"));
  CHECK_THROWS_AS(ro->claim_trial(study, 1, 1, nullptr), hpt::StorageError);
}

// A database file deleted or replaced while open is noticed (its writes go to a file no path
// names); save_copy writes everything, the last commits too, to a new file, never over one.
TEST_CASE("sqlite storage notices its file moved and saves a copy", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  const auto path = dir.file("s.db");
  auto s = hpt::open_storage(path);
  const int64_t study = s->create_study("s", hpt::Direction::Minimize);
  hpt::FrozenTrial done;
  done.state = hpt::TrialState::Complete;
  done.value = 0.5;
  s->create_trial(study, done);
  CHECK_FALSE(s->file_moved());
  std::filesystem::remove(path);
  CHECK(s->file_moved());
  s->create_trial(study, done);  // Goes to the deleted file.
  s->save_copy(path);
  auto copy = hpt::open_storage(path, true);
  REQUIRE(copy->list_studies().size() == 1);
  CHECK(copy->count_trials(copy->list_studies()[0].id, {hpt::TrialState::Complete}) == 2);
  CHECK_THROWS_WITH(s->save_copy(path), Catch::Contains("cannot save a copy to '" + path + "'"));

  auto other = hpt::open_storage(dir.file("t.db"));
  std::filesystem::rename(dir.file("t.db"), path);  // Replaced: the path names another file.
  CHECK(s->file_moved());
  CHECK(other->file_moved());

  // Its -shm deleted ("rm s.db-shm" for a lock): another process would map a fresh one, blind
  // to this one's writes, and corrupt the database (a second run did, in 6 of 6 tries).
  auto third = hpt::open_storage(dir.file("u.db"));
  third->create_study("u", hpt::Direction::Minimize);
  CHECK_FALSE(third->file_moved());
  REQUIRE(std::filesystem::remove(dir.file("u.db-shm")));
  CHECK(third->file_moved());
}

// A full disk (simulated with max_page_count) surfaces as a StorageError naming it, and
// the failed transaction leaves the study readable.
TEST_CASE("sqlite storage reports a full disk", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  auto path = dir.file("full.db");
  auto storage = hpt::open_storage(path);
  auto* s = dynamic_cast<hpt::SqlStorage*>(storage.get());
  REQUIRE(s != nullptr);
  int64_t study = s->create_study("full", hpt::Direction::Minimize);
  auto c = s->claim_trial(study, 1, 1, nullptr);
  int64_t pages = 0;
  s->dialect().query("PRAGMA page_count", {}, [&](const hpt::SqlRow& r) { pages = r.integer(0); });
  s->dialect().query("PRAGMA max_page_count = " + std::to_string(pages + 1), {},
                     [](const hpt::SqlRow&) {});
  std::string big(3000, 'x');
  std::string message;
  bool database_wide = false;
  try {
    for (int i = 0; i < 100; ++i) {
      s->set_trial_user_attr(c->trial.id, "k" + std::to_string(i), big);
    }
  } catch (const hpt::StorageError& e) {
    message = e.what();
    database_wide = e.database_wide();
  }
  CHECK_THAT(message, Catch::Contains("full.db") && Catch::Contains("disk is full"));
  CHECK(database_wide);  // Every write is refused: not this attribute's fault.
  CHECK(s->get_all_trials(study).size() == 1);
  // A refusal of the call's own arguments is not database-wide.
  try {
    s->set_trial_user_attr(c->trial.id + 100, "k", 1);
    FAIL("no error");
  } catch (const hpt::StorageError& e) {
    CHECK_FALSE(e.database_wide());
  }
}

// The file-size limit (ulimit -f) mid-study is named as a likely cause: SQLite keeps no system
// error for the refused write, and it read "I/O error (disk I/O error)".
TEST_CASE("sqlite storage names the file-size limit", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  auto storage = hpt::open_storage(dir.file("limit.db"));
  const int64_t study = storage->create_study("s", hpt::Direction::Minimize);
  const auto c = storage->claim_trial(study, 1, 1, nullptr);
  std::string message;
  {
    const hpt::test::FileSizeLimit limit(
        static_cast<rlim_t>(std::filesystem::file_size(dir.file("limit.db-wal")) +
                            8192));  // As hpt's main: EFBIG, not SIGXFSZ.
    try {
      for (int i = 0; i < 100; ++i) {
        storage->set_trial_user_attr(c->trial.id, "k" + std::to_string(i), std::string(3000, 'x'));
      }
    } catch (const hpt::StorageError& e) {
      message = e.what();
    }
  }
  CHECK_THAT(message, Catch::Contains("cannot set a trial attribute: a write failed: a file may "
                                      "have reached this process's file-size limit (ulimit -f: "));
}

namespace {

// Fills a study with n finished trials (4 params, 20 intermediate values, 2 attrs each)
// plus 4 running ones (synchronous=OFF: the fsyncs are not what is measured).
void fill_study(hpt::SqlStorage& s, int64_t study, int n) {
  s.dialect().exec("PRAGMA synchronous = OFF");
  for (int i = 0; i < n + 4; ++i) {
    hpt::FrozenTrial t;
    t.state = i < n ? hpt::TrialState::Complete : hpt::TrialState::Running;
    t.value = i < n ? std::optional<double>(0.001 * i) : std::nullopt;
    t.distributions = {{"lr", hpt::FloatDistribution{1e-5, 1.0, true, std::nullopt}},
                       {"wd", hpt::FloatDistribution{0.0, 0.1, false, std::nullopt}},
                       {"layers", hpt::IntDistribution{1, 8, false, 1}},
                       {"opt", hpt::CategoricalDistribution{{"adam", "sgd"}}}};
    t.params = {{"lr", 1e-3}, {"wd", 0.01}, {"layers", i % 8 + 1}, {"opt", i % 2}};
    for (int step = 0; step < 20; ++step) {
      t.intermediate_values[step] = 1.0 / (step + 1);
    }
    t.user_attrs = {{"duration_s", 12.5}, {"note", "x"}};
    s.create_trial(study, t);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// Times get_all_trials at 1,000 and 10,000 trials: the first (cold) read and the
// following (cached) ones. Hidden; run with: test_storage "[.bench]" -s
TEST_CASE("sqlite get_all_trials speed", "[.bench][storage]") {
  for (int n : {1000, 10000}) {
    hpt::test::TempDir dir;
    auto path = dir.file("bench.db");
    auto storage = hpt::open_storage(path);
    auto& s = dynamic_cast<hpt::SqlStorage&>(*storage);
    int64_t study = s.create_study("bench", hpt::Direction::Minimize);
    fill_study(s, study, n);
    auto reader = hpt::open_storage(path);
    auto t0 = std::chrono::steady_clock::now();
    auto all = reader->get_all_trials(study);
    double cold = seconds_since(t0);
    REQUIRE(all.size() == static_cast<size_t>(n + 4));
    constexpr int k_reps = 20;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < k_reps; ++i) {
      all = reader->get_all_trials(study);
    }
    double copied = seconds_since(t0) / k_reps;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < k_reps; ++i) {
      REQUIRE(reader->trials_snapshot(study)->size() == static_cast<size_t>(n + 4));
    }
    double unchanged = seconds_since(t0) / k_reps;
    // The per-suggestion pattern: another connection finishes a trial and claims the next.
    double changed = 0.0;
    for (int i = 0; i < k_reps; ++i) {
      auto running = s.get_all_trials(study, {hpt::TrialState::Running}).front();
      s.set_trial_state_values(running.id, hpt::TrialState::Complete, 1.0);
      s.claim_trial(study, n + 100, 1, nullptr);
      t0 = std::chrono::steady_clock::now();
      auto snap = reader->trials_snapshot(study);
      changed += seconds_since(t0) / k_reps;
      REQUIRE(snap->at(running.number).state == hpt::TrialState::Complete);
    }
    WARN(n << " trials: get_all_trials cold " << cold * 1e3 << " ms, cached (copy) " << copied * 1e3
           << " ms; trials_snapshot unchanged " << unchanged * 1e3 << " ms, after a finish + claim "
           << changed * 1e3 << " ms");
  }
}

// Whatever rows a database holds, reads do not throw or recurse: a 300,000-deep attribute,
// invalid JSON, an unknown state, NaN and wrong-typed values, garbage distributions and
// choice indexes out of range; an unreadable row is left out or replaced, with a note in
// hpt:read_problems. Study directions NOT_SET, missing or unknown read as NotSet.
// A study whose trial numbers (another tool's) reach the largest int takes no new trial: its
// number would not fit FrozenTrial's, and wrapped onto an earlier trial's log.
TEST_CASE("sqlite storage refuses a trial number beyond an int", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("numbers.db");
  auto s = hpt::open_storage("sqlite:///" + path);
  const int64_t study = s->create_study("n", hpt::Direction::Minimize);
  REQUIRE(s->claim_trial(study, 10, hpt::Json("me"), nullptr));
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE trials SET number = 2147483647");
  }
  CHECK_THROWS_WITH(s->claim_trial(study, 10, hpt::Json("me"), nullptr),
                    Catch::EndsWith("cannot claim a trial: the study's trial numbers reach "
                                    "2147483647; hpt numbers trials up to 2147483647"));
  CHECK(s->count_trials(study) == 1);
}

// A number SQLite's loose typing keeps as stored ('x', 2.5: a hand edit) reads as -1 with a
// note, and new trials are numbered above the integer numbers: MAX ranked the text above them
// and gave every new trial the same number.
TEST_CASE("sqlite storage numbers new trials past a number that is not an integer",
          "[storage][sqlite]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("text_number.db");
  auto s = hpt::open_storage("sqlite:///" + path);
  const int64_t study = s->create_study("n", hpt::Direction::Minimize);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(s->claim_trial(study, 10, hpt::Json("me"), nullptr));
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE trials SET number = 'x' WHERE number = 2");
    db.exec("UPDATE trials SET number = 2.5 WHERE number = 1");
  }
  const auto a = s->claim_trial(study, 10, hpt::Json("me"), nullptr);
  hpt::FrozenTrial templ;
  templ.state = hpt::TrialState::Waiting;
  const int64_t b = s->create_trial(study, templ);
  REQUIRE(a);
  CHECK(a->trial.number == 1);
  CHECK(s->get_trial(b).number == 2);
  std::vector<int> numbers;
  for (const auto& t : s->get_all_trials(study)) {
    numbers.push_back(t.number);
  }
  std::sort(numbers.begin(), numbers.end());
  CHECK(numbers == std::vector<int>{-1, -1, 0, 1, 2});
  const auto read_back = s->get_all_trials(study);
  int noted = 0;
  for (const auto& t : read_back) {
    const auto it = t.system_attrs.find(hpt::k_read_problems_attr);
    if (it != t.system_attrs.end()) {
      const std::string note = it->second.at(0).get<std::string>();
      CHECK((note == "trial number 'x' is not an integer, read as -1" ||
             note == "trial number '2.5' is not an integer, read as -1"));
      ++noted;
    }
  }
  CHECK(noted == 2);
}

TEST_CASE("sqlite storage reads whatever a database holds", "[storage][sqlite]") {
  hpt::test::TempDir dir;
  const std::string path = dir.file("hostile.db");
  int64_t study = 0;
  {
    auto s = hpt::open_storage("sqlite:///" + path);
    study = s->create_study("h", hpt::Direction::Minimize);
    s->create_study("notset", hpt::Direction::Minimize);
    s->create_study("nodir", hpt::Direction::Minimize);
    s->create_study("mo", {hpt::Direction::Maximize, hpt::Direction::Minimize});
    hpt::FrozenTrial t;
    t.state = hpt::TrialState::Complete;
    t.value = 1.0;
    t.params = {{"x", 0.5}, {"c", 1}};
    t.distributions = {{"x", hpt::FloatDistribution{0.0, 1.0, false, std::nullopt}},
                       {"c", hpt::CategoricalDistribution{{"a", "b"}}}};
    for (int i = 0; i < 3; ++i) {
      s->create_trial(study, t);
    }
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    const std::string deep = std::string(300000, '[') + std::string(300000, ']');
    SQLite::Statement ins(db,
                          "INSERT INTO trial_user_attributes (trial_id, key, value_json) "
                          "VALUES (1, 'deep', ?), (1, 'bad', '{\"a\": '), (1, 'huge', ?)");
    ins.bind(1, deep);
    ins.bind(2, "\"" + std::string(1 << 20, 'z') + "\"");
    ins.exec();
    db.exec(
        "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (1, 'x', "
        "'NaN'), (1, 'hpt:read_problems', '\"forged\"')");
    db.exec("UPDATE trials SET state = 'EXPLODED' WHERE trial_id = 2");
    db.exec(
        "UPDATE trial_params SET distribution_json = '{\"name\": \"FloatDistribution\"' "
        "WHERE trial_id = 2 AND param_name = 'x'");
    db.exec("UPDATE trial_params SET param_value = 7 WHERE trial_id = 3 AND param_name = 'c'");
    SQLite::Statement deep_dist(
        db,
        "UPDATE trial_params SET distribution_json = ? WHERE trial_id = 3 AND param_name = 'x'");
    deep_dist.bind(1, deep);
    deep_dist.exec();
    db.exec("UPDATE trial_values SET value = 'text', value_type = 'FINITE' WHERE trial_id = 3");
    db.exec("UPDATE trial_params SET param_value = x'00' WHERE trial_id = 1 AND param_name = 'x'");
    db.exec("UPDATE study_directions SET direction = 'NOT_SET' WHERE study_id = 2");
    db.exec("DELETE FROM study_directions WHERE study_id = 3");
    db.exec(
        "UPDATE study_directions SET direction = 'SIDEWAYS' WHERE study_id = 4 AND "
        "objective = 1");
  }
  auto s = hpt::open_storage("sqlite:///" + path, true);
  const auto studies = s->list_studies();
  REQUIRE(studies.size() == 4);
  CHECK(studies[1].directions == std::vector<hpt::Direction>{hpt::Direction::NotSet});
  CHECK(studies[2].directions == std::vector<hpt::Direction>{hpt::Direction::NotSet});
  CHECK(studies[3].directions ==
        std::vector<hpt::Direction>{hpt::Direction::Maximize, hpt::Direction::NotSet});
  const auto trials = s->get_all_trials(study);
  REQUIRE(trials.size() == 3);
  const auto& first = trials[0];
  CHECK(first.user_attrs.at("deep").get<std::string>().find("<unreadable") == 0);
  CHECK(first.user_attrs.at("bad").get<std::string>().find("<unreadable") == 0);
  CHECK(first.user_attrs.at("huge").get<std::string>().size() == (1u << 20));
  CHECK(std::isnan(first.system_attrs.at("x").get<double>()));
  CHECK(first.params.count("x") == 0);  // A blob is no value: left out, not read as 0.
  CHECK(first.system_attrs.at("hpt:read_problems") ==
        hpt::Json::array({"param x: value nan is not in its distribution",
                          "user attribute bad: malformed JSON: '{\"a\": '",
                          "user attribute deep: JSON nested deeper than 256 levels"}));
  CHECK(trials[1].state == hpt::TrialState::Fail);
  CHECK(trials[1].params.count("x") == 0);
  CHECK(trials[1].system_attrs.at("hpt:read_problems").size() == 2);
  CHECK(trials[2].params.empty());
  // SQLite's 'text' is no number (getDouble would say 0, which could pass for the best value).
  CHECK(trials[2].system_attrs.at("hpt:read_problems").size() == 3);
  CHECK(trials[2].system_attrs.at("hpt:read_problems")[2] == "value of objective 0: not a number");
  REQUIRE(trials[2].value);
  CHECK(std::isnan(*trials[2].value));
}
