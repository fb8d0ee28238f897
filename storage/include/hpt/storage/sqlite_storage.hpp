#pragma once
// The SQLite backend of Storage: Optuna 3.1's RDB schema and value encodings, WAL mode,
// IMMEDIATE write transactions, and an in-process cache of finished trials (which are
// immutable) so that get_all_trials reads only unfinished and new trials.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hpt/storage/storage.hpp"

namespace hpt {

class SqliteStorage : public Storage {
 public:
  // Takes a connection opened and validated by open_storage; path is for messages.
  SqliteStorage(SQLite::Database db, std::string path, bool read_only);
  ~SqliteStorage() override;

  using Storage::create_study;
  int64_t create_study(const std::string& name, const std::vector<Direction>& directions) override;
  std::optional<StudyInfo> find_study(const std::string& name) override;
  std::vector<StudyInfo> list_studies() override;
  void set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) override;
  void set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) override;
  std::map<std::string, Json> study_user_attrs(int64_t study_id) override;
  std::map<std::string, Json> study_system_attrs(int64_t study_id) override;

  std::optional<TrialClaim> claim_trial(
      int64_t study_id, int limit, const Json& owner,
      const std::function<bool(const FrozenTrial&)>& is_orphan) override;
  int64_t create_trial(int64_t study_id, const FrozenTrial& templ) override;

  // The trial setters throw StorageError if the trial is finished (as Optuna does).
  void set_trial_param(int64_t trial_id, const std::string& name, double internal,
                       const Distribution& d) override;
  void set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) override;
  void set_trial_intermediate_values(int64_t trial_id,
                                     const std::vector<std::pair<int64_t, double>>& steps) override;
  void set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  void set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  // Throws StorageError for a NaN value or COMPLETE without a value.
  bool set_trial_state_values(int64_t trial_id, TrialState state,
                              std::optional<double> value) override;
  void record_heartbeat(int64_t trial_id) override;
  std::optional<double> heartbeat_age(int64_t trial_id) override;

  FrozenTrial get_trial(int64_t trial_id) override;
  std::vector<FrozenTrial> get_all_trials(int64_t study_id,
                                          const std::vector<TrialState>& states = {}) override;
  // Copy-on-write: the snapshot is updated in place only when the caller dropped it.
  std::shared_ptr<const std::vector<FrozenTrial>> trials_snapshot(int64_t study_id) override;
  int count_trials(int64_t study_id, const std::vector<TrialState>& states = {}) override;

  // The underlying connection, for tests and tools (e.g. PRAGMA max_page_count).
  SQLite::Database& database() { return m_db; }

 private:
  struct Caches;  // The trials of each study as last read, and parsed distributions.

  // Runs body in one transaction (IMMEDIATE for writes, else a read snapshot), or inside
  // the one in progress; retries when busy. Throws StorageError naming what.
  template <class F>
  auto transact(const char* what, bool write, F&& body);
  template <class F>
  auto write(const char* what, F&& body);
  template <class F>
  auto read(const char* what, F&& body);
  [[noreturn]] void fail(const std::string& problem) const;
  void require_study(int64_t study_id);
  TrialState require_updatable_trial(int64_t trial_id);
  void upsert_attr(const char* table, const char* owner_column, int64_t owner_id,
                   const std::string& key, const Json& v);
  std::map<std::string, Json> load_attrs(const char* table, const char* owner_column,
                                         int64_t owner_id);
  void upsert_value(int64_t trial_id, int64_t objective, double value);
  void upsert_intermediate(int64_t trial_id, int64_t step, double value);
  void upsert_intermediates(int64_t trial_id,
                            const std::vector<std::pair<int64_t, double>>& steps);
  void upsert_param(int64_t trial_id, const std::string& name, double internal,
                    const std::string& distribution_json);
  void upsert_heartbeat(int64_t trial_id);
  void mark_running(int64_t trial_id, const Json& owner);
  FrozenTrial load_trial(int64_t trial_id);
  std::shared_ptr<std::vector<FrozenTrial>> refresh(int64_t study_id);

  SQLite::Database m_db;
  std::string m_path;
  bool m_read_only;
  std::recursive_mutex m_mutex;
  int m_txn_depth = 0;    // Nesting of write()/read() (claim_trial callbacks).
  uint64_t m_writes = 0;  // Write transactions of this connection.
  std::unique_ptr<Caches> m_caches;
};

}  // namespace hpt
