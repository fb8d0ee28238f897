#include "hpt/storage/sql_storage.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <utility>

#include "hpt/io/credentials.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/io/stop_signals.hpp"
#include "hpt/tuner/successive_halving_pruner.hpp"
#include "optuna_encoding.hpp"
#include "optuna_schema_check.hpp"
#include "trial_arguments.hpp"
#include "trial_assembler.hpp"
#include "trial_cache.hpp"

namespace hpt {

namespace {

// Up to this many trials are read with "trial_id IN (...)"; more with one join per table.
constexpr size_t k_in_list_max = 256;
constexpr const char* k_trial_columns =
    "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE ";
// A study's next trial number: one above its integer numbers (SQLite keeps a hand-written
// 'x' or 2.5 as stored, and MAX would rank text above every integer: the same number each
// time).
constexpr const char* k_next_number =
    "COALESCE(MAX(CASE WHEN number = CAST(number AS INTEGER) THEN number END), -1) + 1";

// A trials row's number: -1 for NULL; std::nullopt for a value that is not an integer
// (text, 2.5), which only SQLite's loose typing lets a hand edit store.
std::optional<int64_t> row_number(const SqlRow& r, int column) {
  if (r.is_null(column)) {
    return -1;
  }
  const int64_t n = r.integer(column);
  return r.text(column) == std::to_string(n) ? std::optional<int64_t>(n) : std::nullopt;
}

// The TrialRow of columns trial_id, number, state, datetime_start, datetime_complete.
TrialRow trial_row(const SqlRow& r) {
  const auto number = row_number(r, 1);
  return {r.integer(0),       number.value_or(-1), r.text(2),
          r.optional_text(3), r.optional_text(4),  number ? std::string() : r.text(1)};
}

// A request id unique across hosts, processes (forked ones too) and calls.
std::string new_request_id() {
  static const uint64_t k_random =
      std::random_device()() * uint64_t{0x100000000} + std::random_device()();
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{:016x}-{}-{}", k_random, ::getpid(), ++counter);
}

// The first column of the first row, std::nullopt when there is none.
std::optional<int64_t> integer(SqlDialect& db, const std::string& sql, const SqlParams& params) {
  std::optional<int64_t> out;
  db.query(sql, params, [&](const SqlRow& r) { out = out ? out : r.integer(0); });
  return out;
}

// INSERT, or on a conflict on the first keys columns UPDATE the others.
void upsert(SqlDialect& db, const char* table, const std::vector<const char*>& columns, size_t keys,
            const SqlParams& values) {
  std::vector<std::string> set;
  for (size_t i = keys; i < columns.size(); ++i) {
    set.push_back(fmt::format("{0} = excluded.{0}", columns[i]));
  }
  db.exec(
      fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}", table,
                  fmt::join(columns, ", "),
                  fmt::join(std::vector<const char*>(columns.size(), "?"), ", "),
                  fmt::join(columns.begin(), columns.begin() + keys, ", "), fmt::join(set, ", ")),
      values);
}

// table is a study_* or trial_* attributes table, owned by a study or a trial.
void upsert_attr(SqlDialect& db, const char* table, int64_t owner_id, const std::string& key,
                 const Json& v) {
  upsert(db, table, {table[0] == 's' ? "study_id" : "trial_id", "\"key\"", "value_json"}, 2,
         {owner_id, key, python_json_dumps(v)});
}

void upsert_values(SqlDialect& db, int64_t trial_id, const std::vector<double>& values) {
  for (size_t objective = 0; objective < values.size(); ++objective) {
    const auto stored = encode_value(values[objective]);
    upsert(db, "trial_values", {"trial_id", "objective", "value", "value_type"}, 2,
           {trial_id, static_cast<int64_t>(objective), sql_param(stored.value), stored.type});
  }
}

void upsert_intermediate(SqlDialect& db, int64_t trial_id, int64_t step, double value) {
  const auto stored = encode_value(value);
  upsert(db, "trial_intermediate_values",
         {"trial_id", "step", "intermediate_value", "intermediate_value_type"}, 2,
         {trial_id, step, sql_param(stored.value), stored.type});
}

void upsert_param(SqlDialect& db, int64_t trial_id, const std::string& name, double internal,
                  const std::string& distribution_json) {
  upsert(db, "trial_params", {"trial_id", "param_name", "param_value", "distribution_json"}, 2,
         {trial_id, name, internal, distribution_json});
}

void upsert_heartbeat(SqlDialect& db, int64_t trial_id) {
  db.exec("INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, " + db.utc_now_sql() +
              ") ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat",
          {trial_id});
}

// Sets trial_id's k_owner_attr to owner with its heartbeat now, or for a null owner (a process
// that keeps none) with no heartbeat: an earlier owner's must not outlive it.
void set_owner(SqlDialect& db, int64_t trial_id, const Json& owner) {
  upsert_attr(db, "trial_system_attributes", trial_id, k_owner_attr, owner);
  if (owner.is_null()) {
    db.exec("DELETE FROM trial_heartbeats WHERE trial_id = ?", {trial_id});
  } else {
    upsert_heartbeat(db, trial_id);
  }
}

// The trial of study_id (of any study when study_id < 0) stamped with request.
std::optional<int64_t> stamped_trial(SqlDialect& db, int64_t study_id, const std::string& request) {
  return integer(
      db,
      "SELECT t.trial_id FROM trial_system_attributes a JOIN trials t ON t.trial_id = "
      "a.trial_id WHERE a.\"key\" = ? AND a.value_json = ? AND (t.study_id = ? OR ? < 0)",
      {k_request_attr, python_json_dumps(request), study_id, study_id});
}

// A trial run again from step 0 (handed back, or its process died): its steps and the pruner's
// rung values taken from them go, so that neither the pruner nor Optuna's sees the old run's.
void drop_steps(SqlDialect& db, int64_t trial_id) {
  db.exec("DELETE FROM trial_intermediate_values WHERE trial_id = ?", {trial_id});
  db.exec(fmt::format("DELETE FROM trial_system_attributes WHERE trial_id = ? AND "
                      "substr(\"key\", 1, {}) = ?",
                      std::strlen(k_rung_attr_prefix)),
          {trial_id, k_rung_attr_prefix});
}

// What claim_trial decides by: the study's COMPLETE + PRUNED, RUNNING and WAITING trials, and
// the next trial number.
std::array<int64_t, 4> claim_counts(SqlDialect& db, int64_t study_id) {
  std::array<int64_t, 4> out{};
  db.query(
      "SELECT COALESCE(SUM(CASE WHEN state IN ('COMPLETE', 'PRUNED') THEN 1 ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN state = 'RUNNING' THEN 1 ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN state = 'WAITING' THEN 1 ELSE 0 END), 0), " +
          std::string(k_next_number) + " FROM trials WHERE study_id = ?",
      {study_id}, [&](const SqlRow& r) {
        out = {r.integer(0), r.integer(1), r.integer(2), r.integer(3)};
      });
  return out;
}

std::vector<int64_t> trial_ids(SqlDialect& db, int64_t study_id, const char* state) {
  std::vector<int64_t> ids;
  db.query("SELECT trial_id FROM trials WHERE study_id = ? AND state = ? ORDER BY number, trial_id",
           {study_id, state}, [&](const SqlRow& r) { ids.push_back(r.integer(0)); });
  return ids;
}

}  // namespace

struct SqlStorage::Caches {
  // The dialect's data_version and m_writes when a cached read was made: it holds while both
  // are the same (a database without data_version, a server's, is read again each time).
  struct Stamp {
    std::optional<int64_t> data_version;
    uint64_t writes = 0;
    bool holds(const Stamp& now) const {
      return now.data_version && data_version == now.data_version && writes == now.writes;
    }
  };
  struct Study {
    TrialCache trials;
    Stamp stamp;  // At the last refresh.
  };
  std::map<int64_t, Study> studies;
  struct Outlines {
    std::shared_ptr<const TrialOutlines> trials;
    Stamp stamp;
  } outlines;  // trial_outlines' last answer.
  DistributionCache distributions;
};

SqlStorage::SqlStorage(std::unique_ptr<SqlDialect> dialect, std::string name, std::string url,
                       bool read_only)
    : m_db(std::move(dialect)),
      m_name(std::move(name)),
      m_url(std::move(url)),
      m_read_only(read_only),
      m_caches(std::make_unique<Caches>()) {
  prepare_schema();
}

SqlStorage::~SqlStorage() = default;

void SqlStorage::wrap_dialect(
    const std::function<std::unique_ptr<SqlDialect>(std::unique_ptr<SqlDialect>)>& wrap) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  m_db = wrap(std::move(m_db));
}

void SqlStorage::fail(const std::string& problem, bool database_wide) const {
  throw StorageError(redact_credentials(m_name + ": " + problem, m_url), database_wide);
}

void SqlStorage::transact(const char* what, bool write, const Body& body) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  if (write && m_read_only) {
    fail(std::string("cannot ") + what + ": the database was opened read-only");
  }
  if (m_txn_depth > 0) {
    return body(false);  // Nested in claim_trial's transaction.
  }
  // When this call first lost the connection: a later attempt may find its commit done.
  std::optional<std::chrono::steady_clock::time_point> lost_since;
  bool noted = false;
  for (int attempt = 0;; ++attempt) {
    try {
      struct Depth {
        int& d;
        explicit Depth(int& x) : d(++x) {}
        ~Depth() { --d; }
      } depth(m_txn_depth);
      m_db->begin(write);
      m_writes += write ? 1 : 0;
      body(lost_since.has_value());
      m_db->commit();
      if (lost_since) {
        m_reconnected_at = std::chrono::steady_clock::now();
      }
      if (noted && m_outage_note) {
        const auto waited = *m_reconnected_at - *lost_since;
        m_outage_note(fmt::format("the database is back after {:.0f} s",
                                  std::chrono::duration<double>(waited).count()),
                      waited);
      }
      return;
    } catch (const StorageError&) {
      m_db->rollback();
      throw;
    } catch (const std::exception& e) {
      // Read before the rollback, which resets the system error (EFBIG: the file-size limit).
      const std::string described = m_db->describe(e);
      const bool everywhere = m_db->refuses_all_writes(e);
      m_db->rollback();
      auto retry = m_db->retry(e, attempt);
      if (!retry || stop_now()) {  // The user asked to stop now: no more waiting.
        fail(std::string("cannot ") + what + ": " + described, everywhere);
      }
      if (retry->connection_lost) {
        const auto now = std::chrono::steady_clock::now();
        lost_since = lost_since.value_or(now);
        // A server gone for longer than the wait, or a stop signal while it is gone (what
        // the stop would write cannot be written; the next run re-runs RUNNING trials).
        if (now - *lost_since > m_outage_wait || g_stop_signals.load() > 0) {
          // Every later call would wait as long again: the whole database is gone.
          fail(fmt::format("cannot {}: lost the connection to the database ({}) and could not "
                           "reconnect within {} s",
                           what, described, m_outage_wait.count()),
               /*database_wide=*/true);
        }
        if (!noted && m_outage_note && attempt >= 2) {
          noted = true;
          m_outage_note(fmt::format("lost the connection to the database ({}); waiting up to {} "
                                    "s for it (Ctrl-C stops)",
                                    described, m_outage_wait.count()),
                        std::chrono::steady_clock::duration::zero());
        }
      }
      std::this_thread::sleep_for(retry->delay);
    }
  }
}

template <class F>
auto SqlStorage::run(const char* what, bool write, F&& f) {
  if constexpr (std::is_void_v<decltype(f(false))>) {
    transact(what, write, f);
  } else {
    decltype(f(false)) out{};
    transact(what, write, [&](bool lost) { out = f(lost); });
    return out;
  }
}

void SqlStorage::fail_if(const std::optional<std::string>& problem) const {
  if (problem) {
    fail(*problem);
  }
}

void SqlStorage::prepare_schema() {
  // Optuna creates its tables, stamps alembic_version and writes version_info in separate
  // transactions: a schema found incomplete may be one another process is creating, so it is
  // looked at again for up to 2 s before it is refused.
  for (int attempt = 0;; ++attempt) {
    auto incomplete = run("open the study database", !m_read_only, [&](bool) {
      if (!m_read_only) {
        m_db->lock(-1);  // Two processes opening an empty database: the second waits.
      }
      auto tables = m_db->table_names();
      if (tables.empty() && !m_read_only) {
        for (const auto& ddl : m_db->schema_ddl()) {
          m_db->exec(ddl);
        }
        m_db->exec(
            "INSERT INTO version_info (version_info_id, schema_version, library_version) "
            "VALUES (1, ?, ?)",
            {int64_t{k_optuna_schema_version}, k_optuna_library_version});
        m_db->exec("INSERT INTO alembic_version (version_num) VALUES (?)",
                   {k_optuna_alembic_version});
        tables = m_db->table_names();
      }
      if (tables.empty()) {
        fail("empty database (no Optuna study schema)");
      }
      return schema_problem(tables);
    });
    if (!incomplete) {
      break;
    }
    if (attempt == 20) {
      fail(*incomplete);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  try {
    if (!m_read_only) {
      m_db->schema_ready();
    }
  } catch (const std::exception& e) {
    fail("cannot open the study database: " + m_db->describe(e));
  }
}

std::optional<std::string> SqlStorage::schema_problem(const std::vector<std::string>& tables) {
  auto problem = optuna_tables_problem(tables, "a database");
  if (problem && problem->rfind("incomplete", 0) != 0) {
    fail(*problem);  // Not Optuna's schema at all.
  }
  if (problem) {
    return problem;
  }
  std::optional<std::pair<int64_t, std::string>> version;
  std::optional<std::string> revision;
  m_db->query("SELECT schema_version, library_version FROM version_info", {},
              [&](const SqlRow& r) { version.emplace(r.integer(0), r.text(1)); });
  m_db->query("SELECT version_num FROM alembic_version", {},
              [&](const SqlRow& r) { revision = r.text(0); });
  if (!version || !revision) {
    return std::string("Optuna schema without its ") +
           (version ? "alembic_version" : "version_info") + " row";
  }
  fail_if(schema_version_problem(version->first, version->second));
  fail_if(alembic_revision_problem(*revision, version->second, m_url));
  return std::nullopt;
}

void SqlStorage::require_study(int64_t study_id) {
  if (!integer(*m_db, "SELECT 1 FROM studies WHERE study_id = ?", {study_id})) {
    fail(fmt::format("no study with id {}", study_id));
  }
}

void SqlStorage::require_trial(int64_t trial_id, bool updatable) {
  std::optional<std::pair<int64_t, std::string>> row;
  m_db->query("SELECT number, state FROM trials WHERE trial_id = ?", {trial_id},
              [&](const SqlRow& r) { row.emplace(r.is_null(0) ? -1 : r.integer(0), r.text(1)); });
  if (!row) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  if (is_finished(trial_state_from_name(row->second)) && updatable) {
    fail(fmt::format("trial {} (id {}) is already {} and cannot be changed", row->first, trial_id,
                     row->second));
  }
}

// The trials WHERE where (params bound), ordered by number, with their params, values and
// attributes: one query per table, for the listed ids or, for many, all of study_id's.
std::vector<FrozenTrial> SqlStorage::load_trials(const std::string& where, const SqlParams& params,
                                                 int64_t study_id) {
  std::vector<TrialRow> rows;
  std::vector<int64_t> ids;
  m_db->query(k_trial_columns + where + " ORDER BY number, trial_id", params, [&](const SqlRow& r) {
    rows.push_back(trial_row(r));
    ids.push_back(r.integer(0));
  });
  TrialAssembler trials(rows, m_caches->distributions);
  const bool whole_study = rows.size() > k_in_list_max;
  const std::string from = whole_study
                               ? " c JOIN trials t ON t.trial_id = c.trial_id WHERE t.study_id = ?"
                               : fmt::format(" c WHERE c.trial_id IN ({})", fmt::join(ids, ","));
  auto each = [&](const char* columns, const char* table, auto&& add) {
    if (!rows.empty()) {
      m_db->query(fmt::format("SELECT c.trial_id, {} FROM {}{}", columns, table, from),
                  whole_study ? SqlParams{SqlParam(study_id)} : SqlParams{},
                  [&](const SqlRow& r) { add(r.integer(0), r); });
    }
  };
  each("c.param_name, c.param_value, c.distribution_json", "trial_params",
       [&](int64_t id, const SqlRow& r) { trials.add_param(id, r.text(1), r.real(2), r.text(3)); });
  each("c.objective, c.value, c.value_type", "trial_values", [&](int64_t id, const SqlRow& r) {
    trials.add_value(id, r.integer(1), r.optional_real(2), r.text(3));
  });
  each("c.step, c.intermediate_value, c.intermediate_value_type", "trial_intermediate_values",
       [&](int64_t id, const SqlRow& r) {
         trials.add_intermediate(id, r.integer(1), r.optional_real(2), r.text(3));
       });
  for (bool system : {false, true}) {
    each("c.\"key\", c.value_json", system ? "trial_system_attributes" : "trial_user_attributes",
         [&](int64_t id, const SqlRow& r) { trials.add_attr(id, system, r.text(1), r.text(2)); });
  }
  return trials.take();
}

std::shared_ptr<const Storage::TrialOutlines> SqlStorage::trial_outlines() {
  return run("read trials", false, [&](bool) {
    auto& c = m_caches->outlines;
    const Caches::Stamp now{m_db->data_version(), m_writes};
    if (c.trials && c.stamp.holds(now)) {
      return c.trials;
    }
    std::vector<TrialRow> rows;
    std::vector<int64_t> studies;  // Each row's study.
    m_db->query(
        "SELECT trial_id, number, state, datetime_start, datetime_complete, study_id FROM trials "
        "ORDER BY study_id, number, trial_id",
        {}, [&](const SqlRow& r) {
          rows.push_back(trial_row(r));
          studies.push_back(r.integer(5));
        });
    TrialAssembler assembler(rows, m_caches->distributions);
    m_db->query("SELECT trial_id, objective, value, value_type FROM trial_values", {},
                [&](const SqlRow& r) {
                  assembler.add_value(r.integer(0), r.integer(1), r.optional_real(2), r.text(3));
                });
    auto out = std::make_shared<TrialOutlines>();
    auto trials = assembler.take();
    for (size_t i = 0; i < trials.size(); ++i) {
      (*out)[studies[i]].push_back(std::move(trials[i]));
    }
    c = {out, now};
    return std::shared_ptr<const TrialOutlines>(out);
  });
}

FrozenTrial SqlStorage::load_trial(int64_t trial_id) {
  auto trials = load_trials("trial_id = ?", {trial_id}, -1);
  if (trials.empty()) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  return std::move(trials.front());
}

int64_t SqlStorage::create_study(const std::string& name,
                                 const std::vector<Direction>& directions) {
  fail_if(name_problem("study name", name));
  if (directions.empty() ||
      std::find(directions.begin(), directions.end(), Direction::NotSet) != directions.end()) {
    fail("a study needs one or more directions, each MINIMIZE or MAXIMIZE (not NOT_SET)");
  }
  return run("create a study", true, [&](bool after_lost_connection) {
    if (auto existing = find_study(name)) {
      // A retry whose first attempt committed finds the study it made (same directions).
      if (after_lost_connection && existing->directions == directions) {
        return existing->id;
      }
      fail("a study named '" + name + "' already exists");
    }
    const int64_t id =
        m_db->insert("INSERT INTO studies (study_name) VALUES (?)", {name}, "study_id");
    for (size_t objective = 0; objective < directions.size(); ++objective) {
      m_db->exec("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, ?)",
                 {direction_name(directions[objective]), id, static_cast<int64_t>(objective)});
    }
    return id;
  });
}

std::vector<StudyInfo> SqlStorage::list_studies() {
  return run("list studies", false, [&](bool) {
    std::vector<StudyInfo> out;
    std::map<int64_t, std::vector<std::pair<int64_t, std::string>>> directions;
    m_db->query("SELECT study_id, study_name FROM studies ORDER BY study_id", {},
                [&](const SqlRow& r) {
                  out.push_back({r.integer(0), r.text(1)});
                });
    m_db->query(
        "SELECT study_id, objective, direction FROM study_directions", {},
        [&](const SqlRow& r) { directions[r.integer(0)].emplace_back(r.integer(1), r.text(2)); });
    for (auto& study : out) {
      study.directions = directions_from_rows(std::move(directions[study.id]));
    }
    return out;
  });
}

std::optional<StudyInfo> SqlStorage::find_study(const std::string& name) {
  for (auto& s : list_studies()) {
    if (s.name == name) {
      return s;
    }
  }
  return std::nullopt;
}

void SqlStorage::delete_study(int64_t study_id) {
  run("delete a study", true, [&](bool) {
    require_study(study_id);
    m_db->lock(study_id);
    const std::string trials = "(SELECT trial_id FROM trials WHERE study_id = ?)";
    for (const char* table :
         {"trial_params", "trial_values", "trial_intermediate_values", "trial_user_attributes",
          "trial_system_attributes", "trial_heartbeats"}) {
      m_db->exec(fmt::format("DELETE FROM {} WHERE trial_id IN {}", table, trials), {study_id});
    }
    for (const char* table : {"trials", "study_user_attributes", "study_system_attributes",
                              "study_directions", "studies"}) {
      m_db->exec(fmt::format("DELETE FROM {} WHERE study_id = ?", table), {study_id});
    }
  });
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  m_caches->studies.erase(study_id);
}

void SqlStorage::set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) {
  set_attr("study_user_attributes", study_id, key, v);
}

void SqlStorage::set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) {
  set_attr("study_system_attributes", study_id, key, v);
}

void SqlStorage::set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) {
  set_attr("trial_user_attributes", trial_id, key, v);
}

void SqlStorage::set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) {
  set_attr("trial_system_attributes", trial_id, key, v);
}

void SqlStorage::set_attr(const char* table, int64_t owner_id, const std::string& key,
                          const Json& v) {
  run(table[0] == 's' ? "set a study attribute" : "set a trial attribute", true, [&](bool) {
    table[0] == 's' ? require_study(owner_id) : require_trial(owner_id, true);
    fail_if(name_problem("attribute key", key));
    upsert_attr(*m_db, table, owner_id, key, v);
  });
}

std::map<std::string, Json> SqlStorage::study_user_attrs(int64_t study_id) {
  return study_attrs("study_user_attributes", study_id);
}

std::map<std::string, Json> SqlStorage::study_system_attrs(int64_t study_id) {
  return study_attrs("study_system_attributes", study_id);
}

Json SqlStorage::study_system_attr_once(int64_t study_id, const std::string& key, const Json& v) {
  return run("set a study attribute", true, [&](bool) {
    m_db->lock(study_id);
    const auto attrs = study_system_attrs(study_id);  // In this transaction; no study: throws.
    if (const auto it = attrs.find(key); it != attrs.end()) {
      return it->second;  // Also what a retry after a lost acknowledgement finds.
    }
    set_study_system_attr(study_id, key, v);
    return v;
  });
}

std::map<std::string, Json> SqlStorage::study_attrs(const char* table, int64_t study_id) {
  return run("read study attributes", false, [&](bool) {
    require_study(study_id);
    std::map<std::string, Json> out;
    m_db->query(fmt::format("SELECT \"key\", value_json FROM {} WHERE study_id = ?", table),
                {study_id}, [&](const SqlRow& r) {
                  const bool user = std::string(table) == "study_user_attributes";
                  read_attr_row(out, out, user ? "study user" : "study system", r.text(0),
                                r.text(1));
                });
    return out;
  });
}

std::optional<TrialClaim> SqlStorage::claim_trial(
    int64_t study_id, int limit, const Json& owner,
    const std::function<bool(const FrozenTrial&)>& is_orphan) {
  using Kind = TrialClaim::Kind;
  const std::string request = new_request_id();
  auto tag = [&](Kind kind) { return fmt::format("{}:{}", request, static_cast<int>(kind)); };
  // Marks trial id RUNNING for owner, stamped as claimed by this request.
  auto claimed = [&](Kind kind, int64_t id) {
    if (kind != Kind::New) {
      m_db->exec(
          "UPDATE trials SET state = 'RUNNING', datetime_start = ?, datetime_complete = "
          "NULL WHERE trial_id = ?",
          {now_local(), id});
    }
    set_owner(*m_db, id, owner);
    upsert_attr(*m_db, "trial_system_attributes", id, k_request_attr, tag(kind));
    return TrialClaim{kind, load_trial(id)};
  };
  return run("claim a trial", true, [&](bool after_lost_connection) -> std::optional<TrialClaim> {
    require_study(study_id);
    m_db->lock(study_id);  // Claims of one study one at a time, across hosts.
    for (Kind kind : {Kind::New, Kind::Waiting, Kind::Orphan}) {
      if (auto id =
              after_lost_connection ? stamped_trial(*m_db, study_id, tag(kind)) : std::nullopt) {
        return TrialClaim{kind, load_trial(*id)};  // The first attempt committed this claim.
      }
    }
    // WAITING and orphaned trials are run only while below limit too (counts as in the
    // contract; an orphan's dead process does not count as running).
    const auto [finished, running, waiting_count, number] = claim_counts(*m_db, study_id);
    if (waiting_count > 0 && finished + running < limit) {
      const int64_t id = trial_ids(*m_db, study_id, "WAITING").front();
      drop_steps(*m_db, id);  // A trial handed back mid-run (Ctrl-C) restarts from step 0.
      return claimed(Kind::Waiting, id);
    }
    std::vector<int64_t> orphans;
    for (int64_t id : is_orphan ? trial_ids(*m_db, study_id, "RUNNING") : std::vector<int64_t>{}) {
      if (is_orphan(load_trial(id))) {
        orphans.push_back(id);
      }
    }
    if (!orphans.empty() && finished + running - static_cast<int64_t>(orphans.size()) < limit) {
      drop_steps(*m_db, orphans.front());
      m_db->exec("DELETE FROM trial_values WHERE trial_id = ?", {orphans.front()});
      return claimed(Kind::Orphan, orphans.front());
    }
    if (finished + running + waiting_count >= limit) {
      return std::nullopt;
    }
    if (number > std::numeric_limits<int>::max()) {  // Another tool's numbers (FrozenTrial's int).
      fail(
          fmt::format("cannot claim a trial: the study's trial numbers reach {}; hpt numbers "
                      "trials up to {}",
                      number - 1, std::numeric_limits<int>::max()));
    }
    return claimed(Kind::New, m_db->insert("INSERT INTO trials (number, study_id, state, "
                                           "datetime_start) VALUES (?, ?, 'RUNNING', ?)",
                                           {number, study_id, now_local()}, "trial_id"));
  });
}

int64_t SqlStorage::create_trial(int64_t study_id, const FrozenTrial& templ) {
  fail_if(new_trial_problem(templ));
  const std::string request = new_request_id();
  return run("create a trial", true, [&](bool after_lost_connection) {
    require_study(study_id);
    m_db->lock(study_id);  // Numbers are max + 1, as in claim_trial.
    if (auto id = after_lost_connection ? stamped_trial(*m_db, study_id, request) : std::nullopt) {
      return *id;  // The first attempt committed.
    }
    const int64_t id = insert_trial(
        study_id,
        *integer(*m_db, std::string("SELECT ") + k_next_number + " FROM trials WHERE study_id = ?",
                 {study_id}),
        templ);
    upsert_attr(*m_db, "trial_system_attributes", id, k_request_attr, request);
    return id;
  });
}

int64_t SqlStorage::insert_trial(int64_t study_id, const SqlParam& number, const FrozenTrial& templ,
                                 bool fill_times) {
  const TrialTimes times = fill_times ? new_trial_times(templ)
                                      : TrialTimes{templ.datetime_start, templ.datetime_complete};
  const int64_t id = m_db->insert(
      "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) VALUES "
      "(?, ?, ?, ?, ?)",
      {number, study_id, trial_state_name(templ.state), sql_param(format_local(times.start)),
       sql_param(format_local(times.complete))},
      "trial_id");
  upsert_values(*m_db, id, templ.objective_values());
  for (const auto& [name, internal] : templ.params) {
    upsert_param(*m_db, id, name, internal, distribution_to_json(templ.distributions.at(name)));
  }
  for (const auto& [step, v] : templ.intermediate_values) {
    upsert_intermediate(*m_db, id, step, v);
  }
  for (const auto& [key, v] : templ.user_attrs) {
    upsert_attr(*m_db, "trial_user_attributes", id, key, v);
  }
  for (const auto& [key, v] : templ.system_attrs) {
    if (key != k_request_attr) {
      upsert_attr(*m_db, "trial_system_attributes", id, key, v);
    }
  }
  return id;
}

int64_t SqlStorage::import_study(const StudyImport& study) {
  for (const auto& t : study.trials) {
    fail_if(new_trial_problem(t));
  }
  const std::string request = new_request_id();
  return run("import a study", true, [&](bool after_lost_connection) {
    if (auto existing = after_lost_connection ? find_study(study.name) : std::nullopt) {
      const auto attrs = study_system_attrs(existing->id);
      if (const auto it = attrs.find(k_request_attr); it != attrs.end() && it->second == request) {
        return existing->id;  // The first attempt committed.
      }
    }
    const int64_t id = create_study(study.name, study.directions);  // Refuses a taken name.
    for (const auto& [key, v] : study.user_attrs) {
      set_study_user_attr(id, key, v);
    }
    for (const auto& [key, v] : study.system_attrs) {
      if (key != k_request_attr) {
        set_study_system_attr(id, key, v);
      }
    }
    set_study_system_attr(id, k_request_attr, request);
    for (const auto& t : study.trials) {
      insert_trial(id, t.number != -1 ? SqlParam(int64_t{t.number}) : SqlParam(), t, false);
    }
    return id;
  });
}

void SqlStorage::set_trial_param(int64_t trial_id, const std::string& name, double internal,
                                 const Distribution& d) {
  std::string json = distribution_to_json(d);
  run("set a trial parameter", true, [&](bool) {
    require_trial(trial_id, true);
    fail_if(name_problem("parameter name", name));
    upsert_param(*m_db, trial_id, name, internal, json);
  });
}

void SqlStorage::set_trial_intermediate_values(
    int64_t trial_id, const std::vector<std::pair<int64_t, double>>& steps) {
  if (steps.empty()) {
    return;
  }
  run("set an intermediate value", true, [&](bool) {
    require_trial(trial_id, true);
    for (const auto& [step, value] : steps) {
      upsert_intermediate(*m_db, trial_id, step, value);
    }
  });
}

bool SqlStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                        const std::vector<double>& values, const Json* owner,
                                        const Json* system_attrs) {
  fail_if(state_values_problem(trial_id, state, values, system_attrs));
  const std::string request = new_request_id();
  return run("finish a trial", true, [&](bool after_lost_connection) {
    if (after_lost_connection && stamped_trial(*m_db, -1, request) == trial_id) {
      return true;  // The first attempt committed.
    }
    // Only a RUNNING trial changes (another process may have finished it), and only while
    // owner's claim holds (another process may have re-claimed it).
    if (state != TrialState::Running) {
      SqlParams params{trial_state_name(state),
                       is_finished(state) ? SqlParam(now_local()) : SqlParam(), trial_id};
      if (owner != nullptr) {
        params.insert(params.end(), {k_owner_attr, python_json_dumps(*owner)});
      }
      m_db->exec(std::string("UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = "
                             "? AND state = 'RUNNING'") +
                     (owner == nullptr ? ""
                                       : " AND EXISTS (SELECT 1 FROM trial_system_attributes a "
                                         "WHERE a.trial_id = trials.trial_id AND a.\"key\" = ? "
                                         "AND a.value_json = ?)"),
                 params);
    }
    if (state == TrialState::Running || m_db->changed_rows() != 1) {
      require_trial(trial_id, false);  // Fails for an unknown trial.
      return false;
    }
    // Handed back: as a trial never started, so that Optuna's pruner, picking it up, sees no
    // steps of the interrupted run (claim_trial drops them too, for databases of older hpt).
    if (state == TrialState::Waiting) {
      m_db->exec("UPDATE trials SET datetime_start = NULL WHERE trial_id = ?", {trial_id});
      drop_steps(*m_db, trial_id);
    }
    upsert_values(*m_db, trial_id, values);
    if (system_attrs != nullptr) {
      for (const auto& [key, v] : system_attrs->items()) {
        upsert_attr(*m_db, "trial_system_attributes", trial_id, key, v);
      }
    }
    upsert_attr(*m_db, "trial_system_attributes", trial_id, k_request_attr, request);
    return true;
  });
}

void SqlStorage::record_heartbeat(int64_t trial_id) {
  run("record a heartbeat", true, [&](bool) {
    require_trial(trial_id, false);
    upsert_heartbeat(*m_db, trial_id);
  });
}

void SqlStorage::disown_trial(int64_t trial_id) {
  run("hand a trial to its asker", true, [&](bool) {
    require_trial(trial_id, true);
    set_owner(*m_db, trial_id, Json());
  });
}

std::optional<double> SqlStorage::heartbeat_age(int64_t trial_id) {
  return run("read a heartbeat", false, [&](bool) {
    std::optional<std::pair<std::optional<std::string>, std::optional<double>>> row;
    m_db->query("SELECT h.heartbeat, " + m_db->seconds_since_sql("h.heartbeat") +
                    " FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
                    "WHERE t.trial_id = ?",
                {trial_id},
                [&](const SqlRow& r) { row.emplace(r.optional_text(0), r.optional_real(1)); });
    if (!row) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    if (row->first && !row->second) {
      fail(fmt::format("trial id {}: unreadable heartbeat '{}'", trial_id, *row->first));
    }
    return row->second;
  });
}

FrozenTrial SqlStorage::get_trial(int64_t trial_id) {
  return run("read a trial", false, [&](bool) { return load_trial(trial_id); });
}

std::optional<FrozenTrial> SqlStorage::find_trial(int64_t study_id, int number) {
  return run("read a trial", false, [&](bool) -> std::optional<FrozenTrial> {
    require_study(study_id);
    auto trials = load_trials("study_id = ? AND number = ?", {study_id, int64_t{number}}, study_id);
    if (trials.empty()) {
      return std::nullopt;
    }
    return std::move(trials.front());
  });
}

std::shared_ptr<std::vector<FrozenTrial>> SqlStorage::refresh(int64_t study_id) {
  auto& c = m_caches->studies[study_id];
  // Read before the snapshot starts, so a later commit always changes it.
  auto data_version = m_db->data_version();
  if (c.trials.trials() && c.stamp.holds({data_version, m_writes})) {
    return c.trials.trials();
  }
  require_study(study_id);
  auto trials = c.trials.refresh([&](int64_t max_id, const std::vector<int64_t>& reread) {
    TrialCache::Delta delta;
    delta.trials = load_trials(
        fmt::format(
            "study_id = ? AND (trial_id > {}{})", max_id,
            reread.empty() ? "" : fmt::format(" OR trial_id IN ({})", fmt::join(reread, ","))),
        {study_id}, study_id);
    delta.total = *integer(*m_db, "SELECT COUNT(*) FROM trials WHERE study_id = ?", {study_id});
    return delta;
  });
  c.stamp = {data_version, m_writes};
  return trials;
}

std::vector<FrozenTrial> SqlStorage::get_all_trials(int64_t study_id,
                                                    const std::vector<TrialState>& states) {
  return run("read trials", false,
             [&](bool) { return trials_in_states(*refresh(study_id), states); });
}

std::shared_ptr<const std::vector<FrozenTrial>> SqlStorage::trials_snapshot(int64_t study_id) {
  return run("read trials", false, [&](bool) {
    return std::shared_ptr<const std::vector<FrozenTrial>>(refresh(study_id));
  });
}

void SqlDialect::save_copy(const std::string&) {
  throw std::runtime_error("a database server's data has no file to copy");
}

bool SqlStorage::file_moved() {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return m_db->file_moved();
}

void SqlStorage::save_copy(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  try {
    m_db->save_copy(path);
  } catch (const std::exception& e) {
    fail("cannot save a copy to '" + path + "': " + m_db->describe(e));
  }
}

int SqlStorage::count_trials(int64_t study_id, const std::vector<TrialState>& states) {
  return run("count trials", false, [&](bool) {
    require_study(study_id);
    return static_cast<int>(
        *integer(*m_db,
                 "SELECT COUNT(*) FROM trials WHERE study_id = ?" +
                     (states.empty() ? "" : " AND state IN (" + states_sql(states) + ")"),
                 {study_id}));
  });
}

}  // namespace hpt
