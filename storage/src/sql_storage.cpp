#include "hpt/storage/sql_storage.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <utility>

#include "hpt/storage/credentials.hpp"
#include "hpt/storage/optuna_json.hpp"
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

std::string id_list(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) {
    out += (out.empty() ? "" : ",") + std::to_string(id);
  }
  return out;
}

// A request id unique across hosts, processes (forked ones too) and calls.
std::string new_request_id() {
  static const uint64_t k_random =
      std::random_device()() * uint64_t{0x100000000} + std::random_device()();
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{:016x}-{}-{}", k_random, ::getpid(), ++counter);
}

}  // namespace

struct SqlStorage::Caches {
  struct Study {
    TrialCache trials;
    std::optional<int64_t> data_version;  // The dialect's data_version and m_writes at the
    uint64_t writes = 0;                  // last refresh.
  };
  std::map<int64_t, Study> studies;
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

void SqlStorage::fail(const std::string& problem) const {
  throw StorageError(redact_credentials(m_name + ": " + problem, m_url));
}

void SqlStorage::transact(const char* what, bool write, const Body& body) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  if (write && m_read_only) {
    fail(std::string("cannot ") + what + ": the database was opened read-only");
  }
  if (m_txn_depth > 0) {
    return body(false);  // Nested in claim_trial's transaction.
  }
  bool lost = false;
  for (int attempt = 0;; ++attempt) {
    try {
      struct Depth {
        int& d;
        explicit Depth(int& x) : d(++x) {}
        ~Depth() { --d; }
      } depth(m_txn_depth);
      m_db->begin(write);
      m_writes += write ? 1 : 0;
      body(lost);
      m_db->commit();
      return;
    } catch (const StorageError&) {
      m_db->rollback();
      throw;
    } catch (const std::exception& e) {
      m_db->rollback();
      auto retry = m_db->retry(e, attempt);
      if (!retry) {
        fail(std::string("cannot ") + what + ": " + m_db->describe(e));
      }
      lost = lost || retry->connection_lost;
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

std::optional<int64_t> SqlStorage::integer(const std::string& sql, const SqlParams& params) {
  std::optional<int64_t> out;
  m_db->query(sql, params, [&](const SqlRow& r) { out = out ? out : r.integer(0); });
  return out;
}

void SqlStorage::upsert(const char* table, const std::vector<const char*>& columns, size_t keys,
                        const SqlParams& values) {
  std::string marks = "?";
  std::string set;
  for (size_t i = keys; i < columns.size(); ++i) {
    set += fmt::format("{}{} = excluded.{}", i > keys ? ", " : "", columns[i], columns[i]);
  }
  for (size_t i = 1; i < columns.size(); ++i) {
    marks += ", ?";
  }
  m_db->exec(fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}", table,
                         fmt::join(columns, ", "), marks,
                         fmt::join(columns.begin(), columns.begin() + keys, ", "), set),
             values);
}

void SqlStorage::prepare_schema() {
  run("open the study database", !m_read_only, [&](bool) {
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
    if (auto problem = optuna_tables_problem(tables, "a database")) {
      fail(*problem);
    }
    std::optional<std::pair<int64_t, std::string>> version;
    std::optional<std::string> revision;
    m_db->query("SELECT schema_version, library_version FROM version_info", {},
                [&](const SqlRow& r) { version.emplace(r.integer(0), r.text(1)); });
    m_db->query("SELECT version_num FROM alembic_version", {},
                [&](const SqlRow& r) { revision = r.text(0); });
    if (!version || !revision) {
      fail(std::string("Optuna schema without a ") +
           (version ? "alembic_version" : "version_info") + " row");
    }
    if (auto problem = schema_version_problem(version->first, version->second)) {
      fail(*problem);
    }
    if (auto problem = alembic_revision_problem(*revision, version->second, m_url)) {
      fail(*problem);
    }
  });
  try {
    if (!m_read_only) {
      m_db->schema_ready();
    }
  } catch (const std::exception& e) {
    fail("cannot open the study database: " + m_db->describe(e));
  }
}

// The trial of study_id (of any study when study_id < 0) stamped with request.
std::optional<int64_t> SqlStorage::stamped_trial(int64_t study_id, const std::string& request) {
  return integer(
      "SELECT t.trial_id FROM trial_system_attributes a JOIN trials t ON t.trial_id = "
      "a.trial_id WHERE a.\"key\" = ? AND a.value_json = ? AND (t.study_id = ? OR ? < 0)",
      {k_request_attr, python_json_dumps(request), study_id, study_id});
}

void SqlStorage::require_study(int64_t study_id) {
  if (!integer("SELECT 1 FROM studies WHERE study_id = ?", {study_id})) {
    fail(fmt::format("no study with id {}", study_id));
  }
}

// The trial's number and state; fails for an unknown trial or, when updatable, a finished one.
std::pair<int64_t, TrialState> SqlStorage::require_trial(int64_t trial_id, bool updatable) {
  std::optional<std::pair<int64_t, std::string>> row;
  m_db->query("SELECT number, state FROM trials WHERE trial_id = ?", {trial_id},
              [&](const SqlRow& r) { row.emplace(r.is_null(0) ? -1 : r.integer(0), r.text(1)); });
  if (!row) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  const TrialState state = trial_state_from_name(row->second);
  if (updatable && is_finished(state)) {
    fail(fmt::format("trial {} (id {}) is already {} and cannot be changed", row->first, trial_id,
                     row->second));
  }
  return {row->first, state};
}

std::vector<int64_t> SqlStorage::trial_ids(int64_t study_id, const char* state) {
  std::vector<int64_t> ids;
  m_db->query(
      "SELECT trial_id FROM trials WHERE study_id = ? AND state = ? ORDER BY number, "
      "trial_id",
      {study_id, state}, [&](const SqlRow& r) { ids.push_back(r.integer(0)); });
  return ids;
}

// table is a study_* or trial_* attributes table, owned by a study or a trial.
void SqlStorage::upsert_attr(const char* table, int64_t owner_id, const std::string& key,
                             const Json& v) {
  if (auto problem = name_problem("attribute key", key)) {
    fail(*problem);
  }
  upsert(table, {table[0] == 's' ? "study_id" : "trial_id", "\"key\"", "value_json"}, 2,
         {owner_id, key, python_json_dumps(v)});
}

void SqlStorage::upsert_value(const char* table, int64_t trial_id, int64_t key, double value) {
  const auto stored = encode_value(value);
  const bool final_value = std::string(table) == "trial_values";
  upsert(table,
         final_value ? std::vector<const char*>{"trial_id", "objective", "value", "value_type"}
                     : std::vector<const char*>{"trial_id", "step", "intermediate_value",
                                                "intermediate_value_type"},
         2, {trial_id, key, sql_param(stored.value), stored.type});
}

void SqlStorage::upsert_param(int64_t trial_id, const std::string& name, double internal,
                              const std::string& distribution_json) {
  if (auto problem = name_problem("parameter name", name)) {
    fail(*problem);
  }
  upsert("trial_params", {"trial_id", "param_name", "param_value", "distribution_json"}, 2,
         {trial_id, name, internal, distribution_json});
}

void SqlStorage::upsert_heartbeat(int64_t trial_id) {
  m_db->exec("INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, " +
                 m_db->utc_now_sql() +
                 ") ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat",
             {trial_id});
}

// The trials WHERE where (params bound), ordered by number, with their params, values and
// attributes: one query per table, for the listed ids or, for many, all of study_id's.
std::vector<FrozenTrial> SqlStorage::load_trials(const std::string& where, const SqlParams& params,
                                                 int64_t study_id) {
  std::vector<TrialRow> rows;
  m_db->query(k_trial_columns + where + " ORDER BY number, trial_id", params, [&](const SqlRow& r) {
    rows.push_back({r.integer(0), r.is_null(1) ? -1 : static_cast<int>(r.integer(1)), r.text(2),
                    r.optional_text(3), r.optional_text(4)});
  });
  TrialAssembler trials(rows, m_caches->distributions);
  std::vector<int64_t> ids;
  for (const auto& r : rows) {
    ids.push_back(r.id);
  }
  const bool whole_study = rows.size() > k_in_list_max;
  auto each = [&](const char* columns, const char* table, auto&& add) {
    if (rows.empty()) {
      return;
    }
    std::string sql = whole_study
                          ? fmt::format(
                                "SELECT c.trial_id, {} FROM {} c JOIN trials t ON t.trial_id = "
                                "c.trial_id WHERE t.study_id = ?",
                                columns, table)
                          : fmt::format("SELECT c.trial_id, {} FROM {} c WHERE c.trial_id IN ({})",
                                        columns, table, id_list(ids));
    m_db->query(sql, whole_study ? SqlParams{SqlParam{study_id}} : SqlParams{},
                [&](const SqlRow& r) { add(r.integer(0), r); });
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
  each("c.\"key\", c.value_json", "trial_user_attributes",
       [&](int64_t id, const SqlRow& r) { trials.add_user_attr(id, r.text(1), r.text(2)); });
  each("c.\"key\", c.value_json", "trial_system_attributes",
       [&](int64_t id, const SqlRow& r) { trials.add_system_attr(id, r.text(1), r.text(2)); });
  return trials.take();
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
  if (auto problem = name_problem("study name", name)) {
    fail(*problem);
  }
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
    std::vector<std::pair<int64_t, std::string>> rows;
    auto finish = [&] {
      if (!out.empty()) {
        out.back().directions = directions_from_rows(std::move(rows));
        rows.clear();
      }
    };
    m_db->query(
        "SELECT s.study_id, s.study_name, d.objective, d.direction FROM studies s LEFT JOIN "
        "study_directions d ON d.study_id = s.study_id ORDER BY s.study_id",
        {}, [&](const SqlRow& r) {
          if (out.empty() || out.back().id != r.integer(0)) {
            finish();
            out.emplace_back();
            out.back().id = r.integer(0);
            out.back().name = r.text(1);
          }
          if (!r.is_null(2)) {
            rows.emplace_back(r.integer(2), r.text(3));
          }
        });
    finish();
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
    table[0] == 's' ? require_study(owner_id) : void(require_trial(owner_id, true));
    upsert_attr(table, owner_id, key, v);
  });
}

std::map<std::string, Json> SqlStorage::study_user_attrs(int64_t study_id) {
  return study_attrs("study_user_attributes", study_id);
}

std::map<std::string, Json> SqlStorage::study_system_attrs(int64_t study_id) {
  return study_attrs("study_system_attributes", study_id);
}

std::map<std::string, Json> SqlStorage::study_attrs(const char* table, int64_t study_id) {
  return run("read study attributes", false, [&](bool) {
    require_study(study_id);
    std::map<std::string, Json> out;
    m_db->query(fmt::format("SELECT \"key\", value_json FROM {} WHERE study_id = ?", table),
                {study_id},
                [&](const SqlRow& r) { out[r.text(0)] = stored_json_or_note(r.text(1)); });
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
    upsert_attr("trial_system_attributes", id, k_owner_attr, owner);
    upsert_heartbeat(id);
    upsert_attr("trial_system_attributes", id, k_request_attr, tag(kind));
    return TrialClaim{kind, load_trial(id)};
  };
  return run("claim a trial", true, [&](bool after_lost_connection) -> std::optional<TrialClaim> {
    require_study(study_id);
    m_db->lock(study_id);  // Claims of one study one at a time, across hosts.
    for (Kind kind : {Kind::New, Kind::Waiting, Kind::Orphan}) {
      if (auto id = after_lost_connection ? stamped_trial(study_id, tag(kind)) : std::nullopt) {
        return TrialClaim{kind, load_trial(*id)};  // The first attempt committed this claim.
      }
    }
    auto waiting = trial_ids(study_id, "WAITING");
    if (!waiting.empty()) {
      // A trial handed back mid-run (Ctrl-C) restarts from step 0: drop its old steps.
      m_db->exec("DELETE FROM trial_intermediate_values WHERE trial_id = ?", {waiting.front()});
      return claimed(Kind::Waiting, waiting.front());
    }
    for (int64_t id : is_orphan ? trial_ids(study_id, "RUNNING") : std::vector<int64_t>{}) {
      if (is_orphan(load_trial(id))) {
        m_db->exec("DELETE FROM trial_intermediate_values WHERE trial_id = ?", {id});
        m_db->exec("DELETE FROM trial_values WHERE trial_id = ?", {id});
        return claimed(Kind::Orphan, id);
      }
    }
    int64_t counted = 0;
    int64_t number = 0;
    m_db->query(
        "SELECT COALESCE(SUM(CASE WHEN state IN ('COMPLETE', 'PRUNED', 'RUNNING', "
        "'WAITING') THEN 1 ELSE 0 END), 0), COALESCE(MAX(number), -1) + 1 FROM trials "
        "WHERE study_id = ?",
        {study_id}, [&](const SqlRow& r) {
          counted = r.integer(0);
          number = r.integer(1);
        });
    if (counted >= limit) {
      return std::nullopt;
    }
    return claimed(Kind::New, m_db->insert("INSERT INTO trials (number, study_id, state, "
                                           "datetime_start) VALUES (?, ?, 'RUNNING', ?)",
                                           {number, study_id, now_local()}, "trial_id"));
  });
}

int64_t SqlStorage::next_number(int64_t study_id) {
  return *integer("SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = ?",
                  {study_id});
}

int64_t SqlStorage::create_trial(int64_t study_id, const FrozenTrial& templ) {
  if (auto problem = new_trial_problem(templ)) {
    fail(*problem);
  }
  const std::string request = new_request_id();
  return run("create a trial", true, [&](bool after_lost_connection) {
    require_study(study_id);
    m_db->lock(study_id);  // Numbers are max + 1, as in claim_trial.
    if (auto id = after_lost_connection ? stamped_trial(study_id, request) : std::nullopt) {
      return *id;  // The first attempt committed.
    }
    auto times = new_trial_times(templ);
    const int64_t id = m_db->insert(
        "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) VALUES "
        "(?, ?, ?, ?, ?)",
        {next_number(study_id), study_id, trial_state_name(templ.state),
         sql_param(format_local(times.start)), sql_param(format_local(times.complete))},
        "trial_id");
    const std::vector<double> values = objective_values(templ);
    for (size_t objective = 0; objective < values.size(); ++objective) {
      upsert_value("trial_values", id, static_cast<int64_t>(objective), values[objective]);
    }
    for (const auto& [name, internal] : templ.params) {
      upsert_param(id, name, internal, distribution_to_json(templ.distributions.at(name)));
    }
    for (const auto& [step, v] : templ.intermediate_values) {
      upsert_value("trial_intermediate_values", id, step, v);
    }
    for (const auto& [key, v] : templ.user_attrs) {
      upsert_attr("trial_user_attributes", id, key, v);
    }
    for (const auto& [key, v] : templ.system_attrs) {
      upsert_attr("trial_system_attributes", id, key, v);
    }
    upsert_attr("trial_system_attributes", id, k_request_attr, request);
    return id;
  });
}

void SqlStorage::set_trial_param(int64_t trial_id, const std::string& name, double internal,
                                 const Distribution& d) {
  std::string json = distribution_to_json(d);
  run("set a trial parameter", true, [&](bool) {
    require_trial(trial_id, true);
    upsert_param(trial_id, name, internal, json);
  });
}

void SqlStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) {
  set_trial_intermediate_values(trial_id, {{step, value}});
}

void SqlStorage::set_trial_intermediate_values(
    int64_t trial_id, const std::vector<std::pair<int64_t, double>>& steps) {
  if (steps.empty()) {
    return;
  }
  run("set an intermediate value", true, [&](bool) {
    require_trial(trial_id, true);
    for (const auto& [step, value] : steps) {
      upsert_value("trial_intermediate_values", trial_id, step, value);
    }
  });
}

bool SqlStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                        std::optional<double> value) {
  return set_trial_state_values(trial_id, state,
                                value ? std::vector<double>{*value} : std::vector<double>{});
}

bool SqlStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                        const std::vector<double>& values) {
  if (auto problem = state_values_problem(trial_id, state, values)) {
    fail(*problem);
  }
  const std::string request = new_request_id();
  return run("finish a trial", true, [&](bool after_lost_connection) {
    if (after_lost_connection && stamped_trial(-1, request) == trial_id) {
      return true;  // The first attempt committed.
    }
    // Only a RUNNING trial changes: another process may have finished or reclaimed it.
    if (state != TrialState::Running) {
      m_db->exec(
          "UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ? AND state = "
          "'RUNNING'",
          {trial_state_name(state), is_finished(state) ? SqlParam(now_local()) : SqlParam(),
           trial_id});
    }
    if (state == TrialState::Running || m_db->changed_rows() != 1) {
      require_trial(trial_id, false);  // Fails for an unknown trial.
      return false;
    }
    for (size_t objective = 0; objective < values.size(); ++objective) {
      upsert_value("trial_values", trial_id, static_cast<int64_t>(objective), values[objective]);
    }
    upsert_attr("trial_system_attributes", trial_id, k_request_attr, request);
    return true;
  });
}

void SqlStorage::record_heartbeat(int64_t trial_id) {
  run("record a heartbeat", true, [&](bool) {
    require_trial(trial_id, false);
    upsert_heartbeat(trial_id);
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

std::shared_ptr<std::vector<FrozenTrial>> SqlStorage::refresh(int64_t study_id) {
  auto& c = m_caches->studies[study_id];
  // Read before the snapshot starts, so a later commit always changes it.
  auto data_version = m_db->data_version();
  if (c.trials.trials() && data_version && c.data_version == data_version && c.writes == m_writes) {
    return c.trials.trials();
  }
  require_study(study_id);
  auto trials = c.trials.refresh([&](int64_t max_id, const std::vector<int64_t>& unfinished) {
    TrialCache::Delta delta;
    delta.trials = load_trials(
        fmt::format("study_id = ? AND (trial_id > {}{})", max_id,
                    unfinished.empty() ? "" : " OR trial_id IN (" + id_list(unfinished) + ")"),
        {study_id}, study_id);
    delta.total = *integer("SELECT COUNT(*) FROM trials WHERE study_id = ?", {study_id});
    return delta;
  });
  c.data_version = data_version;
  c.writes = m_writes;
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

int SqlStorage::count_trials(int64_t study_id, const std::vector<TrialState>& states) {
  return run("count trials", false, [&](bool) {
    require_study(study_id);
    return static_cast<int>(
        *integer("SELECT COUNT(*) FROM trials WHERE study_id = ?" +
                     (states.empty() ? "" : " AND state IN (" + states_sql(states) + ")"),
                 {study_id}));
  });
}

}  // namespace hpt
