#include "hpt/storage/sqlite_storage.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "hpt/storage/optuna_json.hpp"
#include "hpt/storage/sql_datetime.hpp"
#include "optuna_encoding.hpp"
#include "sqlite_schema.hpp"
#include "trial_arguments.hpp"
#include "trial_assembler.hpp"
#include "trial_cache.hpp"

namespace hpt {

namespace {

constexpr int k_busy_retries = 3;
// Up to this many trials are read with "trial_id IN (...)"; more with one join per table.
constexpr size_t k_in_list_max = 256;

void bind_optional(SQLite::Statement& s, int index, const std::optional<double>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind(index);
  }
}

void bind_optional(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind(index);
  }
}

std::optional<std::string> optional_text(const SQLite::Column& c) {
  return c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}

std::optional<double> optional_double(const SQLite::Column& c) {
  return c.isNull() ? std::nullopt : std::optional<double>(c.getDouble());
}

std::string id_list(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) {
    out += (out.empty() ? "" : ",") + std::to_string(id);
  }
  return out;
}

// The trials rows WHERE where (with ?1 bound to key), ordered by number.
std::vector<TrialRow> select_trial_rows(SQLite::Database& db, const std::string& where,
                                        int64_t key) {
  SQLite::Statement q(db,
                      "SELECT trial_id, number, state, datetime_start, datetime_complete FROM "
                      "trials WHERE " +
                          where + " ORDER BY number, trial_id");
  q.bind(1, key);
  std::vector<TrialRow> rows;
  while (q.executeStep()) {
    TrialRow r;
    r.id = q.getColumn(0).getInt64();
    r.number = q.getColumn(1).isNull() ? -1 : q.getColumn(1).getInt();
    r.state = q.getColumn(2).getString();
    r.start = optional_text(q.getColumn(3));
    r.complete = optional_text(q.getColumn(4));
    rows.push_back(std::move(r));
  }
  return rows;
}

// The trials of rows with their params, values and attributes: one query per table, for
// the listed ids or, when whole_study, for all the trials of study_id.
std::vector<FrozenTrial> load_trials(SQLite::Database& db, DistributionCache& distributions,
                                     const std::vector<TrialRow>& rows, bool whole_study,
                                     int64_t study_id) {
  TrialAssembler trials(rows, distributions);
  if (rows.empty()) {
    return trials.take();
  }
  std::vector<int64_t> ids;
  ids.reserve(rows.size());
  for (const auto& r : rows) {
    ids.push_back(r.id);
  }
  std::string listed = whole_study ? "" : id_list(ids);
  auto each = [&](const std::string& columns, const std::string& table, const std::string& extra,
                  auto&& fn) {
    std::string sql =
        whole_study ? fmt::format(
                          "SELECT c.trial_id, {} FROM {} c JOIN trials t ON t.trial_id = "
                          "c.trial_id WHERE t.study_id = ?{}",
                          columns, table, extra)
                    : fmt::format("SELECT c.trial_id, {} FROM {} c WHERE c.trial_id IN ({}){}",
                                  columns, table, listed, extra);
    SQLite::Statement q(db, sql);
    if (whole_study) {
      q.bind(1, study_id);
    }
    while (q.executeStep()) {
      fn(q.getColumn(0).getInt64(), q);
    }
  };
  each("c.param_name, c.param_value, c.distribution_json", "trial_params", "",
       [&](int64_t id, SQLite::Statement& q) {
         trials.add_param(id, q.getColumn(1).getString(), q.getColumn(2).getDouble(),
                          q.getColumn(3).getString());
       });
  each("c.objective, c.value, c.value_type", "trial_values", "",
       [&](int64_t id, SQLite::Statement& q) {
         trials.add_value(id, q.getColumn(1).getInt64(), optional_double(q.getColumn(2)),
                          q.getColumn(3).getString());
       });
  each("c.step, c.intermediate_value, c.intermediate_value_type", "trial_intermediate_values", "",
       [&](int64_t id, SQLite::Statement& q) {
         trials.add_intermediate(id, q.getColumn(1).getInt64(), optional_double(q.getColumn(2)),
                                 q.getColumn(3).getString());
       });
  each("c.\"key\", c.value_json", "trial_user_attributes", "",
       [&](int64_t id, SQLite::Statement& q) {
         trials.add_user_attr(id, q.getColumn(1).getString(), q.getColumn(2).getString());
       });
  each("c.\"key\", c.value_json", "trial_system_attributes", "",
       [&](int64_t id, SQLite::Statement& q) {
         trials.add_system_attr(id, q.getColumn(1).getString(), q.getColumn(2).getString());
       });
  return trials.take();
}

}  // namespace

struct SqliteStorage::Caches {
  struct Study {
    TrialCache trials;
    int64_t data_version = -1;  // PRAGMA data_version and m_writes at the last refresh.
    uint64_t writes = 0;
  };
  std::map<int64_t, Study> studies;
  DistributionCache distributions;
};

SqliteStorage::SqliteStorage(SQLite::Database db, std::string path, bool read_only)
    : m_db(std::move(db)),
      m_path(std::move(path)),
      m_read_only(read_only),
      m_caches(std::make_unique<Caches>()) {}

SqliteStorage::~SqliteStorage() = default;

void SqliteStorage::fail(const std::string& problem) const {
  throw StorageError(m_path + ": " + problem);
}

template <class F>
auto SqliteStorage::transact(const char* what, bool write, F&& body) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  if (write && m_read_only) {
    fail(std::string("cannot ") + what + ": the database was opened read-only");
  }
  if (m_txn_depth > 0) {
    return body();  // Nested in claim_trial's transaction.
  }
  for (int attempt = 0;; ++attempt) {
    try {
      struct Depth {
        int& d;
        explicit Depth(int& x) : d(++x) {}
        ~Depth() { --d; }
      } depth(m_txn_depth);
      // Reads: one snapshot for all the queries of the call.
      SQLite::Transaction txn(m_db, write ? SQLite::TransactionBehavior::IMMEDIATE
                                          : SQLite::TransactionBehavior::DEFERRED);
      if (write) {
        ++m_writes;
      }
      if constexpr (std::is_void_v<decltype(body())>) {
        body();
        txn.commit();
        return;
      } else {
        auto result = body();
        txn.commit();
        return result;
      }
    } catch (const StorageError&) {
      throw;
    } catch (const SQLite::Exception& e) {
      int code = e.getErrorCode() & 0xff;
      if ((code == SQLITE_BUSY || code == SQLITE_LOCKED) && attempt < k_busy_retries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
        continue;
      }
      fail(std::string("cannot ") + what + ": " + describe_sqlite_error(e));
    } catch (const std::exception& e) {
      fail(std::string("cannot ") + what + ": " + e.what());
    }
  }
}

template <class F>
auto SqliteStorage::write(const char* what, F&& body) {
  return transact(what, true, std::forward<F>(body));
}

template <class F>
auto SqliteStorage::read(const char* what, F&& body) {
  return transact(what, false, std::forward<F>(body));
}

void SqliteStorage::require_study(int64_t study_id) {
  SQLite::Statement q(m_db, "SELECT 1 FROM studies WHERE study_id = ?");
  q.bind(1, study_id);
  if (!q.executeStep()) {
    fail(fmt::format("no study with id {}", study_id));
  }
}

TrialState SqliteStorage::require_updatable_trial(int64_t trial_id) {
  SQLite::Statement q(m_db, "SELECT number, state FROM trials WHERE trial_id = ?");
  q.bind(1, trial_id);
  if (!q.executeStep()) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  std::string state = q.getColumn(1).getString();
  TrialState s = trial_state_from_name(state);
  if (is_finished(s)) {
    fail(fmt::format("trial {} (id {}) is already {} and cannot be changed",
                     q.getColumn(0).getInt(), trial_id, state));
  }
  return s;
}

void SqliteStorage::upsert_attr(const char* table, const char* owner_column, int64_t owner_id,
                                const std::string& key, const Json& v) {
  if (auto problem = name_problem("attribute key", key)) {
    fail(*problem);
  }
  SQLite::Statement q(m_db,
                      fmt::format("INSERT INTO {0} ({1}, \"key\", value_json) VALUES (?, ?, ?) "
                                  "ON CONFLICT ({1}, \"key\") DO UPDATE SET value_json = "
                                  "excluded.value_json",
                                  table, owner_column));
  q.bind(1, owner_id);
  q.bind(2, key);
  q.bind(3, python_json_dumps(v));
  q.exec();
}

std::map<std::string, Json> SqliteStorage::load_attrs(const char* table, const char* owner_column,
                                                      int64_t owner_id) {
  SQLite::Statement q(
      m_db, fmt::format("SELECT \"key\", value_json FROM {} WHERE {} = ?", table, owner_column));
  q.bind(1, owner_id);
  std::map<std::string, Json> out;
  while (q.executeStep()) {
    out[q.getColumn(0).getString()] = stored_json_or_note(q.getColumn(1).getString());
  }
  return out;
}

void SqliteStorage::upsert_value(int64_t trial_id, int64_t objective, double value) {
  auto stored = encode_value(value);
  SQLite::Statement q(m_db,
                      "INSERT INTO trial_values (trial_id, objective, value, value_type) "
                      "VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, objective) DO UPDATE SET "
                      "value = excluded.value, value_type = excluded.value_type");
  q.bind(1, trial_id);
  q.bind(2, objective);
  bind_optional(q, 3, stored.value);
  q.bind(4, stored.type);
  q.exec();
}

void SqliteStorage::upsert_intermediate(int64_t trial_id, int64_t step, double value) {
  upsert_intermediates(trial_id, {{step, value}});
}

void SqliteStorage::upsert_intermediates(int64_t trial_id,
                                         const std::vector<std::pair<int64_t, double>>& steps) {
  SQLite::Statement q(m_db,
                      "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
                      "intermediate_value_type) VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, step) "
                      "DO UPDATE SET intermediate_value = excluded.intermediate_value, "
                      "intermediate_value_type = excluded.intermediate_value_type");
  for (const auto& [step, value] : steps) {  // One statement, prepared once.
    auto stored = encode_value(value);
    q.bind(1, trial_id);
    q.bind(2, step);
    bind_optional(q, 3, stored.value);
    q.bind(4, stored.type);
    q.exec();
    q.reset();
  }
}

void SqliteStorage::upsert_param(int64_t trial_id, const std::string& name, double internal,
                                 const std::string& distribution_json) {
  if (auto problem = name_problem("parameter name", name)) {
    fail(*problem);
  }
  SQLite::Statement q(m_db,
                      "INSERT INTO trial_params (trial_id, param_name, param_value, "
                      "distribution_json) VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, param_name) "
                      "DO UPDATE SET param_value = excluded.param_value, distribution_json = "
                      "excluded.distribution_json");
  q.bind(1, trial_id);
  q.bind(2, name);
  q.bind(3, internal);
  q.bind(4, distribution_json);
  q.exec();
}

void SqliteStorage::upsert_heartbeat(int64_t trial_id) {
  SQLite::Statement q(m_db,
                      "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, ?) "
                      "ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat");
  q.bind(1, trial_id);
  q.bind(2, format_sql_datetime(Clock::now(), TimeZone::Utc));
  q.exec();
}

void SqliteStorage::mark_running(int64_t trial_id, const Json& owner) {
  SQLite::Statement q(m_db,
                      "UPDATE trials SET state = 'RUNNING', datetime_start = ?, "
                      "datetime_complete = NULL WHERE trial_id = ?");
  q.bind(1, now_local());
  q.bind(2, trial_id);
  q.exec();
  upsert_attr("trial_system_attributes", "trial_id", trial_id, "hpt:owner", owner);
  upsert_heartbeat(trial_id);
}

FrozenTrial SqliteStorage::load_trial(int64_t trial_id) {
  auto rows = select_trial_rows(m_db, "trial_id = ?", trial_id);
  if (rows.empty()) {
    fail(fmt::format("no trial with id {}", trial_id));
  }
  return load_trials(m_db, m_caches->distributions, rows, false, 0).front();
}

int64_t SqliteStorage::create_study(const std::string& name,
                                    const std::vector<Direction>& directions) {
  if (auto problem = name_problem("study name", name)) {
    fail(*problem);
  }
  if (directions.empty()) {
    fail("a study needs at least one direction");
  }
  return write("create a study", [&] {
    SQLite::Statement exists(m_db, "SELECT 1 FROM studies WHERE study_name = ?");
    exists.bind(1, name);
    if (exists.executeStep()) {
      fail("a study named '" + name + "' already exists");
    }
    SQLite::Statement s(m_db, "INSERT INTO studies (study_name) VALUES (?)");
    s.bind(1, name);
    s.exec();
    int64_t id = m_db.getLastInsertRowid();
    for (size_t objective = 0; objective < directions.size(); ++objective) {
      SQLite::Statement d(m_db,
                          "INSERT INTO study_directions (direction, study_id, objective) "
                          "VALUES (?, ?, ?)");
      d.bind(1, direction_name(directions[objective]));
      d.bind(2, id);
      d.bind(3, static_cast<int64_t>(objective));
      d.exec();
    }
    return id;
  });
}

std::vector<StudyInfo> SqliteStorage::list_studies() {
  return read("list studies", [&] {
    SQLite::Statement q(m_db,
                        "SELECT s.study_id, s.study_name, d.objective, d.direction FROM studies s "
                        "LEFT JOIN study_directions d ON d.study_id = s.study_id "
                        "ORDER BY s.study_id");
    std::vector<StudyInfo> out;
    std::vector<std::pair<int64_t, std::string>> rows;
    auto finish = [&] {
      if (!out.empty()) {
        out.back().directions = directions_from_rows(std::move(rows));
        out.back().direction = out.back().directions.front();
        rows.clear();
      }
    };
    while (q.executeStep()) {
      const int64_t id = q.getColumn(0).getInt64();
      if (out.empty() || out.back().id != id) {
        finish();
        StudyInfo info;
        info.id = id;
        info.name = q.getColumn(1).getString();
        out.push_back(info);
      }
      if (!q.getColumn(2).isNull()) {
        rows.emplace_back(q.getColumn(2).getInt64(), q.getColumn(3).getString());
      }
    }
    finish();
    return out;
  });
}

std::optional<StudyInfo> SqliteStorage::find_study(const std::string& name) {
  for (auto& s : list_studies()) {
    if (s.name == name) {
      return s;
    }
  }
  return std::nullopt;
}

void SqliteStorage::set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) {
  write("set a study attribute", [&] {
    require_study(study_id);
    upsert_attr("study_user_attributes", "study_id", study_id, key, v);
  });
}

void SqliteStorage::set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) {
  write("set a study attribute", [&] {
    require_study(study_id);
    upsert_attr("study_system_attributes", "study_id", study_id, key, v);
  });
}

std::map<std::string, Json> SqliteStorage::study_user_attrs(int64_t study_id) {
  return read("read study attributes", [&] {
    require_study(study_id);
    return load_attrs("study_user_attributes", "study_id", study_id);
  });
}

std::map<std::string, Json> SqliteStorage::study_system_attrs(int64_t study_id) {
  return read("read study attributes", [&] {
    require_study(study_id);
    return load_attrs("study_system_attributes", "study_id", study_id);
  });
}

std::optional<TrialClaim> SqliteStorage::claim_trial(
    int64_t study_id, int limit, const Json& owner,
    const std::function<bool(const FrozenTrial&)>& is_orphan) {
  return write("claim a trial", [&]() -> std::optional<TrialClaim> {
    require_study(study_id);
    auto first_in_state = [&](const char* state) {
      SQLite::Statement q(m_db,
                          "SELECT trial_id FROM trials WHERE study_id = ? AND state = ? "
                          "ORDER BY number, trial_id");
      q.bind(1, study_id);
      q.bind(2, state);
      std::vector<int64_t> ids;
      while (q.executeStep()) {
        ids.push_back(q.getColumn(0).getInt64());
      }
      return ids;
    };
    auto waiting = first_in_state("WAITING");
    if (!waiting.empty()) {
      // A trial handed back mid-run (Ctrl-C) restarts from step 0: drop its old steps.
      SQLite::Statement del(m_db, "DELETE FROM trial_intermediate_values WHERE trial_id = ?");
      del.bind(1, waiting.front());
      del.exec();
      mark_running(waiting.front(), owner);
      return TrialClaim{TrialClaim::Kind::Waiting, load_trial(waiting.front())};
    }
    if (is_orphan) {
      for (int64_t id : first_in_state("RUNNING")) {
        if (!is_orphan(load_trial(id))) {
          continue;
        }
        for (const char* sql : {"DELETE FROM trial_intermediate_values WHERE trial_id = ?",
                                "DELETE FROM trial_values WHERE trial_id = ?"}) {
          SQLite::Statement del(m_db, sql);
          del.bind(1, id);
          del.exec();
        }
        mark_running(id, owner);
        return TrialClaim{TrialClaim::Kind::Orphan, load_trial(id)};
      }
    }
    SQLite::Statement count(m_db,
                            "SELECT COUNT(*), (SELECT COALESCE(MAX(number), -1) + 1 FROM trials "
                            "WHERE study_id = ?1) FROM trials WHERE study_id = ?1 AND state IN "
                            "('COMPLETE', 'PRUNED', 'RUNNING', 'WAITING')");
    count.bind(1, study_id);
    count.executeStep();
    if (count.getColumn(0).getInt64() >= limit) {
      return std::nullopt;
    }
    int64_t number = count.getColumn(1).getInt64();
    SQLite::Statement ins(m_db,
                          "INSERT INTO trials (number, study_id, state, datetime_start) "
                          "VALUES (?, ?, 'RUNNING', ?)");
    ins.bind(1, number);
    ins.bind(2, study_id);
    ins.bind(3, now_local());
    ins.exec();
    int64_t id = m_db.getLastInsertRowid();
    upsert_attr("trial_system_attributes", "trial_id", id, "hpt:owner", owner);
    upsert_heartbeat(id);
    return TrialClaim{TrialClaim::Kind::New, load_trial(id)};
  });
}

int64_t SqliteStorage::create_trial(int64_t study_id, const FrozenTrial& templ) {
  if (auto problem = new_trial_problem(templ)) {
    fail(*problem);
  }
  return write("create a trial", [&] {
    require_study(study_id);
    SQLite::Statement next(m_db,
                           "SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = ?");
    next.bind(1, study_id);
    next.executeStep();
    int64_t number = next.getColumn(0).getInt64();
    auto times = new_trial_times(templ);
    SQLite::Statement ins(m_db,
                          "INSERT INTO trials (number, study_id, state, datetime_start, "
                          "datetime_complete) VALUES (?, ?, ?, ?, ?)");
    ins.bind(1, number);
    ins.bind(2, study_id);
    ins.bind(3, trial_state_name(templ.state));
    bind_optional(ins, 4, format_local(times.start));
    bind_optional(ins, 5, format_local(times.complete));
    ins.exec();
    int64_t id = m_db.getLastInsertRowid();
    const std::vector<double> values = objective_values(templ);
    for (size_t objective = 0; objective < values.size(); ++objective) {
      upsert_value(id, static_cast<int64_t>(objective), values[objective]);
    }
    for (const auto& [name, internal] : templ.params) {
      upsert_param(id, name, internal, distribution_to_json(templ.distributions.at(name)));
    }
    for (const auto& [step, v] : templ.intermediate_values) {
      upsert_intermediate(id, step, v);
    }
    for (const auto& [key, v] : templ.user_attrs) {
      upsert_attr("trial_user_attributes", "trial_id", id, key, v);
    }
    for (const auto& [key, v] : templ.system_attrs) {
      upsert_attr("trial_system_attributes", "trial_id", id, key, v);
    }
    return id;
  });
}

void SqliteStorage::set_trial_param(int64_t trial_id, const std::string& name, double internal,
                                    const Distribution& d) {
  std::string json = distribution_to_json(d);
  write("set a trial parameter", [&] {
    require_updatable_trial(trial_id);
    upsert_param(trial_id, name, internal, json);
  });
}

void SqliteStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) {
  write("set an intermediate value", [&] {
    require_updatable_trial(trial_id);
    upsert_intermediate(trial_id, step, value);
  });
}

void SqliteStorage::set_trial_intermediate_values(
    int64_t trial_id, const std::vector<std::pair<int64_t, double>>& steps) {
  if (steps.empty()) {
    return;
  }
  write("set intermediate values", [&] {
    require_updatable_trial(trial_id);
    upsert_intermediates(trial_id, steps);
  });
}

void SqliteStorage::set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) {
  write("set a trial attribute", [&] {
    require_updatable_trial(trial_id);
    upsert_attr("trial_user_attributes", "trial_id", trial_id, key, v);
  });
}

void SqliteStorage::set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) {
  write("set a trial attribute", [&] {
    require_updatable_trial(trial_id);
    upsert_attr("trial_system_attributes", "trial_id", trial_id, key, v);
  });
}

bool SqliteStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                           std::optional<double> value) {
  if (auto problem = state_values_problem(trial_id, state, value)) {
    fail(*problem);
  }
  return write("finish a trial", [&] {
    SQLite::Statement q(m_db, "SELECT state FROM trials WHERE trial_id = ?");
    q.bind(1, trial_id);
    if (!q.executeStep()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    if (q.getColumn(0).getString() != "RUNNING" || state == TrialState::Running) {
      return false;
    }
    if (value) {
      upsert_value(trial_id, 0, *value);
    }
    SQLite::Statement u(m_db,
                        "UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ?");
    u.bind(1, trial_state_name(state));
    bind_optional(u, 2,
                  is_finished(state) ? std::optional<std::string>(now_local()) : std::nullopt);
    u.bind(3, trial_id);
    u.exec();
    return true;
  });
}

void SqliteStorage::record_heartbeat(int64_t trial_id) {
  write("record a heartbeat", [&] {
    SQLite::Statement q(m_db, "SELECT 1 FROM trials WHERE trial_id = ?");
    q.bind(1, trial_id);
    if (!q.executeStep()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    upsert_heartbeat(trial_id);
  });
}

std::optional<double> SqliteStorage::heartbeat_age(int64_t trial_id) {
  return read("read a heartbeat", [&]() -> std::optional<double> {
    SQLite::Statement q(m_db,
                        "SELECT h.heartbeat FROM trials t LEFT JOIN trial_heartbeats h ON "
                        "h.trial_id = t.trial_id WHERE t.trial_id = ?");
    q.bind(1, trial_id);
    if (!q.executeStep()) {
      fail(fmt::format("no trial with id {}", trial_id));
    }
    if (q.getColumn(0).isNull()) {
      return std::nullopt;
    }
    auto t = parse_sql_datetime(q.getColumn(0).getString(), TimeZone::Utc);
    if (!t) {
      fail(fmt::format("trial id {}: unreadable heartbeat '{}'", trial_id,
                       q.getColumn(0).getString()));
    }
    return std::chrono::duration<double>(Clock::now() - *t).count();
  });
}

FrozenTrial SqliteStorage::get_trial(int64_t trial_id) {
  return read("read a trial", [&] { return load_trial(trial_id); });
}

std::shared_ptr<std::vector<FrozenTrial>> SqliteStorage::refresh(int64_t study_id) {
  auto& c = m_caches->studies[study_id];
  // Read before the snapshot starts, so a later commit always changes it.
  int64_t data_version = m_db.execAndGet("PRAGMA data_version").getInt64();
  if (c.trials.trials() && c.data_version == data_version && c.writes == m_writes) {
    return c.trials.trials();
  }
  require_study(study_id);
  auto trials = c.trials.refresh([&](int64_t max_id, const std::vector<int64_t>& unfinished) {
    // Two rowid lookups, no scan.
    auto rows = select_trial_rows(
        m_db,
        fmt::format("study_id = ?1 AND (trial_id > {}{})", max_id,
                    unfinished.empty() ? "" : " OR trial_id IN (" + id_list(unfinished) + ")"),
        study_id);
    SQLite::Statement count(m_db, "SELECT COUNT(*) FROM trials WHERE study_id = ?");
    count.bind(1, study_id);
    count.executeStep();
    TrialCache::Delta delta;
    delta.total = static_cast<size_t>(count.getColumn(0).getInt64());
    delta.trials =
        load_trials(m_db, m_caches->distributions, rows, rows.size() > k_in_list_max, study_id);
    return delta;
  });
  c.data_version = data_version;
  c.writes = m_writes;
  return trials;
}

std::vector<FrozenTrial> SqliteStorage::get_all_trials(int64_t study_id,
                                                       const std::vector<TrialState>& states) {
  return read("read trials", [&] { return trials_in_states(*refresh(study_id), states); });
}

std::shared_ptr<const std::vector<FrozenTrial>> SqliteStorage::trials_snapshot(int64_t study_id) {
  return read("read trials",
              [&] { return std::shared_ptr<const std::vector<FrozenTrial>>(refresh(study_id)); });
}

int SqliteStorage::count_trials(int64_t study_id, const std::vector<TrialState>& states) {
  return read("count trials", [&] {
    require_study(study_id);
    std::string sql = "SELECT COUNT(*) FROM trials WHERE study_id = ?";
    if (!states.empty()) {
      sql += " AND state IN (" + states_sql(states) + ")";
    }
    SQLite::Statement q(m_db, sql);
    q.bind(1, study_id);
    q.executeStep();
    return q.getColumn(0).getInt();
  });
}

}  // namespace hpt
