#pragma once
// The study storage interface, keyed by integer ids (Optuna's BaseStorage).
// Every method is one short transaction; implementations are safe to use from
// several processes at once on one database. Errors throw hpt::StorageError.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hpt/io/atomic_file.hpp"  // k_sqlite_side_suffixes.
#include "hpt/tuner/trial.hpp"

namespace hpt {

class StorageError : public std::runtime_error {
 public:
  // database_wide: the database refuses every write now (a full disk, read-only, no
  // permission), not only this call's data: a caller stops rather than blame what it wrote.
  explicit StorageError(const std::string& what, bool database_wide = false)
      : std::runtime_error(what), m_database_wide(database_wide) {}
  bool database_wide() const { return m_database_wide; }

 private:
  bool m_database_wide = false;
};

struct StudyInfo {
  int64_t id = -1;
  std::string name;
  // One per objective (Optuna's study_directions rows, by objective); NotSet where the
  // database holds NOT_SET, no row, or text hpt cannot read.
  std::vector<Direction> directions{Direction::Minimize};

  // directions[0] (NotSet if empty): the direction of a single-objective study. Code that can
  // meet a multi-objective study must look at directions (see is_multi_objective).
  Direction direction() const { return directions.empty() ? Direction::NotSet : directions[0]; }
  bool is_multi_objective() const { return directions.size() > 1; }
};

// The longest study name, attribute key or parameter name Optuna's schema holds
// (VARCHAR(512), counted in characters); longer ones are refused by both backends.
constexpr size_t k_max_name_chars = 512;

// The result of claim_trial.
struct TrialClaim {
  enum class Kind { New, Waiting, Orphan };
  Kind kind = Kind::New;
  FrozenTrial trial;  // Now RUNNING; for Waiting/Orphan it keeps its params.
};

// A whole study, as Storage::import_study writes it (Optuna's copy_study into a storage).
struct StudyImport {
  std::string name;
  std::vector<Direction> directions;
  std::map<std::string, Json> user_attrs, system_attrs;
  std::vector<FrozenTrial> trials;  // As create_trial takes them; each keeps its number.
};

// How long a call waits for a lost database server by default (set_outage_wait).
inline constexpr std::chrono::seconds k_default_outage_wait{30};

class Storage {
 public:
  virtual ~Storage() = default;

  // Throws StorageError if a study with this name exists, the name is longer than
  // k_max_name_chars or directions is empty. One study_directions row per objective.
  virtual int64_t create_study(const std::string& name,
                               const std::vector<Direction>& directions) = 0;
  int64_t create_study(const std::string& name, Direction direction) {
    return create_study(name, std::vector<Direction>{direction});
  }
  virtual std::optional<StudyInfo> find_study(const std::string& name) = 0;
  // Deletes the study with every row of it (Optuna's delete_study) in one transaction under its
  // lock: all or nothing. Throws StorageError if there is no such study.
  virtual void delete_study(int64_t study_id) = 0;
  virtual std::vector<StudyInfo> list_studies() = 0;
  virtual void set_study_user_attr(int64_t study_id, const std::string& key, const Json& v) = 0;
  virtual void set_study_system_attr(int64_t study_id, const std::string& key, const Json& v) = 0;
  // A study's attributes; a value hpt cannot read is a "<unreadable: why>" string, and the map's
  // k_read_problems_attr lists each such one.
  virtual std::map<std::string, Json> study_user_attrs(int64_t study_id) = 0;
  virtual std::map<std::string, Json> study_system_attrs(int64_t study_id) = 0;
  // The study system attr key, set to v first when the study has none, in one transaction
  // under the study's lock: of callers racing on one study, all get the first one's value.
  virtual Json study_system_attr_once(int64_t study_id, const std::string& key, const Json& v) = 0;

  // Atomically picks the next trial to run and marks it RUNNING, datetime_start now:
  //  1. the oldest WAITING trial, if the count of COMPLETE + PRUNED + RUNNING trials is
  //     below limit (its intermediate values are cleared; params kept), else
  //  2. the oldest RUNNING trial for which is_orphan returns true, if that count without
  //     the orphans is below limit (its intermediate values are cleared; params kept), else
  //  3. a new trial numbered max+1, if the count of COMPLETE + PRUNED + RUNNING +
  //     WAITING trials is below limit.
  // is_orphan is asked about every RUNNING trial, in number order. Returns std::nullopt when
  // none applies. The claimed trial's system attr
  // k_owner_attr ("hpt:owner") is set to owner and its heartbeat recorded; a null owner (hpt
  // ask: a process that keeps no heartbeat, as Optuna's) leaves it with no heartbeat at all.
  virtual std::optional<TrialClaim> claim_trial(
      int64_t study_id, int limit, const Json& owner,
      const std::function<bool(const FrozenTrial&)>& is_orphan) = 0;
  // Creates a trial in the given state with its params (Optuna's enqueue_trial when
  // WAITING; also used to import finished trials): templ.values, one row per objective, or
  // else templ.value. Returns the trial id.
  virtual int64_t create_trial(int64_t study_id, const FrozenTrial& templ) = 0;
  // Creates study.name with its directions, attributes and trials in one transaction: all or
  // nothing. Trials keep their numbers (-1, as a missing one reads, is stored as none), states,
  // times (missing ones stay missing), params, values, steps and attributes, but not
  // k_request_attr, which stamps one write.
  // Throws StorageError (nothing written) if a study of that name exists, or for what
  // create_study or create_trial refuses. Returns the study id.
  virtual int64_t import_study(const StudyImport& study) = 0;

  // Names and keys longer than k_max_name_chars throw StorageError (nothing is written).
  virtual void set_trial_param(int64_t trial_id, const std::string& name, double internal,
                               const Distribution& d) = 0;
  // Many steps of one trial in one transaction, so that a worker reporting thousands of
  // steps a second costs one write per batch, not per step.
  virtual void set_trial_intermediate_values(
      int64_t trial_id, const std::vector<std::pair<int64_t, double>>& steps) = 0;
  void set_trial_intermediate_value(int64_t trial_id, int64_t step, double value) {
    set_trial_intermediate_values(trial_id, {{step, value}});
  }
  virtual void set_trial_user_attr(int64_t trial_id, const std::string& key, const Json& v) = 0;
  virtual void set_trial_system_attr(int64_t trial_id, const std::string& key, const Json& v) = 0;
  // Moves a RUNNING trial to state with one value per objective (COMPLETE/PRUNED; a
  // multi-objective study's COMPLETE trial: one trial_values row each, objective 0, 1, ...,
  // as Optuna 3.1; empty = no value); sets datetime_complete for finished states. WAITING
  // hands the trial back as never started: no datetime_start, no intermediate values. Returns
  // false, changing nothing, if the trial is not RUNNING (e.g. another process finished it)
  // or, when owner is given, if its k_owner_attr is not owner (another process re-claimed
  // it). system_attrs, when given, is an object whose entries are stored as the trial's system
  // attributes in the same transaction, only when the state changes: a trial's outcome and
  // what explains it (constraints, a failure's reason) are written whole or not at all.
  // Throws StorageError for a NaN value, or system_attrs that is no object or has a bad key.
  virtual bool set_trial_state_values(int64_t trial_id, TrialState state,
                                      const std::vector<double>& values,
                                      const Json* owner = nullptr,
                                      const Json* system_attrs = nullptr) = 0;
  bool set_trial_state_values(int64_t trial_id, TrialState state, std::optional<double> value,
                              const Json* owner = nullptr, const Json* system_attrs = nullptr) {
    return set_trial_state_values(trial_id, state,
                                  value ? std::vector<double>{*value} : std::vector<double>{},
                                  owner, system_attrs);
  }
  virtual void record_heartbeat(int64_t trial_id) = 0;
  // Leaves RUNNING trial trial_id to a process hpt does not watch (hpt ask's caller): its
  // k_owner_attr null and no heartbeat, as claim_trial with a null owner leaves a trial, in one
  // write. Until then the claiming hpt owns it, so a trial an ask half made (killed, a full
  // disk) is an orphan the next run or ask takes. Throws StorageError if there is no such trial.
  virtual void disown_trial(int64_t trial_id) = 0;
  // Seconds since the trial's last heartbeat, std::nullopt if it never had one.
  virtual std::optional<double> heartbeat_age(int64_t trial_id) = 0;

  // Throws StorageError if there is no such trial.
  virtual FrozenTrial get_trial(int64_t trial_id) = 0;
  // The study's trial numbered number, std::nullopt if it has none; reads that trial alone
  // (hpt tell at 50,000 trials read them all: 0.8 s).
  virtual std::optional<FrozenTrial> find_trial(int64_t study_id, int number) {
    for (auto& t : get_all_trials(study_id)) {
      if (t.number == number) {
        return std::move(t);
      }
    }
    return std::nullopt;
  }
  // All trials of the study ordered by number (optionally only some states).
  virtual std::vector<FrozenTrial> get_all_trials(int64_t study_id,
                                                  const std::vector<TrialState>& states = {}) = 0;
  // All trials, as get_all_trials(study_id), as an immutable shared snapshot: no copy, so
  // fast at 10,000 trials when the caller drops the snapshot before asking again.
  virtual std::shared_ptr<const std::vector<FrozenTrial>> trials_snapshot(int64_t study_id) {
    return std::make_shared<const std::vector<FrozenTrial>>(get_all_trials(study_id));
  }
  virtual int count_trials(int64_t study_id, const std::vector<TrialState>& states = {}) = 0;
  // Every study's trials by study id, ordered by number, with at least their id, number,
  // state, values and datetimes (params, steps and attributes may be left out): what a list
  // of studies summarises, read in one pass. Optuna's schema has no index on trials.study_id,
  // so a read per study scans every study's trials (5,000 studies: 20 s). A study without
  // trials has no entry.
  using TrialOutlines = std::map<int64_t, std::vector<FrozenTrial>>;
  // study_id's trials in outlines (none when it has no entry).
  static const std::vector<FrozenTrial>& outline_of(const TrialOutlines& outlines,
                                                    int64_t study_id) {
    static const std::vector<FrozenTrial> none;
    const auto it = outlines.find(study_id);
    return it != outlines.end() ? it->second : none;
  }
  virtual std::shared_ptr<const TrialOutlines> trial_outlines() {
    auto out = std::make_shared<TrialOutlines>();
    for (const StudyInfo& s : list_studies()) {
      (*out)[s.id] = get_all_trials(s.id);
    }
    return out;
  }

  // Whether the database's file was deleted, moved or replaced since it was opened: its
  // writes then go to a file no path names, lost when this process ends. False for a server.
  virtual bool file_moved() { return false; }
  // When this process last got its connection back after losing it (a server restart), or
  // std::nullopt: every host's heartbeats went stale meanwhile, live ones too.
  virtual std::optional<std::chrono::steady_clock::time_point> reconnected_at() const {
    return std::nullopt;
  }
  // How long a call waits for a lost server to come back (reconnecting with backoff) before
  // it throws StorageError, and what it says meanwhile: note(text, 0) once the wait lasts
  // past a first quick reconnect, and note(text, how long the call waited) when the server is
  // back. Any stop signal ends the wait. Default: k_default_outage_wait, no notes. No-op for
  // a file database.
  using OutageNote = std::function<void(const std::string&, std::chrono::steady_clock::duration)>;
  virtual void set_outage_wait(std::chrono::seconds, OutageNote) {}
  // Writes a consistent copy of the whole database to path, a new file. Throws StorageError
  // (a server's database, an existing path, a full disk).
  virtual void save_copy(const std::string& path) = 0;
};

// Whether now is still the finished trial was (the same number, state and times): a finished
// trial never changes, so another one under its id means its study was deleted and made again
// (SQLite gives a deleted row's id again). The trial cache and the dashboard both judge by it.
bool same_finished_trial(const FrozenTrial& was, const FrozenTrial& now);

// What trials hold that hpt could not read (each one's k_read_problems_attr): how many trials,
// and the first such trial's number and first problem; std::nullopt when none does.
struct ReadProblems {
  size_t trials = 0;
  int first_number = 0;
  std::string first;
};
std::optional<ReadProblems> read_problems_of(const std::vector<FrozenTrial>& trials);

// Opens the storage named by url: "sqlite:///path.db", or a plain file path.
// Creates the database if missing (read_only = false). Throws StorageError with the
// path and the reason (not a database, newer schema, read-only, ...).
std::unique_ptr<Storage> open_storage(const std::string& url, bool read_only = false);

// The database file a storage URL names ("sqlite:///x.db" or a plain path), or
// std::nullopt for a server URL (postgresql://...).
std::optional<std::string> sqlite_file_of(const std::string& url);

// k_sqlite_side_suffixes (io/atomic_file.hpp): the files SQLite keeps beside a database file.

// Why path cannot be a database file: it is the -wal, -shm or -journal file of a database file
// beside it (a study written there is lost when SQLite next opens that database: it rolls a
// "hot journal" back and deletes it, or rebuilds the -shm), or, when creating, such a name that
// does not exist yet (a database made there is lost once the database it names appears), or a
// new name too long for the folder to hold its "-journal" beside it (NAME_MAX, 255 bytes:
// SQLite would make an empty file it cannot write). An existing file of such a name alone is an
// ordinary database. std::nullopt otherwise.
std::optional<std::string> sqlite_side_file_problem(const std::string& path, bool creating = true);

}  // namespace hpt
