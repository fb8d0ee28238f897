#include <fmt/format.h>

#include "hpt/storage/credentials.hpp"
#include "hpt/storage/postgres.hpp"

#ifdef HPT_WITH_POSTGRES
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <utility>

#include "hpt/storage/optuna_json.hpp"
#include "hpt/storage/sql_datetime.hpp"
#include "optuna_encoding.hpp"
#include "optuna_schema_check.hpp"
#include "postgres_schema.hpp"
#include "postgres_storage.hpp"
#include "trial_arguments.hpp"
#endif

namespace hpt {

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

#ifndef HPT_WITH_POSTGRES

bool postgres_supported() { return false; }

std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool) {
  throw StorageError(redact_credentials(url) +
                     ": hpt was built without PostgreSQL support (install libpqxx-dev and "
                     "reconfigure)");
}

void postgres_execute(const std::string& url, const std::string&) {
  open_postgres_storage(url, false);
}

#else

namespace {

// Advisory lock keys: one for creating the schema, (class, study_id) for numbering trials.
constexpr int64_t k_schema_lock = 0x6870745f736368;  // "hpt_sch"
constexpr int k_study_lock_class = 0x687074;         // "hpt"
// Reconnect attempts after a lost connection (backoff 0.1 s doubling to 5 s: ~30 s in all),
// and retries of a transaction the server rolled back (deadlock, serialization).
constexpr int k_reconnect_attempts = 10;
constexpr int k_rollback_retries = 5;

// Shortest text that reads back as the same double.
std::string double_text(double v) { return fmt::format("{}", v); }

double parse_double(const pqxx::field& f) { return std::strtod(f.c_str(), nullptr); }

// encode_value for a text parameter (exact: the shortest text that reads back).
std::optional<std::string> value_text(const StoredValue& stored) {
  return stored.value ? std::optional<std::string>(double_text(*stored.value)) : std::nullopt;
}

std::optional<double> optional_double(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<double>(parse_double(f));
}

// A nullable text parameter: libpqxx sends a null const char* as NULL.
const char* nullable(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

std::optional<std::string> optional_text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
}

// "{1,2,3}": an integer[] literal for "= ANY($1::integer[])".
template <class It, class Get>
std::string id_array(It begin, It end, Get get) {
  std::string out = "{";
  for (auto it = begin; it != end; ++it) {
    out += (out.size() > 1 ? "," : "") + std::to_string(get(*it));
  }
  return out + "}";
}

// The first line of a libpqxx message ("ERROR:  ..." without the query).
std::string first_line(const char* what) {
  std::string s(what);
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// libpq reads URI parameters after '?': add a connect timeout unless the user set one.
std::string with_defaults(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) {
    return url;
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
}

}  // namespace

bool postgres_supported() { return true; }

std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool read_only) {
  return std::make_unique<PostgresStorage>(url, read_only);
}

void postgres_execute(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection conn(with_defaults(url));
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
  } catch (const pqxx::failure& e) {
    throw StorageError(redact_credentials(url + ": " + first_line(e.what()), url));
  }
}

void PostgresStorage::fail(const std::string& problem) const {
  throw StorageError(redact_credentials(m_url + ": " + problem, m_url));
}

void PostgresStorage::connect() {
  m_conn.reset();
  auto conn = std::make_unique<pqxx::connection>(with_defaults(m_url));
  // ISO datetimes ("2024-01-02 03:04:05.678901"), as parse_sql_datetime reads them.
  pqxx::nontransaction tx(*conn);
  tx.exec("SET DateStyle = 'ISO, YMD'");
  if (m_read_only) {
    tx.exec("SET default_transaction_read_only = on");
  }
  tx.commit();
  m_conn = std::move(conn);
}

// Runs body(tx) in one transaction: READ COMMITTED for writes, a REPEATABLE READ snapshot
// for reads. A lost connection is reopened and the transaction retried with backoff; the
// bodies are idempotent or check m_reconnected.
template <class F>
auto PostgresStorage::run(const char* what, bool write, F&& body) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  if (write && m_read_only) {
    fail(std::string("cannot ") + what + ": the database was opened read-only");
  }
  if (m_tx != nullptr) {
    return body(*m_tx);  // Nested in claim_trial's transaction (the is_orphan callback).
  }
  int lost = 0;
  int rolled_back = 0;
  m_reconnected = false;
  for (;;) {
    std::string problem;
    try {
      if (!m_conn || !m_conn->is_open()) {
        connect();
      }
      std::unique_ptr<Tx> tx;
      if (write) {
        tx = std::make_unique<pqxx::work>(*m_conn);
      } else {
        tx = std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> >(*m_conn);
      }
      struct Current {
        Tx*& slot;
        Current(Tx*& s, Tx* t) : slot(s) { slot = t; }
        ~Current() { slot = nullptr; }
      } current(m_tx, tx.get());
      if constexpr (std::is_void_v<decltype(body(*tx))>) {
        body(*tx);
        tx->commit();
        m_reconnected = false;
        return;
      } else {
        auto result = body(*tx);
        tx->commit();
        m_reconnected = false;
        return result;
      }
    } catch (const StorageError&) {
      m_reconnected = false;
      throw;
    } catch (const pqxx::broken_connection& e) {
      problem = first_line(e.what());
    } catch (const pqxx::in_doubt_error& e) {
      problem = first_line(e.what());
    } catch (const pqxx::transaction_rollback& e) {
      // Deadlock or serialization failure: nothing was written; run it again.
      if (++rolled_back <= k_rollback_retries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10 << rolled_back));
        continue;
      }
      m_reconnected = false;
      fail(std::string("cannot ") + what + ": " + first_line(e.what()));
    } catch (const pqxx::failure& e) {
      m_reconnected = false;
      fail(std::string("cannot ") + what + ": " + first_line(e.what()));
    } catch (const std::exception& e) {
      m_reconnected = false;
      fail(std::string("cannot ") + what + ": " + e.what());
    }
    // The connection was lost, perhaps after the server committed: reconnect and retry.
    m_conn.reset();
    if (++lost > k_reconnect_attempts) {
      m_reconnected = false;
      fail(
          fmt::format("cannot {}: lost the connection ({}) and could not reconnect in {} "
                      "attempts",
                      what, problem, k_reconnect_attempts));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 << (lost - 1), 5000)));
    m_reconnected = true;
  }
}

PostgresStorage::PostgresStorage(std::string url, bool read_only)
    : m_url(std::move(url)), m_read_only(read_only) {
  try {
    connect();  // A wrong URL fails now, without the reconnect backoff.
  } catch (const pqxx::failure& e) {
    fail("cannot connect: " + first_line(e.what()));
  }
  run("open the study database", !read_only, [&](Tx& tx) { prepare_schema(tx); });
}

PostgresStorage::~PostgresStorage() = default;

void PostgresStorage::prepare_schema(Tx& tx) {
  auto table_names = [&] {
    std::set<std::string> names;
    for (const auto& row :
         tx.exec("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                 "current_schema() AND table_type = 'BASE TABLE'")) {
      names.insert(row[0].c_str());
    }
    return names;
  };
  if (!m_read_only) {
    // Two processes opening an empty database at once: the second waits, then sees it.
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_schema_lock) + ")");
  }
  auto tables = table_names();
  if (tables.empty()) {
    if (m_read_only) {
      fail("empty database (no Optuna study schema)");
    }
    for (const auto& ddl : postgres_schema_ddl()) {
      tx.exec(ddl);
    }
    tx.exec_params(
        "INSERT INTO version_info (version_info_id, schema_version, library_version) "
        "VALUES (1, $1, $2)",
        k_optuna_schema_version, k_optuna_library_version);
    tx.exec_params("INSERT INTO alembic_version (version_num) VALUES ($1)",
                   k_optuna_alembic_version);
    tables = table_names();
  }
  if (auto problem = optuna_tables_problem(std::vector<std::string>(tables.begin(), tables.end()),
                                           "a database")) {
    fail(*problem);
  }
  auto v = tx.exec("SELECT schema_version, library_version FROM version_info");
  if (v.empty()) {
    fail("Optuna schema without a version_info row");
  }
  int64_t schema_version = v[0][0].as<int64_t>();
  std::string library_version = v[0][1].is_null() ? "?" : v[0][1].c_str();
  if (auto problem = schema_version_problem(schema_version, library_version)) {
    fail(*problem);
  }
  auto a = tx.exec("SELECT version_num FROM alembic_version");
  if (a.empty()) {
    fail("Optuna schema without an alembic_version row");
  }
  std::string revision = a[0][0].c_str();
  if (revision != k_optuna_alembic_version) {
    fail(fmt::format(
        "alembic revision '{}' (Optuna {}); hpt reads {} (Optuna 3.0-3.1){}", revision,
        library_version, k_optuna_alembic_version,
        revision < k_optuna_alembic_version ? "; upgrade it with `optuna storage upgrade`" : ""));
  }
}

void PostgresStorage::lock_study(Tx& tx, int64_t study_id) {
  tx.exec_params("SELECT pg_advisory_xact_lock($1, $2)", k_study_lock_class,
                 static_cast<int>(study_id));
}

void PostgresStorage::require_study(Tx& tx, int64_t study_id) {
  if (tx.exec_params("SELECT 1 FROM studies WHERE study_id = $1", study_id).empty()) {
    fail(fmt::format("no study with id {}", study_id));
  }
}

void PostgresStorage::require_updatable_trial(Tx& tx, int64_t trial_id) {
  auto r = tx.exec_params("SELECT number, state FROM trials WHERE trial_id = $1", trial_id);
  if (r.empty()) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  std::string state = r[0][1].c_str();
  if (is_finished(trial_state_from_name(state))) {
    fail(fmt::format("trial {} (id {}) is already {} and cannot be changed", r[0][0].c_str(),
                     trial_id, state));
  }
}

void PostgresStorage::upsert_attr(Tx& tx, const char* table, const char* owner_column,
                                  int64_t owner_id, const std::string& key, const Json& v) {
  if (auto problem = name_problem("attribute key", key)) {
    fail(*problem);
  }
  tx.exec_params(fmt::format("INSERT INTO {0} ({1}, key, value_json) VALUES ($1, $2, $3) "
                             "ON CONFLICT ({1}, key) DO UPDATE SET value_json = "
                             "EXCLUDED.value_json",
                             table, owner_column),
                 owner_id, key, python_json_dumps(v));
}

std::map<std::string, Json> PostgresStorage::load_attrs(Tx& tx, const char* table,
                                                        const char* owner_column,
                                                        int64_t owner_id) {
  std::map<std::string, Json> out;
  for (const auto& row : tx.exec_params(
           fmt::format("SELECT key, value_json FROM {} WHERE {} = $1", table, owner_column),
           owner_id)) {
    out[row[0].c_str()] = stored_json_or_note(row[1].is_null() ? "" : row[1].c_str());
  }
  return out;
}

void PostgresStorage::upsert_value(Tx& tx, int64_t trial_id, int64_t objective, double value) {
  auto stored = encode_value(value);
  auto text = value_text(stored);
  tx.exec_params(
      "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (trial_id, objective) DO UPDATE SET value = EXCLUDED.value, value_type = "
      "EXCLUDED.value_type",
      trial_id, objective, nullable(text), stored.type);
}

void PostgresStorage::upsert_intermediate(Tx& tx, int64_t trial_id, int64_t step, double value) {
  auto stored = encode_value(value);
  auto text = value_text(stored);
  tx.exec_params(
      "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
      "intermediate_value_type) VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, step) DO UPDATE "
      "SET intermediate_value = EXCLUDED.intermediate_value, intermediate_value_type = "
      "EXCLUDED.intermediate_value_type",
      trial_id, step, nullable(text), stored.type);
}

void PostgresStorage::upsert_param(Tx& tx, int64_t trial_id, const std::string& name,
                                   double internal, const std::string& distribution_json) {
  if (auto problem = name_problem("parameter name", name)) {
    fail(*problem);
  }
  tx.exec_params(
      "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES "
      "($1, $2, $3, $4) ON CONFLICT (trial_id, param_name) DO UPDATE SET param_value = "
      "EXCLUDED.param_value, distribution_json = EXCLUDED.distribution_json",
      trial_id, name, double_text(internal), distribution_json);
}

void PostgresStorage::upsert_heartbeat(Tx& tx, int64_t trial_id) {
  tx.exec_params(
      "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES ($1, clock_timestamp() AT "
      "TIME ZONE 'UTC') ON CONFLICT (trial_id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat",
      trial_id);
}

void PostgresStorage::mark_running(Tx& tx, int64_t trial_id, const Json& owner) {
  tx.exec_params(
      "UPDATE trials SET state = 'RUNNING', datetime_start = $1, datetime_complete = NULL "
      "WHERE trial_id = $2",
      now_local(), trial_id);
  upsert_attr(tx, "trial_system_attributes", "trial_id", trial_id, "hpt:owner", owner);
  upsert_heartbeat(tx, trial_id);
}

std::vector<TrialRow> PostgresStorage::select_trial_rows(Tx& tx, const std::string& where,
                                                         int64_t key, const std::string& extra) {
  std::vector<TrialRow> rows;
  auto sql =
      "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE " +
      where + " ORDER BY number, trial_id";
  auto result = extra.empty() ? tx.exec_params(sql, key) : tx.exec_params(sql, key, extra);
  rows.reserve(result.size());
  for (const auto& row : result) {
    TrialRow r;
    r.id = row[0].as<int64_t>();
    r.number = row[1].is_null() ? -1 : row[1].as<int>();
    r.state = row[2].c_str();
    r.start = optional_text(row[3]);
    r.complete = optional_text(row[4]);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<FrozenTrial> PostgresStorage::load_trials(Tx& tx, const std::vector<TrialRow>& rows) {
  TrialAssembler trials(rows, m_distributions);
  if (rows.empty()) {
    return trials.take();
  }
  std::string ids = id_array(rows.begin(), rows.end(), [](const TrialRow& r) { return r.id; });
  // One query per table for all the trials.
  auto each = [&](const std::string& columns, const std::string& table, const char* extra,
                  auto&& fn) {
    for (const auto& row : tx.exec_params(
             fmt::format("SELECT trial_id, {} FROM {} WHERE trial_id = ANY($1::integer[]){}",
                         columns, table, extra),
             ids)) {
      fn(row[0].as<int64_t>(), row);
    }
  };
  each("param_name, param_value, distribution_json", "trial_params", "",
       [&](int64_t id, const pqxx::row& row) {
         trials.add_param(id, row[1].c_str(), parse_double(row[2]), row[3].c_str());
       });
  each("objective, value, value_type", "trial_values", "", [&](int64_t id, const pqxx::row& row) {
    trials.add_value(id, row[1].as<int64_t>(), optional_double(row[2]), row[3].c_str());
  });
  each("step, intermediate_value, intermediate_value_type", "trial_intermediate_values", "",
       [&](int64_t id, const pqxx::row& row) {
         trials.add_intermediate(id, row[1].as<int64_t>(), optional_double(row[2]), row[3].c_str());
       });
  each("key, value_json", "trial_user_attributes", "", [&](int64_t id, const pqxx::row& row) {
    trials.add_user_attr(id, row[1].c_str(), row[2].c_str());
  });
  each("key, value_json", "trial_system_attributes", "", [&](int64_t id, const pqxx::row& row) {
    trials.add_system_attr(id, row[1].c_str(), row[2].c_str());
  });
  return trials.take();
}

FrozenTrial PostgresStorage::load_trial(Tx& tx, int64_t trial_id) {
  auto rows = select_trial_rows(tx, "trial_id = $1", trial_id);
  if (rows.empty()) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  return load_trials(tx, rows).front();
}

int64_t PostgresStorage::create_study(const std::string& name,
                                      const std::vector<Direction>& directions) {
  if (auto problem = name_problem("study name", name)) {
    fail(*problem);
  }
  if (directions.empty()) {
    fail("a study needs at least one direction");
  }
  return run("create a study", true, [&](Tx& tx) {
    if (!tx.exec_params("SELECT 1 FROM studies WHERE study_name = $1", name).empty()) {
      fail("a study named '" + name + "' already exists");
    }
    auto id =
        tx.exec_params1("INSERT INTO studies (study_name) VALUES ($1) RETURNING study_id", name)[0]
            .as<int64_t>();
    for (size_t objective = 0; objective < directions.size(); ++objective) {
      tx.exec_params(
          "INSERT INTO study_directions (direction, study_id, objective) VALUES ($1, $2, $3)",
          direction_name(directions[objective]), id, static_cast<int64_t>(objective));
    }
    return id;
  });
}

std::vector<StudyInfo> PostgresStorage::list_studies() {
  return run("list studies", false, [&](Tx& tx) {
    std::vector<StudyInfo> out;
    std::vector<std::pair<int64_t, std::string>> rows;
    auto finish = [&] {
      if (!out.empty()) {
        out.back().directions = directions_from_rows(std::move(rows));
        out.back().direction = out.back().directions.front();
        rows.clear();
      }
    };
    for (const auto& row :
         tx.exec("SELECT s.study_id, s.study_name, d.objective, d.direction FROM studies s LEFT "
                 "JOIN study_directions d ON d.study_id = s.study_id ORDER BY s.study_id")) {
      const auto id = row[0].as<int64_t>();
      if (out.empty() || out.back().id != id) {
        finish();
        StudyInfo info;
        info.id = id;
        info.name = row[1].c_str();
        out.push_back(info);
      }
      if (!row[2].is_null()) {
        rows.emplace_back(row[2].as<int64_t>(), row[3].c_str());
      }
    }
    finish();
    return out;
  });
}

std::optional<StudyInfo> PostgresStorage::find_study(const std::string& name) {
  for (auto& s : list_studies()) {
    if (s.name == name) {
      return s;
    }
  }
  return std::nullopt;
}

void PostgresStorage::set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) {
  run("set a study attribute", true, [&](Tx& tx) {
    require_study(tx, study_id);
    upsert_attr(tx, "study_user_attributes", "study_id", study_id, key, v);
  });
}

void PostgresStorage::set_study_system_attr(int64_t study_id, const std::string& key,
                                            const Json& v) {
  run("set a study attribute", true, [&](Tx& tx) {
    require_study(tx, study_id);
    upsert_attr(tx, "study_system_attributes", "study_id", study_id, key, v);
  });
}

std::map<std::string, Json> PostgresStorage::study_user_attrs(int64_t study_id) {
  return run("read study attributes", false, [&](Tx& tx) {
    require_study(tx, study_id);
    return load_attrs(tx, "study_user_attributes", "study_id", study_id);
  });
}

std::map<std::string, Json> PostgresStorage::study_system_attrs(int64_t study_id) {
  return run("read study attributes", false, [&](Tx& tx) {
    require_study(tx, study_id);
    return load_attrs(tx, "study_system_attributes", "study_id", study_id);
  });
}

// After a lost connection: a RUNNING trial owned by this owner that claim_trial never
// returned was claimed by the attempt whose commit we did not see.
std::optional<TrialClaim> PostgresStorage::recover_lost_claim(Tx& tx, int64_t study_id,
                                                              const Json& owner) {
  for (const auto& row : tx.exec_params(
           "SELECT t.trial_id FROM trials t JOIN trial_system_attributes a ON a.trial_id = "
           "t.trial_id AND a.key = 'hpt:owner' WHERE t.study_id = $1 AND t.state = 'RUNNING' "
           "AND a.value_json = $2 ORDER BY t.number",
           study_id, python_json_dumps(owner))) {
    int64_t id = row[0].as<int64_t>();
    if (m_claimed.count(id) == 0) {
      auto t = load_trial(tx, id);
      auto kind = t.params.empty() ? TrialClaim::Kind::New : TrialClaim::Kind::Waiting;
      return TrialClaim{kind, std::move(t)};
    }
  }
  return std::nullopt;
}

std::optional<TrialClaim> PostgresStorage::claim_trial(
    int64_t study_id, int limit, const Json& owner,
    const std::function<bool(const FrozenTrial&)>& is_orphan) {
  // One advisory lock per study, held to the end of the transaction, serializes claims
  // across hosts: READ COMMITTED statements after it see every earlier claim's commit.
  auto claim = run("claim a trial", true, [&](Tx& tx) -> std::optional<TrialClaim> {
    require_study(tx, study_id);
    lock_study(tx, study_id);
    if (m_reconnected) {
      if (auto lost = recover_lost_claim(tx, study_id, owner)) {
        return lost;
      }
    }
    auto in_state = [&](const char* state) {
      std::vector<int64_t> ids;
      for (const auto& row :
           tx.exec_params("SELECT trial_id FROM trials WHERE study_id = $1 AND state = $2 ORDER BY "
                          "number, trial_id",
                          study_id, state)) {
        ids.push_back(row[0].as<int64_t>());
      }
      return ids;
    };
    auto waiting = in_state("WAITING");
    if (!waiting.empty()) {
      // A trial handed back mid-run (Ctrl-C) restarts from step 0: drop its old steps.
      tx.exec_params("DELETE FROM trial_intermediate_values WHERE trial_id = $1", waiting.front());
      mark_running(tx, waiting.front(), owner);
      return TrialClaim{TrialClaim::Kind::Waiting, load_trial(tx, waiting.front())};
    }
    if (is_orphan) {
      for (int64_t id : in_state("RUNNING")) {
        if (!is_orphan(load_trial(tx, id))) {
          continue;
        }
        tx.exec_params("DELETE FROM trial_intermediate_values WHERE trial_id = $1", id);
        tx.exec_params("DELETE FROM trial_values WHERE trial_id = $1", id);
        mark_running(tx, id, owner);
        return TrialClaim{TrialClaim::Kind::Orphan, load_trial(tx, id)};
      }
    }
    auto count = tx.exec_params1(
        "SELECT COUNT(*) FILTER (WHERE state IN ('COMPLETE', 'PRUNED', 'RUNNING', 'WAITING')), "
        "COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = $1",
        study_id);
    if (count[0].as<int64_t>() >= limit) {
      return std::nullopt;
    }
    int64_t id = tx.exec_params1(
                       "INSERT INTO trials (number, study_id, state, datetime_start) VALUES ($1, "
                       "$2, 'RUNNING', $3) RETURNING trial_id",
                       count[1].as<int64_t>(), study_id, now_local())[0]
                     .as<int64_t>();
    upsert_attr(tx, "trial_system_attributes", "trial_id", id, "hpt:owner", owner);
    upsert_heartbeat(tx, id);
    return TrialClaim{TrialClaim::Kind::New, load_trial(tx, id)};
  });
  if (claim) {
    m_claimed.insert(claim->trial.id);
  }
  return claim;
}

int64_t PostgresStorage::create_trial(int64_t study_id, const FrozenTrial& templ) {
  if (auto problem = new_trial_problem(templ)) {
    fail(*problem);
  }
  return run("create a trial", true, [&](Tx& tx) {
    require_study(tx, study_id);
    lock_study(tx, study_id);  // Numbers are max + 1, as in claim_trial.
    int64_t number =
        tx.exec_params1("SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = $1",
                        study_id)[0]
            .as<int64_t>();
    auto times = new_trial_times(templ);
    auto start_text = format_local(times.start);
    auto complete_text = format_local(times.complete);
    int64_t id = tx.exec_params1(
                       "INSERT INTO trials (number, study_id, state, datetime_start, "
                       "datetime_complete) VALUES ($1, $2, $3, $4, $5) RETURNING trial_id",
                       number, study_id, trial_state_name(templ.state), nullable(start_text),
                       nullable(complete_text))[0]
                     .as<int64_t>();
    const std::vector<double> values = objective_values(templ);
    for (size_t objective = 0; objective < values.size(); ++objective) {
      upsert_value(tx, id, static_cast<int64_t>(objective), values[objective]);
    }
    for (const auto& [name, internal] : templ.params) {
      upsert_param(tx, id, name, internal, distribution_to_json(templ.distributions.at(name)));
    }
    for (const auto& [step, v] : templ.intermediate_values) {
      upsert_intermediate(tx, id, step, v);
    }
    for (const auto& [key, v] : templ.user_attrs) {
      upsert_attr(tx, "trial_user_attributes", "trial_id", id, key, v);
    }
    for (const auto& [key, v] : templ.system_attrs) {
      upsert_attr(tx, "trial_system_attributes", "trial_id", id, key, v);
    }
    return id;
  });
}

void PostgresStorage::set_trial_param(int64_t trial_id, const std::string& name, double internal,
                                      const Distribution& d) {
  std::string json = distribution_to_json(d);
  run("set a trial parameter", true, [&](Tx& tx) {
    require_updatable_trial(tx, trial_id);
    upsert_param(tx, trial_id, name, internal, json);
  });
}

void PostgresStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) {
  run("set an intermediate value", true, [&](Tx& tx) {
    require_updatable_trial(tx, trial_id);
    upsert_intermediate(tx, trial_id, step, value);
  });
}

void PostgresStorage::set_trial_intermediate_values(
    int64_t trial_id, const std::vector<std::pair<int64_t, double>>& steps) {
  if (steps.empty()) {
    return;
  }
  run("set intermediate values", true, [&](Tx& tx) {
    require_updatable_trial(tx, trial_id);
    for (const auto& [step, value] : steps) {
      upsert_intermediate(tx, trial_id, step, value);
    }
  });
}

void PostgresStorage::set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) {
  run("set a trial attribute", true, [&](Tx& tx) {
    require_updatable_trial(tx, trial_id);
    upsert_attr(tx, "trial_user_attributes", "trial_id", trial_id, key, v);
  });
}

void PostgresStorage::set_trial_system_attr(int64_t trial_id, const std::string& key,
                                            const Json& v) {
  run("set a trial attribute", true, [&](Tx& tx) {
    require_updatable_trial(tx, trial_id);
    upsert_attr(tx, "trial_system_attributes", "trial_id", trial_id, key, v);
  });
}

bool PostgresStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                             std::optional<double> value) {
  if (auto problem = state_values_problem(trial_id, state, value)) {
    fail(*problem);
  }
  return run("finish a trial", true, [&](Tx& tx) {
    auto r = tx.exec_params("SELECT state FROM trials WHERE trial_id = $1 FOR UPDATE", trial_id);
    if (r.empty()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    std::string current = r[0][0].c_str();
    if (current != "RUNNING" || state == TrialState::Running) {
      if (!m_reconnected || current != trial_state_name(state)) {
        return false;
      }
      // Retrying after a lost connection: did the first attempt commit this very result?
      auto v = tx.exec_params(
          "SELECT value, value_type FROM trial_values WHERE trial_id = $1 AND objective = 0",
          trial_id);
      std::optional<double> stored;
      if (!v.empty()) {
        stored = decode_value(optional_double(v[0][0]), v[0][1].c_str());
      }
      return stored == value;
    }
    if (value) {
      upsert_value(tx, trial_id, 0, *value);
    }
    auto complete = is_finished(state) ? std::optional<std::string>(now_local()) : std::nullopt;
    tx.exec_params("UPDATE trials SET state = $1, datetime_complete = $2 WHERE trial_id = $3",
                   trial_state_name(state), nullable(complete), trial_id);
    return true;
  });
}

void PostgresStorage::record_heartbeat(int64_t trial_id) {
  run("record a heartbeat", true, [&](Tx& tx) {
    if (tx.exec_params("SELECT 1 FROM trials WHERE trial_id = $1", trial_id).empty()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    upsert_heartbeat(tx, trial_id);
  });
}

std::optional<double> PostgresStorage::heartbeat_age(int64_t trial_id) {
  return run("read a heartbeat", false, [&](Tx& tx) -> std::optional<double> {
    auto r = tx.exec_params(
        "SELECT EXTRACT(EPOCH FROM (clock_timestamp() AT TIME ZONE 'UTC') - h.heartbeat) FROM "
        "trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id WHERE t.trial_id = $1",
        trial_id);
    if (r.empty()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    if (r[0][0].is_null()) {
      return std::nullopt;
    }
    return parse_double(r[0][0]);
  });
}

FrozenTrial PostgresStorage::get_trial(int64_t trial_id) {
  return run("read a trial", false, [&](Tx& tx) { return load_trial(tx, trial_id); });
}

std::shared_ptr<std::vector<FrozenTrial> > PostgresStorage::refresh(Tx& tx, int64_t study_id) {
  require_study(tx, study_id);
  return m_cache[study_id].refresh([&](int64_t max_id, const std::vector<int64_t>& unfinished) {
    auto rows = select_trial_rows(
        tx,
        fmt::format("study_id = $1 AND (trial_id > {} OR trial_id = ANY($2::integer[]))", max_id),
        study_id, id_array(unfinished.begin(), unfinished.end(), [](int64_t id) { return id; }));
    TrialCache::Delta delta;
    delta.total = tx.exec_params1("SELECT COUNT(*) FROM trials WHERE study_id = $1", study_id)[0]
                      .as<size_t>();
    delta.trials = load_trials(tx, rows);
    return delta;
  });
}

std::vector<FrozenTrial> PostgresStorage::get_all_trials(int64_t study_id,
                                                         const std::vector<TrialState>& states) {
  return run("read trials", false,
             [&](Tx& tx) { return trials_in_states(*refresh(tx, study_id), states); });
}

std::shared_ptr<const std::vector<FrozenTrial> > PostgresStorage::trials_snapshot(
    int64_t study_id) {
  return run("read trials", false, [&](Tx& tx) {
    return std::shared_ptr<const std::vector<FrozenTrial> >(refresh(tx, study_id));
  });
}

int PostgresStorage::count_trials(int64_t study_id, const std::vector<TrialState>& states) {
  return run("count trials", false, [&](Tx& tx) {
    require_study(tx, study_id);
    std::string sql = "SELECT COUNT(*) FROM trials WHERE study_id = $1";
    if (!states.empty()) {
      sql += " AND state IN (" + states_sql(states) + ")";
    }
    return tx.exec_params1(sql, study_id)[0].as<int>();
  });
}

#endif  // HPT_WITH_POSTGRES

}  // namespace hpt
