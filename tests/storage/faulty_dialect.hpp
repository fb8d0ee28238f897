#pragma once
// A SqlDialect that forwards to a real one and, when armed, loses the acknowledgement of a
// write transaction's commit: the commit happens, then the connection drops and the caller
// sees SqlConnectionLost, as when a server's reply to COMMIT never arrives. It can also play
// a server that is down for a while: every transaction fails to start until then; and a
// database that refuses writes to a table (a full disk), an error that no retry mends.

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "hpt/storage/sql_storage.hpp"

namespace hpt::test {

// What a refused write throws (FaultyDialect::refuse_writes_to): the database refuses every
// write, as a full disk does.
struct InjectedRefusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class FaultyDialect final : public SqlDialect {
 public:
  explicit FaultyDialect(std::unique_ptr<SqlDialect> inner) : m_inner(std::move(inner)) {}

  // The next n write commits each lose their acknowledgement.
  void lose_acks(int n) { m_armed = n; }
  int lost() const { return m_lost; }
  // For the next `down` every begin() throws SqlConnectionLost, as a stopped server does.
  void go_down(std::chrono::milliseconds down) {
    m_down_until = std::chrono::steady_clock::now() + down;
  }

  // Every later statement that writes table (its name in an INSERT, UPDATE or DELETE) throws
  // InjectedRefusal, which refuses_all_writes reports as database-wide.
  void refuse_writes_to(std::string table) { m_refused_table = std::move(table); }

  void begin(bool write) override {
    m_write = write;
    if (std::chrono::steady_clock::now() < m_down_until) {
      throw SqlConnectionLost("server down (injected)");
    }
    m_inner->begin(write);
  }
  void commit() override {
    m_inner->commit();
    if (m_write && m_armed > 0) {
      --m_armed;
      ++m_lost;
      m_inner->disconnect();
      throw SqlConnectionLost("connection lost after COMMIT (injected)");
    }
  }
  void rollback() noexcept override { m_inner->rollback(); }
  std::optional<Retry> retry(const std::exception& error, int attempt) override {
    if (dynamic_cast<const InjectedRefusal*>(&error) != nullptr) {
      return std::nullopt;
    }
    if (dynamic_cast<const SqlConnectionLost*>(&error) != nullptr) {
      const bool down = std::chrono::steady_clock::now() < m_down_until;
      return Retry{std::chrono::milliseconds(down ? 20 : 0), true};
    }
    return m_inner->retry(error, attempt);
  }
  std::string describe(const std::exception& error) const override {
    return dynamic_cast<const InjectedRefusal*>(&error) != nullptr ? error.what()
                                                                   : m_inner->describe(error);
  }
  bool refuses_all_writes(const std::exception& error) const override {
    return dynamic_cast<const InjectedRefusal*>(&error) != nullptr ||
           m_inner->refuses_all_writes(error);
  }
  void exec(const std::string& sql, const SqlParams& params) override {
    refuse_if_refused(sql);
    m_inner->exec(sql, params);
  }
  void query(const std::string& sql, const SqlParams& params,
             const std::function<void(const SqlRow&)>& row) override {
    m_inner->query(sql, params, row);
  }
  int64_t insert(const std::string& sql, const SqlParams& params, const char* id) override {
    refuse_if_refused(sql);
    return m_inner->insert(sql, params, id);
  }
  int64_t changed_rows() override { return m_inner->changed_rows(); }
  void lock(int64_t key) override { m_inner->lock(key); }
  std::string utc_now_sql() const override { return m_inner->utc_now_sql(); }
  std::string seconds_since_sql(const std::string& c) const override {
    return m_inner->seconds_since_sql(c);
  }
  std::optional<int64_t> data_version() override { return m_inner->data_version(); }
  std::vector<std::string> table_names() override { return m_inner->table_names(); }
  const std::vector<std::string>& schema_ddl() const override { return m_inner->schema_ddl(); }
  void schema_ready() override { m_inner->schema_ready(); }
  void disconnect() override { m_inner->disconnect(); }
  bool file_moved() override { return m_inner->file_moved(); }
  void save_copy(const std::string& path) override { m_inner->save_copy(path); }

 private:
  void refuse_if_refused(const std::string& sql) const {
    if (!m_refused_table.empty() && sql.find(m_refused_table) != std::string::npos &&
        sql.rfind("SELECT", 0) != 0) {
      throw InjectedRefusal("disk is full (injected)");
    }
  }

  std::unique_ptr<SqlDialect> m_inner;
  std::string m_refused_table;
  bool m_write = false;
  int m_armed = 0;
  int m_lost = 0;
  std::chrono::steady_clock::time_point m_down_until{};
};

// s (a SqlStorage) with its dialect wrapped in a FaultyDialect; returns the wrapper.
inline FaultyDialect& inject_faults(Storage& s) {
  FaultyDialect* faulty = nullptr;
  dynamic_cast<SqlStorage&>(s).wrap_dialect([&](std::unique_ptr<SqlDialect> inner) {
    auto wrapped = std::make_unique<FaultyDialect>(std::move(inner));
    faulty = wrapped.get();
    return wrapped;
  });
  return *faulty;
}

}  // namespace hpt::test
