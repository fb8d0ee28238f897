// The SQLite dialect of SqlStorage: IMMEDIATE write transactions, busy retries, WAL, and
// cached prepared statements.

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "hpt/storage/sql_storage.hpp"
#include "optuna_schema_check.hpp"
#include "sqlite_schema.hpp"

namespace hpt {

namespace {

constexpr int k_busy_retries = 3;
constexpr size_t k_cached_statements = 64;

class SqliteRow final : public SqlRow {
 public:
  explicit SqliteRow(SQLite::Statement& q) : m_q(q) {}
  bool is_null(int c) const override { return m_q.isColumnNull(c); }
  int64_t integer(int c) const override { return m_q.getColumn(c).getInt64(); }
  // Text or a blob in a FLOAT column (SQLite keeps what a writer stored) is no number: NaN,
  // not SQLite's 0, which could pass for a real value (a best trial).
  double real(int c) const override {
    const auto column = m_q.getColumn(c);
    return column.isInteger() || column.isFloat() ? column.getDouble() : std::nan("");
  }
  std::string text(int c) const override { return m_q.getColumn(c).getString(); }

 private:
  SQLite::Statement& m_q;
};

class SqliteDialect final : public SqlDialect {
 public:
  explicit SqliteDialect(SQLite::Database db) : m_db(std::move(db)) {}
  // A writer folds its write-ahead log into the database file as it closes (as far as open
  // readers allow, without waiting for them): SQLite does so only when the last connection
  // closes, so a run that ended under an open dashboard left its last commits in -wal alone,
  // unseen by a copy of the .db file.
  ~SqliteDialect() override {
    if (sqlite3_db_readonly(m_db.getHandle(), "main") == 0) {
      sqlite3_wal_checkpoint_v2(m_db.getHandle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
  }

  void begin(bool write) override { m_db.exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  void commit() override { m_db.exec("COMMIT"); }
  void rollback() noexcept override {
    if (sqlite3_get_autocommit(m_db.getHandle()) == 0) {
      sqlite3_exec(m_db.getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  std::optional<Retry> retry(const std::exception& error, int attempt) override {
    const auto* e = dynamic_cast<const SQLite::Exception*>(&error);
    int code = e != nullptr ? e->getErrorCode() & 0xff : 0;
    if ((code == SQLITE_BUSY || code == SQLITE_LOCKED) && attempt < k_busy_retries) {
      return Retry{std::chrono::milliseconds(50 << attempt), false};
    }
    return std::nullopt;
  }
  std::string describe(const std::exception& error) const override {
    const auto* e = dynamic_cast<const SQLite::Exception*>(&error);
    return e != nullptr ? describe_sqlite_error(*e, m_db) : error.what();
  }
  bool refuses_all_writes(const std::exception& error) const override {
    const auto* e = dynamic_cast<const SQLite::Exception*>(&error);
    const int code = e != nullptr ? e->getErrorCode() & 0xff : 0;
    return code == SQLITE_FULL || code == SQLITE_READONLY || code == SQLITE_PERM ||
           code == SQLITE_AUTH ||
           (code == SQLITE_IOERR && (sqlite3_system_errno(m_db.getHandle()) == ENOSPC ||
                                     sqlite3_system_errno(m_db.getHandle()) == EFBIG));
  }

  void exec(const std::string& sql, const SqlParams& params) override {
    run(sql, params, [](SQLite::Statement& q) { q.exec(); });
  }
  void query(const std::string& sql, const SqlParams& params,
             const std::function<void(const SqlRow&)>& row) override {
    run(sql, params, [&](SQLite::Statement& q) {
      SqliteRow r(q);
      while (q.executeStep()) {
        row(r);
      }
    });
  }
  int64_t insert(const std::string& sql, const SqlParams& params, const char*) override {
    exec(sql, params);
    return m_db.getLastInsertRowid();
  }
  int64_t changed_rows() override { return m_db.getChanges(); }

  void lock(int64_t) override {}  // BEGIN IMMEDIATE holds the only write lock.
  std::string utc_now_sql() const override {
    return "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'";
  }
  std::string seconds_since_sql(const std::string& column) const override {
    return "(julianday('now') - julianday(" + column + ")) * 86400.0";
  }
  std::optional<int64_t> data_version() override {
    return m_db.execAndGet("PRAGMA data_version").getInt64();
  }

  std::vector<std::string> table_names() override { return sqlite_table_names(m_db); }
  const std::vector<std::string>& schema_ddl() const override {
    static const auto k_ddl = optuna_schema_ddl({{},
                                                 "INTEGER",
                                                 "\"key\"",
                                                 "VARCHAR(8)",
                                                 "VARCHAR(8)",
                                                 "VARCHAR(7)",
                                                 "VARCHAR(7)",
                                                 "DATETIME"});
    return k_ddl;
  }
  void schema_ready() override {
    enable_wal(m_db);
    // WAL + NORMAL: commits skip the fsync (checkpoints keep it). A power cut may roll back
    // the last commits but never corrupts the file; a resume re-runs what was lost.
    m_db.exec("PRAGMA synchronous=NORMAL");
  }
  void disconnect() override {}  // A local connection never loses a commit's acknowledgement.
  bool file_moved() override {
    int moved = 0;
    sqlite3_file_control(m_db.getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
    return moved != 0 || shm_replaced();
  }
  // The write-ahead log is emptied first: a copy made at the old file's path must not find
  // the old file's log frames (its -wal keeps that name) when it is opened.
  void save_copy(const std::string& path) override {
    m_db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    exec("VACUUM INTO ?", {path});
  }

 private:
  // Whether the -shm file (WAL mode's shared index, which this connection maps) was deleted or
  // replaced since the first call that found it ("rm study.db-shm", a folk fix for "database is
  // locked"): another process would make a fresh one, blind to this one's writes, and corrupt
  // the database. No -shm yet (another journal mode): false.
  bool shm_replaced() {
    const char* db_file = sqlite3_db_filename(m_db.getHandle(), "main");
    struct stat st {};
    const bool there = db_file != nullptr && *db_file != '\0' &&
                       ::stat((std::string(db_file) + "-shm").c_str(), &st) == 0;
    if (!m_shm) {
      if (there) {
        m_shm.emplace(st.st_dev, st.st_ino);
      }
      return false;
    }
    return !there || st.st_dev != m_shm->first || st.st_ino != m_shm->second;
  }

  std::optional<std::pair<dev_t, ino_t>> m_shm;  // The -shm file found first.
  // Runs use on sql's prepared statement (cached; a fresh one while the cached one is busy).
  template <class Use>
  void run(const std::string& sql, const SqlParams& params, Use&& use) {
    std::unique_ptr<SQLite::Statement> q;
    if (auto it = m_statements.find(sql); it != m_statements.end() && it->second) {
      q = std::move(it->second);
    } else {
      q = std::make_unique<SQLite::Statement>(m_db, sql);
    }
    struct Return {
      SqliteDialect& d;
      const std::string& sql;
      std::unique_ptr<SQLite::Statement>& q;
      ~Return() {
        q->tryReset();  // Every parameter is bound again on the next use.
        if (d.m_statements.size() >= k_cached_statements) {
          d.m_statements.clear();
        }
        d.m_statements[sql] = std::move(q);
      }
    } give_back{*this, sql, q};
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
              q->bind(index);
            } else {
              q->bind(index, v);
            }
          },
          params[i]);
    }
    use(*q);
  }

  SQLite::Database m_db;
  std::map<std::string, std::unique_ptr<SQLite::Statement>> m_statements;
};

}  // namespace

std::unique_ptr<Storage> open_sqlite_storage(const std::string& path, bool read_only) {
  return std::make_unique<SqlStorage>(
      std::make_unique<SqliteDialect>(open_sqlite_database(path, read_only)), path,
      "sqlite:///" + path, read_only);
}

}  // namespace hpt
