#pragma once
// Storage on Optuna 3.1's RDB schema, written once for every SQL engine (as Optuna's
// RDBStorage): the claim contract, create/finish, attributes, the cache of finished trials,
// and the schema checks. A SqlDialect supplies the engine (SQLite, PostgreSQL).
//
// Retries are safe by construction: claim_trial, create_trial and set_trial_state_values
// stamp the trial they write (import_study the study) with a request id (system attr
// k_request_attr) in the same transaction, so a retry after a lost connection finds its committed
// first attempt and returns that result instead of applying the write again. Every other write is
// an upsert.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/sql_dialect.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt {

class SqlStorage : public Storage {
 public:
  // Takes a connected dialect; creates Optuna's schema in an empty database (unless
  // read_only) and validates it. name starts messages (a path, or the URL); url is the
  // storage URL (its credentials are redacted from every message).
  SqlStorage(std::unique_ptr<SqlDialect> dialect, std::string name, std::string url,
             bool read_only);
  ~SqlStorage() override;

  using Storage::create_study;
  // Refuses Direction::NotSet (it only ever comes from a database).
  int64_t create_study(const std::string& name, const std::vector<Direction>& directions) override;
  std::optional<StudyInfo> find_study(const std::string& name) override;
  void delete_study(int64_t study_id) override;
  std::vector<StudyInfo> list_studies() override;
  void set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) override;
  void set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) override;
  std::map<std::string, Json> study_user_attrs(int64_t study_id) override;
  std::map<std::string, Json> study_system_attrs(int64_t study_id) override;
  Json study_system_attr_once(int64_t study_id, const std::string& key, const Json& v) override;

  std::optional<TrialClaim> claim_trial(
      int64_t study_id, int limit, const Json& owner,
      const std::function<bool(const FrozenTrial&)>& is_orphan) override;
  int64_t create_trial(int64_t study_id, const FrozenTrial& templ) override;
  int64_t import_study(const StudyImport& study) override;

  // The trial setters throw StorageError if the trial is finished (as Optuna does).
  using Storage::set_trial_intermediate_value;
  using Storage::set_trial_state_values;
  void set_trial_param(int64_t trial_id, const std::string& name, double internal,
                       const Distribution& d) override;
  void set_trial_intermediate_values(int64_t trial_id,
                                     const std::vector<std::pair<int64_t, double>>& steps) override;
  void set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  void set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  // Throws StorageError for a NaN value or COMPLETE without a value.
  bool set_trial_state_values(int64_t trial_id, TrialState state, const std::vector<double>& values,
                              const Json* owner = nullptr,
                              const Json* system_attrs = nullptr) override;
  // Heartbeats use the database's clock (UTC).
  void record_heartbeat(int64_t trial_id) override;
  void disown_trial(int64_t trial_id) override;
  std::optional<double> heartbeat_age(int64_t trial_id) override;

  FrozenTrial get_trial(int64_t trial_id) override;
  std::optional<FrozenTrial> find_trial(int64_t study_id, int number) override;
  std::vector<FrozenTrial> get_all_trials(int64_t study_id,
                                          const std::vector<TrialState>& states = {}) override;
  // Copy-on-write: the snapshot is updated in place only when the caller dropped it.
  std::shared_ptr<const std::vector<FrozenTrial>> trials_snapshot(int64_t study_id) override;
  int count_trials(int64_t study_id, const std::vector<TrialState>& states = {}) override;
  // Two queries over the whole database, trials and their values; kept while the database is
  // unchanged (its data_version), as the trials' cache is.
  std::shared_ptr<const TrialOutlines> trial_outlines() override;
  bool file_moved() override;
  void save_copy(const std::string& path) override;
  void set_outage_wait(std::chrono::seconds wait, OutageNote note) override {
    m_outage_wait = wait;
    m_outage_note = std::move(note);
  }
  std::optional<std::chrono::steady_clock::time_point> reconnected_at() const override {
    return m_reconnected_at;
  }

  // The engine, for tests and tools (e.g. SQLite's PRAGMA max_page_count).
  SqlDialect& dialect() { return *m_db; }
  // Replaces the dialect by wrap(the dialect), e.g. a test's fault injector.
  void wrap_dialect(
      const std::function<std::unique_ptr<SqlDialect>(std::unique_ptr<SqlDialect>)>& wrap);

 private:
  struct Caches;  // The trials of each study as last read, and parsed distributions.
  using Body = std::function<void(bool after_lost_connection)>;

  // Runs body in one transaction (or inside the one in progress), retrying as the dialect
  // says. Throws StorageError "<name>: cannot <what>: <reason>".
  void transact(const char* what, bool write, const Body& body);
  // transact returning f(after_lost_connection)'s result.
  template <class F>
  auto run(const char* what, bool write, F&& f);
  [[noreturn]] void fail(const std::string& problem, bool database_wide = false) const;
  // fail(*problem) if there is one.
  void fail_if(const std::optional<std::string>& problem) const;
  void prepare_schema();
  // Within a transaction: fails for a database whose tables or versions hpt cannot use;
  // returns why an Optuna schema is incomplete (maybe still being created), else nullopt.
  std::optional<std::string> schema_problem(const std::vector<std::string>& tables);
  void require_study(int64_t study_id);
  // Fails for an unknown trial or, when updatable, a finished one.
  void require_trial(int64_t trial_id, bool updatable);
  void set_attr(const char* table, int64_t owner_id, const std::string& key, const Json& v);
  std::map<std::string, Json> study_attrs(const char* table, int64_t study_id);
  std::vector<FrozenTrial> load_trials(const std::string& where, const SqlParams& params,
                                       int64_t study_id);
  FrozenTrial load_trial(int64_t trial_id);
  // Inserts templ as trial number (null: none) of study_id with its rows; returns its id.
  // fill_times: a missing start (unless WAITING) or completion (if finished) is now.
  int64_t insert_trial(int64_t study_id, const SqlParam& number, const FrozenTrial& templ,
                       bool fill_times = true);
  std::shared_ptr<std::vector<FrozenTrial>> refresh(int64_t study_id);

  std::unique_ptr<SqlDialect> m_db;
  std::string m_name;
  std::string m_url;
  bool m_read_only;
  std::recursive_mutex m_mutex;
  int m_txn_depth = 0;    // Nesting of transact() (claim_trial's is_orphan callback).
  uint64_t m_writes = 0;  // Write transactions of this connection.
  std::optional<std::chrono::steady_clock::time_point> m_reconnected_at;
  std::chrono::seconds m_outage_wait = k_default_outage_wait;
  OutageNote m_outage_note;
  std::unique_ptr<Caches> m_caches;
};

}  // namespace hpt
