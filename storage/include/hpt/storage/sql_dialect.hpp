#pragma once
// What SqlStorage needs of one SQL engine, and nothing more: a connection, transactions with
// the engine's retry policy, statements with '?' placeholders, the id of an inserted row,
// locks, and the time of day. All storage logic lives in SqlStorage, written once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace hpt {

// A statement parameter: NULL, an integer, a double or text.
using SqlParam = std::variant<std::monostate, int64_t, double, std::string>;
using SqlParams = std::vector<SqlParam>;

// The text of an optional value as a parameter (NULL for std::nullopt).
template <class T>
SqlParam sql_param(const std::optional<T>& v) {
  return v ? SqlParam(*v) : SqlParam();
}

// One result row; columns by position. text() of NULL is "".
class SqlRow {
 public:
  virtual bool is_null(int column) const = 0;
  virtual int64_t integer(int column) const = 0;
  virtual double real(int column) const = 0;
  virtual std::string text(int column) const = 0;

  std::optional<double> optional_real(int column) const {
    return is_null(column) ? std::nullopt : std::optional<double>(real(column));
  }
  std::optional<std::string> optional_text(int column) const {
    return is_null(column) ? std::nullopt : std::optional<std::string>(text(column));
  }

 protected:
  ~SqlRow() = default;
};

// Thrown where a connection broke and a commit may or may not have happened (PostgreSQL's
// lost acknowledgement; a test's fault injection). A retry must not apply a write twice.
class SqlConnectionLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SqlDialect {
 public:
  // How to run a failed transaction again: after delay; connection_lost when an earlier
  // attempt may have committed (SqlStorage then looks for its request stamp first).
  struct Retry {
    std::chrono::milliseconds delay{0};
    bool connection_lost = false;
  };

  virtual ~SqlDialect() = default;

  // Starts a transaction (connecting first if need be): a write transaction that holds
  // what claims need (SQLite: IMMEDIATE), or a read snapshot.
  virtual void begin(bool write) = 0;
  virtual void commit() = 0;
  // Ends the transaction in progress, if any, without committing; never throws.
  virtual void rollback() noexcept = 0;
  // Whether attempt (0 for the first) that failed with error may run again; std::nullopt
  // to give up. A lost connection is dropped here, to be reopened by the next begin().
  virtual std::optional<Retry> retry(const std::exception& error, int attempt) = 0;
  // A one-line reason for error ("disk is full", the server's first message line, ...).
  virtual std::string describe(const std::exception& error) const = 0;
  // Whether error says the database refuses every write now (a full disk, a read-only
  // database, no permission), not only this statement's data.
  virtual bool refuses_all_writes(const std::exception& /*error*/) const { return false; }

  virtual void exec(const std::string& sql, const SqlParams& params = {}) = 0;
  // Calls row for each result row, in order.
  virtual void query(const std::string& sql, const SqlParams& params,
                     const std::function<void(const SqlRow&)>& row) = 0;
  // Runs an INSERT and returns the new row's id_column.
  virtual int64_t insert(const std::string& sql, const SqlParams& params,
                         const char* id_column) = 0;
  // Rows an UPDATE just changed.
  virtual int64_t changed_rows() = 0;

  // Serializes, to the end of the write transaction, claims, numbering and first-set
  // attributes in one study (key) or schema creation (key -1) across processes. SQLite's
  // IMMEDIATE does it already.
  virtual void lock(int64_t key) = 0;
  // SQL expressions: the UTC time of day as Optuna stores heartbeats (the database's
  // clock, so that hosts' clock skew does not matter), and seconds since such a column.
  virtual std::string utc_now_sql() const = 0;
  virtual std::string seconds_since_sql(const std::string& column) const = 0;
  // A number that changes whenever another connection commits, or std::nullopt when the
  // engine has none (then every read refreshes).
  virtual std::optional<int64_t> data_version() = 0;

  // The names of the tables in the database, and the DDL of Optuna's schema.
  virtual std::vector<std::string> table_names() = 0;
  virtual const std::vector<std::string>& schema_ddl() const = 0;
  // Called once the schema is validated, outside a transaction, by a writer (SQLite: WAL).
  virtual void schema_ready() {}
  // Closes the connection (a test's dropped connection); the next begin() reopens it.
  virtual void disconnect() = 0;
  // Storage::file_moved and save_copy, outside a transaction (a server has no file).
  virtual bool file_moved() { return false; }
  virtual void save_copy(const std::string& path);
};

}  // namespace hpt
