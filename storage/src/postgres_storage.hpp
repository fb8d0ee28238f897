#pragma once
// The PostgreSQL backend of Storage (libpqxx): Optuna 3.1's RDB schema, READ COMMITTED
// writes, claims serialized per study by a transaction-level advisory lock, reconnects
// with backoff, and the shared cache of finished trials (TrialCache).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "hpt/storage/storage.hpp"
#include "trial_assembler.hpp"
#include "trial_cache.hpp"

namespace hpt {

class PostgresStorage : public Storage {
 public:
  // Connects to url, creates the schema in an empty database (unless read_only) and
  // validates it. Throws StorageError.
  PostgresStorage(std::string url, bool read_only);
  ~PostgresStorage() override;

  using Storage::create_study;
  int64_t create_study(const std::string& name, const std::vector<Direction>& directions) override;
  std::optional<StudyInfo> find_study(const std::string& name) override;
  std::vector<StudyInfo> list_studies() override;
  void set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) override;
  void set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) override;
  std::map<std::string, Json> study_user_attrs(int64_t study_id) override;
  std::map<std::string, Json> study_system_attrs(int64_t study_id) override;

  // Serialized per study by pg_advisory_xact_lock; after a lost connection, returns the
  // trial an earlier attempt claimed if that attempt committed.
  std::optional<TrialClaim> claim_trial(
      int64_t study_id, int limit, const Json& owner,
      const std::function<bool(const FrozenTrial&)>& is_orphan) override;
  int64_t create_trial(int64_t study_id, const FrozenTrial& templ) override;

  void set_trial_param(int64_t trial_id, const std::string& name, double internal,
                       const Distribution& d) override;
  void set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) override;
  void set_trial_intermediate_values(int64_t trial_id,
                                     const std::vector<std::pair<int64_t, double>>& steps) override;
  void set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  void set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) override;
  // After a lost connection, a retry that finds the trial already in state with value
  // (the first attempt committed) returns true.
  bool set_trial_state_values(int64_t trial_id, TrialState state,
                              std::optional<double> value) override;
  // Heartbeats use the server's clock (UTC), so hosts' clock skew does not matter.
  void record_heartbeat(int64_t trial_id) override;
  std::optional<double> heartbeat_age(int64_t trial_id) override;

  FrozenTrial get_trial(int64_t trial_id) override;
  std::vector<FrozenTrial> get_all_trials(int64_t study_id,
                                          const std::vector<TrialState>& states = {}) override;
  std::shared_ptr<const std::vector<FrozenTrial>> trials_snapshot(int64_t study_id) override;
  int count_trials(int64_t study_id, const std::vector<TrialState>& states = {}) override;

 private:
  using Tx = pqxx::transaction_base;

  template <class F>
  auto run(const char* what, bool write, F&& body);
  void connect();
  [[noreturn]] void fail(const std::string& problem) const;
  void prepare_schema(Tx& tx);
  void lock_study(Tx& tx, int64_t study_id);
  void require_study(Tx& tx, int64_t study_id);
  void require_updatable_trial(Tx& tx, int64_t trial_id);
  void upsert_attr(Tx& tx, const char* table, const char* owner_column, int64_t owner_id,
                   const std::string& key, const Json& v);
  std::map<std::string, Json> load_attrs(Tx& tx, const char* table, const char* owner_column,
                                         int64_t owner_id);
  void upsert_value(Tx& tx, int64_t trial_id, int64_t objective, double value);
  void upsert_intermediate(Tx& tx, int64_t trial_id, int64_t step, double value);
  void upsert_param(Tx& tx, int64_t trial_id, const std::string& name, double internal,
                    const std::string& distribution_json);
  void upsert_heartbeat(Tx& tx, int64_t trial_id);
  void mark_running(Tx& tx, int64_t trial_id, const Json& owner);
  std::vector<TrialRow> select_trial_rows(Tx& tx, const std::string& where, int64_t key,
                                          const std::string& extra = "");
  std::vector<FrozenTrial> load_trials(Tx& tx, const std::vector<TrialRow>& rows);
  FrozenTrial load_trial(Tx& tx, int64_t trial_id);
  std::optional<TrialClaim> recover_lost_claim(Tx& tx, int64_t study_id, const Json& owner);
  std::shared_ptr<std::vector<FrozenTrial>> refresh(Tx& tx, int64_t study_id);

  std::string m_url;  // As given (with the password): messages go through redact_credentials.
  bool m_read_only;
  std::unique_ptr<pqxx::connection> m_conn;
  std::recursive_mutex m_mutex;
  Tx* m_tx = nullptr;           // The transaction of the run() in progress (nested calls).
  bool m_reconnected = false;   // This run() is retrying after a lost connection.
  std::set<int64_t> m_claimed;  // Trials claim_trial returned (to spot a lost claim).
  std::map<int64_t, TrialCache> m_cache;
  DistributionCache m_distributions;
};

}  // namespace hpt
