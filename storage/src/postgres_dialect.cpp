// The PostgreSQL dialect of SqlStorage (libpqxx): READ COMMITTED writes, REPEATABLE READ
// read snapshots, advisory locks, reconnects with backoff. Built only when CMake finds
// libpqxx; postgres_unsupported.cpp stands in otherwise.

#include <fmt/format.h>

#include <cstdlib>
#include <pqxx/pqxx>

#include "hpt/io/credentials.hpp"
#include "hpt/storage/postgres.hpp"
#include "hpt/storage/sql_storage.hpp"
#include "optuna_schema_check.hpp"

namespace hpt {

namespace {

// Advisory lock keys: one for creating the schema, (class, study_id) for numbering trials.
constexpr int64_t k_schema_lock = 0x6870745f736368;  // "hpt_sch"
constexpr int k_study_lock_class = 0x687074;         // "hpt"
// Retries of a transaction the server rolled back (deadlock, serialization). A lost
// connection is retried with backoff (0.1 s doubling to 5 s) for as long as SqlStorage's
// outage wait allows.
constexpr int k_rollback_retries = 5;
// A statement waits at most this long for a lock (the session's lock_timeout) and is then
// retried, up to k_lock_retries times (about 60 s in all, SQLite's busy timeout): so a host
// frozen mid-claim, or a LOCK TABLE in another session, stalls hpt within reach of Ctrl-C.
constexpr int k_lock_timeout_s = 2;
constexpr int k_lock_retries = 30;

// The first line of a libpqxx message ("ERROR:  ..." without the query).
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

// Whether a failed (re)connection was the server refusing this database or role, not an
// outage: the database was dropped or renamed, the role or its password changed, pg_hba.conf
// shut it out. Waiting cannot mend that (a dropped database was waited for 600 s per write).
// libpq gives a connection failure as text only, so the server's (English) messages are read.
bool refused_by_server(const std::exception& error) {
  if (dynamic_cast<const pqxx::broken_connection*>(&error) == nullptr) {
    return false;
  }
  const std::string what = error.what();
  for (const char* refusal : {"does not exist", "authentication failed", "no pg_hba.conf entry",
                              "permission denied for database", "is not currently accepting"}) {
    if (what.find(refusal) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// libpq reads URI parameters after '?': add a connect timeout unless the user set one.
std::string with_defaults(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) {
    return url;
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
}

// sql with its '?' placeholders (outside quotes) numbered $1, $2, ...
std::string numbered(const std::string& sql) {
  std::string out;
  char quote = 0;
  int n = 0;
  for (char c : sql) {
    if (quote == 0 && c == '?') {
      out += "$" + std::to_string(++n);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = quote == 0 ? c : (quote == c ? 0 : quote);
    }
    out += c;
  }
  return out;
}

class PostgresRow final : public SqlRow {
 public:
  explicit PostgresRow(const pqxx::row& r) : m_r(r) {}
  bool is_null(int c) const override { return m_r[c].is_null(); }
  int64_t integer(int c) const override { return m_r[c].as<int64_t>(); }
  double real(int c) const override { return std::strtod(m_r[c].c_str(), nullptr); }
  std::string text(int c) const override { return m_r[c].c_str(); }

 private:
  const pqxx::row& m_r;
};

class PostgresDialect final : public SqlDialect {
 public:
  PostgresDialect(std::string url, bool read_only) : m_url(std::move(url)), m_read_only(read_only) {
    connect();
  }

  void begin(bool write) override {
    if (!m_conn || !m_conn->is_open()) {
      connect();
    }
    if (write) {
      m_tx = std::make_unique<pqxx::work>(*m_conn);
    } else {
      m_tx = std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(*m_conn);
    }
  }
  void commit() override {
    m_tx->commit();
    m_tx.reset();
  }
  void rollback() noexcept override { m_tx.reset(); }
  std::optional<Retry> retry(const std::exception& error, int attempt) override {
    if (attempt == 0) {
      m_lost = m_rolled_back = m_lock_waits = 0;
    }
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
        sql != nullptr && (sql->sqlstate() == "55P03" || sql->sqlstate() == "57014")) {
      // lock_timeout (or a statement_timeout while waiting): nothing was written; wait again.
      if (++m_lock_waits > k_lock_retries) {
        return std::nullopt;
      }
      return Retry{std::chrono::milliseconds(50), false};
    }
    if (dynamic_cast<const pqxx::transaction_rollback*>(&error) != nullptr) {
      // Deadlock or serialization failure: nothing was written; run it again.
      if (++m_rolled_back > k_rollback_retries) {
        return std::nullopt;
      }
      return Retry{std::chrono::milliseconds(10 << m_rolled_back), false};
    }
    if ((dynamic_cast<const pqxx::broken_connection*>(&error) == nullptr &&
         dynamic_cast<const pqxx::in_doubt_error*>(&error) == nullptr) ||
        refused_by_server(error)) {
      return std::nullopt;
    }
    // The connection was lost, perhaps after the server committed: reconnect and retry.
    disconnect();
    ++m_lost;
    return Retry{std::chrono::milliseconds(std::min(100 << std::min(m_lost - 1, 6), 5000)), true};
  }
  bool refuses_all_writes(const std::exception& error) const override {
    if (refused_by_server(error)) {
      return true;
    }
    const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
    if (sql == nullptr) {
      return false;
    }
    // Class 53 (insufficient resources: disk_full, out_of_memory, too_many_connections),
    // insufficient_privilege, read_only_sql_transaction.
    const std::string state = sql->sqlstate();
    return state.rfind("53", 0) == 0 || state == "42501" || state == "25006";
  }
  std::string describe(const std::exception& error) const override {
    if (m_lock_waits > k_lock_retries) {
      return fmt::format("database is locked (another session held a lock for over {} s: {})",
                         k_lock_retries * k_lock_timeout_s, first_line(error.what()));
    }
    return first_line(error.what());
  }

  void exec(const std::string& sql, const SqlParams& params) override {
    m_changed = run(sql, params).affected_rows();
  }
  void query(const std::string& sql, const SqlParams& params,
             const std::function<void(const SqlRow&)>& row) override {
    for (const auto& r : run(sql, params)) {
      row(PostgresRow(r));
    }
  }
  int64_t insert(const std::string& sql, const SqlParams& params, const char* id_column) override {
    return run(sql + " RETURNING " + id_column, params).at(0).at(0).as<int64_t>();
  }
  int64_t changed_rows() override { return m_changed; }

  void lock(int64_t key) override {
    if (key < 0) {
      m_tx->exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_schema_lock) + ")");
    } else {
      m_tx->exec_params("SELECT pg_advisory_xact_lock($1, $2)", k_study_lock_class,
                        static_cast<int>(key));
      // Optuna 3.1 numbers trials under this row lock (StudyModel.find_or_raise_by_id(...,
      // for_update=True)): taken too, so an Optuna process on the same study never gets a
      // number hpt gave (the advisory lock alone did not exclude it).
      m_tx->exec_params("SELECT 1 FROM studies WHERE study_id = $1 FOR UPDATE", key);
    }
  }
  std::string utc_now_sql() const override { return "clock_timestamp() AT TIME ZONE 'UTC'"; }
  std::string seconds_since_sql(const std::string& column) const override {
    return "EXTRACT(EPOCH FROM (clock_timestamp() AT TIME ZONE 'UTC') - " + column + ")";
  }
  std::optional<int64_t> data_version() override { return std::nullopt; }

  std::vector<std::string> table_names() override {
    std::vector<std::string> names;
    query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        {}, [&](const SqlRow& r) { names.push_back(r.text(0)); });
    return names;
  }
  const std::vector<std::string>& schema_ddl() const override {
    static const auto k_ddl = optuna_schema_ddl(
        {{"CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE')",
          "CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING')",
          "CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG')",
          "CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN')"},
         "SERIAL",
         "key",
         "studydirection",
         "trialstate",
         "trialvaluetype",
         "trialintermediatevaluetype",
         "TIMESTAMP WITHOUT TIME ZONE"});
    return k_ddl;
  }
  void disconnect() override {
    m_tx.reset();
    m_conn.reset();
  }

 private:
  void connect() {
    m_conn.reset();
    auto conn = std::make_unique<pqxx::connection>(with_defaults(m_url));
    // ISO datetimes ("2024-01-02 03:04:05.678901"), as parse_datetime reads them.
    pqxx::nontransaction tx(*conn);
    tx.exec("SET DateStyle = 'ISO, YMD'");
    // Whatever the role's or database's defaults: a transaction sees what was committed before
    // each statement, so the one that waited for the study's advisory lock reads its previous
    // holder's trials (REPEATABLE READ took the snapshot before the lock was granted, and two
    // processes gave out the same trial numbers); lock_timeout alone bounds each wait (a
    // statement_timeout of 100 ms cut them short).
    tx.exec("SET default_transaction_isolation = 'read committed'");
    tx.exec("SET statement_timeout = 0");
    tx.exec(fmt::format("SET lock_timeout = '{}s'", k_lock_timeout_s));
    if (m_read_only) {
      tx.exec("SET default_transaction_read_only = on");
    }
    tx.commit();
    m_conn = std::move(conn);
  }

  pqxx::result run(const std::string& sql, const SqlParams& params) {
    std::vector<std::optional<std::string>> texts;
    texts.reserve(params.size());
    for (const auto& p : params) {
      texts.push_back(std::visit(
          [](const auto& v) -> std::optional<std::string> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return std::nullopt;
            } else if constexpr (std::is_same_v<T, std::string>) {
              return v;
            } else {
              return fmt::format("{}", v);  // Shortest text that reads back as v.
            }
          },
          p));
    }
    std::vector<const char*> values;  // libpqxx sends a null const char* as NULL.
    for (const auto& t : texts) {
      values.push_back(t ? t->c_str() : nullptr);
    }
    return m_tx->exec_params(numbered(sql), pqxx::prepare::make_dynamic_params(values));
  }

  std::string m_url;
  bool m_read_only;
  std::unique_ptr<pqxx::connection> m_conn;
  std::unique_ptr<pqxx::transaction_base> m_tx;
  int64_t m_changed = 0;
  // In this transaction's attempts: lost connections, server rollbacks, lock waits timed out.
  int m_lost = 0;
  int m_rolled_back = 0;
  int m_lock_waits = 0;
};

}  // namespace

bool postgres_supported() { return true; }

std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool read_only) {
  std::unique_ptr<PostgresDialect> dialect;
  try {
    dialect = std::make_unique<PostgresDialect>(url, read_only);  // A wrong URL fails now.
  } catch (const pqxx::failure& e) {
    throw StorageError(redact_credentials(url + ": cannot connect: " + first_line(e.what()), url));
  }
  return std::make_unique<SqlStorage>(std::move(dialect), url, url, read_only);
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

}  // namespace hpt
