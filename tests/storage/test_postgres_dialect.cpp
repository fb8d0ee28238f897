// The PostgreSQL backend: the conformance suite, Optuna's schema and encodings, schema
// checks, concurrent schema creation, reconnects, and Optuna (psycopg2) reading hpt's study.
// Needs HPT_TEST_POSTGRES_URL (scripts/start-postgres.sh); without it the cases skip.

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "hpt/io/credentials.hpp"
#include "hpt/storage/postgres.hpp"
#include "optuna_python.hpp"
#include "storage_conformance.hpp"
#include "support/temp_dir.hpp"

namespace {

using hpt::Json;
using hpt::conformance::StorageFactory;

// The server's base URL, or "" after a WARN saying why the case is skipped.
std::string base_url() {
  const char* url = std::getenv("HPT_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    WARN("skipped: set HPT_TEST_POSTGRES_URL (eval \"$(scripts/start-postgres.sh)\")");
    return "";
  }
  if (!hpt::postgres_supported()) {
    WARN("skipped: hpt was built without PostgreSQL support (libpqxx)");
    return "";
  }
  return url;
}

// A database created for one test case and dropped (connections and all) afterwards.
class TempDatabase {
 public:
  explicit TempDatabase(const std::string& base) : m_base(base) {
    static std::atomic<int> counter{0};
    m_name = fmt::format("hpt_t_{}_{}", ::getpid(), counter++);
    auto slash = base.rfind('/');
    auto query = base.find('?', slash);
    m_url =
        base.substr(0, slash + 1) + m_name + (query == std::string::npos ? "" : base.substr(query));
    hpt::postgres_execute(m_base, "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    hpt::postgres_execute(m_base, "CREATE DATABASE " + m_name);
  }
  ~TempDatabase() {
    try {
      hpt::postgres_execute(m_base, "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    } catch (const std::exception&) {
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& url() const { return m_url; }
  const std::string& name() const { return m_name; }

 private:
  std::string m_base, m_name, m_url;
};

StorageFactory new_postgres_db() {
  std::string base = base_url();
  if (base.empty()) {
    return {};
  }
  auto db = std::make_shared<TempDatabase>(base);
  return [db]() { return hpt::open_storage(db->url()); };
}

// Output of a shell command (stdout + stderr) and its exit status.
std::pair<int, std::string> shell(const std::string& cmd) {
  FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n = 0;
  while (pipe != nullptr && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  int status = pipe == nullptr ? -1 : ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// pg_dump -s of a database without comments, SET lines and \restrict tokens.
std::string schema_dump(const std::string& url) {
  auto [rc, out] = shell("pg_dump -s --no-owner '" + url + "'");
  REQUIRE(rc == 0);
  std::string kept;
  size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find('\n', pos);
    std::string line = out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? out.size() : end + 1;
    if (line.empty() || line.rfind("--", 0) == 0 || line.rfind("SET ", 0) == 0 ||
        line.rfind("SELECT pg_catalog", 0) == 0 || line.rfind("\\", 0) == 0) {
      continue;
    }
    kept += line + "\n";
  }
  return kept;
}

// Kills every other connection to the database (a server restart, as the client sees it).
void drop_connections(const TempDatabase& db, const std::string& base) {
  hpt::postgres_execute(base,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "datname = '" +
                            db.name() + "' AND pid <> pg_backend_pid()");
}

}  // namespace

HPT_STORAGE_CONFORMANCE_TESTS("postgres", new_postgres_db)

// hpt creates exactly the schema Optuna 3.1 creates (pg_dump -s equal) and writes Optuna's
// version rows and value encodings.
TEST_CASE("postgres storage writes Optuna's schema and encodings", "[storage][postgres]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase mine(base);
  TempDatabase theirs(base);
  auto s = hpt::open_storage(mine.url());
  int64_t study = s->create_study("enc", hpt::Direction::Maximize);
  auto c = s->claim_trial(study, 5, Json{{"pid", 7}}, nullptr);
  s->set_trial_intermediate_value(c->trial.id, 0, std::nan(""));
  s->set_trial_intermediate_value(c->trial.id, 1, 0.1);
  s->set_trial_state_values(c->trial.id, hpt::TrialState::Complete, -HUGE_VAL);
  auto q = [&](const std::string& sql) {
    auto [rc, out] = shell("psql -XAtq '" + mine.url() + "' -c \"" + sql + "\"");
    REQUIRE(rc == 0);
    return out;
  };
  CHECK(q("SELECT schema_version || ' ' || library_version FROM version_info") == "12 3.1.0\n");
  CHECK(q("SELECT version_num FROM alembic_version") == "v3.0.0.d\n");
  CHECK(q("SELECT direction FROM study_directions") == "MAXIMIZE\n");
  CHECK(q("SELECT state || ' ' || number FROM trials") == "COMPLETE 0\n");
  CHECK(q("SELECT value_type || ' ' || (value IS NULL) FROM trial_values") == "INF_NEG true\n");
  CHECK(q("SELECT string_agg(intermediate_value_type || ':' || coalesce(intermediate_value::text, "
          "'null'), ',' ORDER BY step) FROM trial_intermediate_values") == "NAN:null,FINITE:0.1\n");
  CHECK(q("SELECT value_json FROM trial_system_attributes WHERE key = 'hpt:owner'") ==
        "{\"pid\": 7}\n");

  auto [rc, out] = hpt::test::run_python(
      hpt::test::TempDir().file("x.py"),
      "optuna.create_study(storage='" + theirs.url() + "', study_name='s')\nprint('OK')\n");
  if (hpt::test::optuna_missing(rc, out) || out.find("psycopg2") != std::string::npos) {
    WARN("skipped the DDL comparison: /usr/bin/python3 lacks optuna or psycopg2");
    return;
  }
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(schema_dump(mine.url()) == schema_dump(theirs.url()));
}

// Optuna (psycopg2) loads a study hpt wrote on PostgreSQL, and runs one more trial on it.
TEST_CASE("optuna reads a study hpt wrote on postgres", "[storage][postgres][optuna]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase db(base);
  {
    auto s = hpt::open_storage(db.url());
    int64_t study = s->create_study("hpt", hpt::Direction::Minimize);
    hpt::Distribution lr = hpt::FloatDistribution{1e-4, 1e-1, true, std::nullopt};
    hpt::Distribution head = hpt::CategoricalDistribution{{"linear", Json::array({64, 32})}};
    for (int i = 0; i < 3; ++i) {
      auto c = s->claim_trial(study, 10, Json{{"pid", 1}}, nullptr);
      s->set_trial_param(c->trial.id, "lr", 1e-3 * (i + 1), lr);
      s->set_trial_param(c->trial.id, "head", i % 2, head);
      s->set_trial_intermediate_value(c->trial.id, 0, 0.5 + i);
      s->set_trial_state_values(
          c->trial.id, i == 2 ? hpt::TrialState::Pruned : hpt::TrialState::Complete, 0.25 + i);
    }
  }
  hpt::test::TempDir dir;
  auto [rc, out] = hpt::test::run_python(dir.file("check.py"), R"PY(
import json
s = optuna.load_study(study_name="hpt", storage=")PY" + db.url() + R"PY(")
ts = s.get_trials()
assert [t.state.name for t in ts] == ["COMPLETE", "COMPLETE", "PRUNED"], ts
assert [t.value for t in ts] == [0.25, 1.25, 2.25], ts
assert ts[1].params["lr"] == 0.002, ts[1].params
assert json.loads(ts[1].params["head"]) == [64, 32], ts[1].params  # a list choice as JSON text
assert ts[2].intermediate_values == {0: 2.5}
assert s.best_trial.number == 0
s.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=1)
print("OK")
)PY");
  if (hpt::test::optuna_missing(rc, out) || out.find("psycopg2") != std::string::npos) {
    WARN("skipped: /usr/bin/python3 lacks optuna or psycopg2");
    return;
  }
  INFO(out);
  REQUIRE(rc == 0);
  auto s = hpt::open_storage(db.url(), true);
  auto all = s->get_all_trials(s->find_study("hpt")->id);
  REQUIRE(all.size() == 4);
  CHECK(all[3].number == 3);
  CHECK(all[3].state == hpt::TrialState::Complete);
}

// A newer schema, a foreign database and an empty one opened read-only are refused; a bad
// server address fails at once with the password hidden.
TEST_CASE("postgres storage refuses what it cannot read", "[storage][postgres]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase db(base);
  CHECK_THROWS_WITH(hpt::open_storage(db.url(), true),
                    Catch::Contains("empty database (no Optuna study schema)"));
  hpt::open_storage(db.url());
  hpt::postgres_execute(db.url(), "UPDATE version_info SET schema_version = 13");
  CHECK_THROWS_WITH(hpt::open_storage(db.url()), Catch::Contains("schema_version 13"));
  TempDatabase other(base);
  hpt::postgres_execute(other.url(), "CREATE TABLE mine (x INTEGER)");
  CHECK_THROWS_WITH(hpt::open_storage(other.url()),
                    Catch::Contains("without Optuna's study schema (tables: mine)"));
  try {
    hpt::open_storage("postgresql://hpt:s3cret@127.0.0.1:1/nowhere");
    FAIL("no error");
  } catch (const hpt::StorageError& e) {
    std::string what = e.what();
    CHECK(what.find("cannot connect") != std::string::npos);
    CHECK(what.find("s3cret") == std::string::npos);
    CHECK(what.find("postgresql://hpt:***@127.0.0.1:1/nowhere") == 0);
  }
}

// Four processes opening one empty database at once all succeed, and the schema is made once.
TEST_CASE("postgres schema creation is safe from several processes", "[storage][postgres]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase db(base);
  hpt::test::run_in_children(4, [&](int) { hpt::open_storage(db.url())->list_studies(); });
  CHECK(hpt::open_storage(db.url())->list_studies().empty());
}

// After the server drops the connection, calls reconnect and retry; a finish another
// connection committed meanwhile is not taken for this one's, and claims number on.
TEST_CASE("postgres storage reconnects and retries", "[storage][postgres]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase db(base);
  auto s = hpt::open_storage(db.url());
  auto other = hpt::open_storage(db.url());
  int64_t study = s->create_study("r", hpt::Direction::Minimize);
  auto a = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(a);
  drop_connections(db, base);
  s->set_trial_intermediate_value(a->trial.id, 0, 1.0);  // Reconnects.
  CHECK(other->get_trial(a->trial.id).intermediate_values.at(0) == 1.0);
  CHECK(other->set_trial_state_values(a->trial.id, hpt::TrialState::Complete, 2.0));
  drop_connections(db, base);
  CHECK_FALSE(s->set_trial_state_values(a->trial.id, hpt::TrialState::Complete, 2.0));
  drop_connections(db, base);
  auto next = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(next);
  CHECK(next->trial.number == 1);
  CHECK(s->count_trials(study) == 2);
}

// A database dropped under an open storage is not an outage: the server answers and refuses
// it, so the write fails at once, database-wide (the run stops), naming why; it was waited
// for as long as the outage wait (600 s by default) on every write.
TEST_CASE("postgres storage stops at once when its database is dropped", "[storage][postgres]") {
  std::string base = base_url();
  if (base.empty()) {
    return;
  }
  TempDatabase db(base);
  auto s = hpt::open_storage(db.url());
  s->set_outage_wait(std::chrono::seconds(60), nullptr);
  int64_t study = s->create_study("gone", hpt::Direction::Minimize);
  auto a = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(a);
  hpt::postgres_execute(base, "DROP DATABASE " + db.name() + " WITH (FORCE)");
  const auto t0 = std::chrono::steady_clock::now();
  try {
    s->set_trial_intermediate_value(a->trial.id, 0, 1.0);
    FAIL("a write to a dropped database succeeded");
  } catch (const hpt::StorageError& e) {
    CHECK(e.database_wide());
    CHECK_THAT(e.what(), Catch::Contains("does not exist"));
    CHECK_THAT(e.what(), Catch::Contains(db.name()));
  }
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

// postgresql:// and postgres:// URLs go to this backend (or say it is not built in); only
// the password is hidden in messages.
TEST_CASE("postgres URLs are recognized and redacted", "[storage][postgres]") {
  CHECK(hpt::is_postgres_url("postgresql://u:p@h:5432/db"));
  CHECK(hpt::is_postgres_url("postgres://h/db"));
  CHECK_FALSE(hpt::is_postgres_url("sqlite:///x.db"));
  CHECK_FALSE(hpt::is_postgres_url("postgresql.db"));
  CHECK(hpt::redact_credentials("postgresql://u:p4ss@h:5432/db?sslmode=require") ==
        "postgresql://u:***@h:5432/db?sslmode=require");
  CHECK(hpt::redact_credentials("postgres://u@h/db") == "postgres://u@h/db");
  if (!hpt::postgres_supported()) {
    CHECK_THROWS_WITH(hpt::open_storage("postgresql://u:p@h/db"),
                      Catch::Contains("hpt was built without PostgreSQL support"));
  }
}
