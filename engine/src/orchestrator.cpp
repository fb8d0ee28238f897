#include "hpt/engine/orchestrator.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hpt/engine/device_check.hpp"
#include "hpt/engine/enqueue.hpp"
#include "hpt/engine/gpu_pool.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/signal_guard.hpp"
#include "hpt/engine/study_check.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/study_match.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/engine/worker_set.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/stop_signals.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/rng.hpp"
#include "hpt/tuner/sampler.hpp"
#include "running_trial.hpp"
#include "trial_outcome.hpp"

namespace hpt {

namespace {

using TimePoint = WorkerSet::TimePoint;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::milliseconds;

// A worker still running this long after its final value is said to linger, once.
constexpr auto k_linger_note_after = std::chrono::seconds(30);

// How long after Ctrl-Z hpt waits for a SIGCONT that would cancel it (stop_if_asked).
constexpr auto k_ctrl_z_settle = std::chrono::milliseconds(20);

// How long a study waits for a lost database server before it stops (Storage::set_outage_wait).
constexpr std::chrono::seconds k_run_outage_wait{600};

// The hpt delete-study command that deletes study name from storage, to paste into a shell:
// a database file's path shell-quoted (./ before a leading '-'); for a server URL, or a name or
// path that only shows escaped (control characters), the command's words, not one to paste.
std::string delete_study_command_for(const std::string& storage, const std::string& name) {
  const auto file = sqlite_file_of(storage);
  if (!file || terminal_text(*file) != *file || terminal_text(name) != name) {
    return "hpt delete-study (the database) --study (its name)";
  }
  return fmt::format("hpt delete-study {} --study {}",
                     shell_word(file->rfind('-', 0) == 0 ? "./" + *file : *file), shell_word(name));
}

// A study key as its trials folder records it: the string itself, any other JSON as text.
std::string key_text(const Json& key) {
  return key.is_string() ? key.get<std::string>() : key.dump();
}

class Orchestrator {
 public:
  Orchestrator(const StudyConfig& c, Storage& s, const RunOptions& o, std::ostream& out,
               WorkerSet& workers)
      : m_config(c),
        m_storage(s),
        m_options(o),
        m_out(out),
        m_workers(workers),
        m_owner(Owner::current()),
        m_progress(out, o.interactive),
        m_gpus(c.gpus, c.gpus_per_trial),
        m_last_heartbeat(workers.now()) {
    // A study outlasts a server restart: its calls wait for the server, saying so, while
    // the workers go on (their output waits in the pipes).
    m_storage.set_outage_wait(k_run_outage_wait, [this](const std::string& note, auto waited) {
      m_progress.note(note);
      m_workers.discount(waited);  // The trials' timeouts do not run out for the outage.
    });
  }
  ~Orchestrator() { m_storage.set_outage_wait(k_default_outage_wait, nullptr); }
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  int run();
  // ask_trial's work: the study opened, its next trial claimed without owner, sampled and
  // published.
  FrozenTrial ask(const std::function<void(const FrozenTrial&)>& publish);
  // Throws std::runtime_error naming the study when it is gone from the database (hpt
  // delete-study) or its id now names another study (SQLite hands deleted ids out again):
  // nothing more of this run may be written. At most once a second unless now.
  void check_study_kept(bool now = false);
  // After a storage error that refuses all writes (a full disk): when the database file went
  // away too (its writes were lost with it), the study is rescued (rescue_study, the error
  // said first) and its exit code returned; std::nullopt otherwise.
  std::optional<int> rescue_after(const StorageError& e);

 private:
  // Checks what can be checked before a study or trial is created: the study name,
  // its trials folder, the built-in trainer's executable. Throws one line.
  void preflight();
  void open_study();
  // The trials folder must be this study's (study_folder.hpp), whose key is key (std::nullopt:
  // none yet). A folder shared by choice (study.trials_dir, a server's hpt_trials/) with
  // another study is refused (throws). The database's own default folder (own_folder:
  // <stem>_trials/, whose .hpt-database names this file) holding another key held the study of
  // a database since deleted or replaced at this path: it is moved aside, nothing lost.
  void check_trials_folder(const std::optional<std::string>& key, bool own_folder);
  // Says so when a new study starts in a database that holds others (a misspelt --study or
  // study.name starts afresh instead of resuming), naming them and the likely intended one.
  void note_new_study_beside(const std::string& name);
  // Adds config.enqueue's trials the study does not hold yet, as WAITING trials (run first).
  void enqueue_trials();
  // Makes the retries that FAILed trials were due (k_retry_due_attr) but never got: their run
  // stopped between the FAIL and the retry (killed, a database-wide error). Only once the
  // process that failed them is gone (as orphans() judges), and once across racing runs.
  void restore_lost_retries();
  // Starts trials while slots (jobs, GPUs), the failure budget, the backoff and signals
  // allow.
  void launch_some();
  // Claims, samples and starts one trial. Returns false if none may start now.
  bool launch_one();
  // Claims the next trial: a WAITING one, a new one, or one orphaned by a dead process.
  std::optional<FrozenTrial> claim_next();
  // The limit claim_trial gets: --trials, or for an exhausted sampler (a grid run through) the
  // trials there are, so that only WAITING and orphaned ones are claimed.
  int claim_limit();
  // Gives trial every parameter of the search space (kept from a resumed trial, enqueued,
  // or sampled) and stores the new ones.
  void choose_params(FrozenTrial& trial);
  // Without study.seed, the study's own (k_seed_attr).
  void resolve_seed();
  // The kept and the enqueued parameters (Optuna's fixed_params) of trial.
  std::map<std::string, double> kept_params(const FrozenTrial& trial);
  // What trial's worker is started with: argv, environment (HPT_*, devices), log path.
  WorkerSpec worker_spec(const FrozenTrial& trial, const std::vector<int>& gpus) const;
  // How many trials run at once: jobs, capped by what the GPUs hold when study.gpus is set.
  int trials_at_once() const {
    return m_gpus.enabled() ? std::min(m_config.jobs, m_gpus.capacity()) : m_config.jobs;
  }
  // Each worker's share of the cores when hpt sets OMP_NUM_THREADS: cores / trials at once.
  int workers_omp_threads() const {
    return std::max(1, usable_cores() / std::max(1, trials_at_once()));
  }
  Json trial_values(const FrozenTrial& t) const;
  // Reads one stdout line of r's worker: a log line, an error that fails the trial, or a
  // message (final value, or a step for the pruner).
  void handle_line(RunningTrial& r, const StdoutLine& line);
  // Writes a line that is not a protocol line to r's log, saying so when it was cut or was
  // meant as one (near_miss: why it is not one; the first is kept for the fail reason).
  void log_output(RunningTrial& r, const StdoutLine& line, const std::string& near_miss);
  // Keeps the constraint values of a line for r. False, with r ended, when their count differs
  // from the study's (constraints_count_problem).
  bool keep_constraints(RunningTrial& r, const std::vector<double>& constraints);
  // A step line: its user_attrs and value kept for storing, and the pruner asked about it.
  void handle_step(RunningTrial& r, const WorkerMessage& msg);
  // Whether r's step is not kept: beyond objective.max_steps (said once) or reported before
  // (its first value kept, as Optuna).
  bool step_dropped(RunningTrial& r, int64_t step);
  // Asks the pruner about r at step, stores the attributes it sets (successive halving's
  // rungs) and ends r's worker if it prunes.
  void ask_pruner(RunningTrial& r, int64_t step);
  // Stores r's unstored steps and step lines' user_attrs, and its log's path once the log
  // exists (so the dashboard shows a running trial's log); a refusal fails the trial.
  void store_steps(RunningTrial& r);
  // Ends r's worker and makes its trial FAIL with reason (unless already decided).
  void stop_trial(RunningTrial& r, const std::string& reason);
  // Sends SIGTERM to r's worker group now.
  void terminate(RunningTrial& r);
  // Records r's outcome (its worker's result: worker) and books it for the study.
  void finish(RunningTrial& r, const WorkerResult& worker);
  // Writes r's outcome and its attributes. False if another process took the trial over.
  bool store_outcome(const RunningTrial& r, const WorkerResult& worker, TrialOutcome& o);
  // What explains r's outcome o, written in the transaction that finishes the trial (a trial
  // another process re-claimed meanwhile gets none of it): its log or why there is none, why it
  // failed and its stderr tail, its constraints. Says once that a log could not be written, and
  // that the sampler ignores constraints.
  Json outcome_attrs(const RunningTrial& r, const WorkerResult& worker, const TrialOutcome& o);
  // Counts a FAIL toward max_failures and enqueues its retry (study.retries).
  void count_failure(const RunningTrial& r, const std::string& reason);
  // Whether failed (FAIL now) is due a retry under study.retries.
  bool retry_due(const FrozenTrial& failed) const;
  // Enqueues failed's retry: a WAITING trial with its parameters, one attempt later.
  void make_retry(const FrozenTrial& failed);
  // The study's trials for the pruner: re-read after a trial of ours ended, else at most
  // once a second (a re-read costs O(steps) of the running trials; a step must not).
  const std::vector<FrozenTrial>& pruner_trials();
  // Re-reads the study's trials.
  void refresh_trials();
  // Whether the sampler has nothing new to propose (a grid run through: Sampler::exhausted).
  bool sampler_exhausted() { return m_sampler->exhausted(pruner_trials()); }
  // Reads every worker's lines, stores their steps, finishes the workers that ended.
  void service_workers();
  // With nothing running: the exit code if the study is over, std::nullopt to go on
  // (after waiting out a backoff or for other processes' trials).
  std::optional<int> idle(bool& waiting_note);
  // Waits for d on the worker set, returning early when a stop signal arrives.
  void pause(Duration d);
  // Makes the trials folder again if it was deleted mid-study (`rm -rf study_trials`), so
  // that the next trials have their logs; a folder that cannot be made is left to the log's
  // own problem note.
  void remake_study_dir();
  // After Ctrl-Z: stops the workers and hpt until fg; their timeouts pause meanwhile.
  void stop_if_asked();
  // Whether the database's file was deleted, moved or replaced (checked at most every second).
  bool database_file_moved();
  // The study's end when its database file went away: trials handed back, the study written
  // back to its path (or beside it, when another file took the path); exit 1.
  int rescue_study(const std::string& cause = "");
  // Saves a copy of the study (Storage::save_copy) where its database file was (home): back at
  // home; beside it when another file holds it (never replaced); when its folder cannot be
  // written (made a file, read-only), in the working folder, then the temporary folder. Returns
  // where it is, or "" with each place's problem in problems.
  std::string save_study_copy(const std::filesystem::path& home,
                              std::vector<std::string>& problems);
  void heartbeat();
  // True at most every 250 ms, and only on a terminal: time to redraw the status line.
  bool status_line_due();
  void check_timeouts();
  // The interrupted study's end: workers ended, their trials WAITING again; exit 130.
  int interrupted();
  void stop_all(bool immediately);
  // The RUNNING trials whose owner is dead: its process on this host is gone, or (another host
  // or PID namespace) its heartbeat is older than heartbeat_grace. A trial with no owner hpt
  // can check and no heartbeat (Optuna writes none unless asked) is never presumed dead: its
  // number goes to m_unchecked.
  std::set<int64_t> orphans(std::map<int64_t, Json>& owners_seen);
  // Whether the process that holds or held trial t (its k_owner_attr) is gone: dead on this
  // host, or (another host or PID namespace) its heartbeat older than heartbeat_grace when
  // judge_heartbeats; std::nullopt when nothing tells (no owner hpt can check, no heartbeat).
  std::optional<bool> owner_gone(const FrozenTrial& t, bool judge_heartbeats);
  // Says which orphaned trials a finished run leaves RUNNING (and ends their processes left
  // from the dead run), so that "done" does not hide them.
  void note_orphans_left();
  // Whether the storage got its connection back less than heartbeat_grace + 5 s ago: every
  // host's heartbeats went stale during the outage, so none is judged by its age yet.
  bool just_reconnected() const;
  // Whether trial id is still RUNNING under this process's claim (nobody finished or took it).
  bool still_ours(int64_t trial_id);
  // The study's COMPLETE + PRUNED trials; under --trials +K, those at the start plus this run's.
  int done_trials();
  // The study's COMPLETE + PRUNED trials, whoever finished them.
  int study_done_trials();
  // Whether --timeout's budget is spent: no trial starts from then on.
  bool past_deadline() const { return m_deadline && m_workers.now() >= *m_deadline; }
  // The study's end once its time budget is spent and its trials here have finished.
  int budget_spent();
  // Prints the best trial (or the Pareto front) and the best trial's saved model.
  void summarize();

  const StudyConfig& m_config;
  // study.seed and the sampler's, or the study's own (resolve_seed).
  uint64_t m_seed = 0;
  uint64_t m_sampler_seed = 0;
  Storage& m_storage;
  RunOptions m_options;
  std::ostream& m_out;
  WorkerSet& m_workers;
  Owner m_owner;
  std::set<int> m_unchecked;  // See orphans().
  Progress m_progress;
  int64_t m_study_id = -1;
  std::string m_study_dir;           // Absolute.
  bool m_log_problem_noted = false;  // A trial's log could not be written, and we said so.
  bool m_constraints_noted = false;  // The sampler ignores reported constraints, and we said so.
  // The number of constraint values a line last reported and constraints_count_problem passed.
  std::optional<size_t> m_constraints_count;
  // A trial's artifact folder (HPT_TRIAL_DIR): <study dir>/<number>; its log is that + ".log".
  std::string trial_dir(int number) const { return m_study_dir + "/" + std::to_string(number); }
  std::string trial_log(int number) const { return trial_dir(number) + ".log"; }
  // Trial number's log as hpt:log records it: absolute (m_study_dir is), so that readers (hpt
  // report, the dashboard) find it from anywhere.
  std::string trial_log_attr(int number) const {
    return std::filesystem::path(trial_log(number)).lexically_normal().string();
  }
  std::unique_ptr<Sampler> m_sampler;
  std::unique_ptr<Pruner> m_pruner;
  GpuPool m_gpus;
  std::vector<std::unique_ptr<RunningTrial>> m_running;
  int m_failures = 0;
  int m_quick_failures = 0;  // FAIL trials in a row that ended within k_quick_failure.
  TimePoint m_next_launch{};
  std::string m_last_failure;
  std::shared_ptr<const std::vector<FrozenTrial>> m_trials;
  TimePoint m_trials_read{};
  bool m_trials_stale = true;
  TimePoint m_last_heartbeat;
  TimePoint m_last_tick{};
  TimePoint m_file_checked{};
  std::string m_study_key;              // k_study_key_attr, as its folder records it.
  std::optional<TimePoint> m_deadline;  // --timeout: when this run stops starting trials.
  TimePoint m_study_checked{};          // When check_study_kept last read the study's key.
  bool m_deadline_noted = false;        // Said that trials still running are waited for.
  int m_done_at_start = 0;
  // --trials +K: this run finishes K trials (Optuna's optimize(n_trials=K) in each process),
  // whatever other processes add; m_run_finished counts its COMPLETE and PRUNED ones.
  std::optional<int> m_run_quota;
  int m_run_finished = 0;
};

void Orchestrator::preflight() {
  std::error_code ec;  // Absolute: HPT_TRIAL_DIR finds a trial's leftovers from any folder.
  m_study_dir =
      std::filesystem::absolute(check_study(m_config, m_options), ec).lexically_normal().string();
  create_folder(m_study_dir);
  struct stat st {};
  if (::lstat(m_study_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error(fmt::format(
        "trials folder '{}' is not a directory (a symbolic link?): refusing to write trial logs "
        "through it",
        m_study_dir));
  }
  record_trials_base(m_config);
  if (trials_at_once() < m_config.jobs) {
    m_progress.note(fmt::format(
        "jobs {} > {} trials the GPUs hold at once (study.gpus / gpus_per_trial): running at "
        "most {}",
        m_config.jobs, m_gpus.capacity(), trials_at_once()));
  }
  if (const std::string note = trainer_threads_note(m_config, trials_at_once(), usable_cores());
      !note.empty()) {
    m_progress.note("warning: " + note);
  }
  if (const auto omp = omp_threads_env(); !omp.problem.empty()) {
    m_progress.note(
        fmt::format("warning: {}: each worker gets OMP_NUM_THREADS={} instead (the "
                    "cores / trials at once)",
                    omp.problem, workers_omp_threads()));
  }
}

void Orchestrator::open_study() {
  const std::string& name = m_config.name;
  check_study_matches(m_storage, name, m_config.directions, m_config.search_space);
  // The trials folder is checked before anything is written, and again once the key is set
  // (two hosts racing on a shared folder).
  const bool own_folder = default_trials_base(m_config).has_value();
  if (auto info = m_storage.find_study(name)) {
    m_study_id = info->id;
    const auto attrs = m_storage.study_system_attrs(m_study_id);
    const auto it = attrs.find(k_study_key_attr);
    check_trials_folder(it != attrs.end() ? std::optional(key_text(it->second)) : std::nullopt,
                        own_folder);
  } else {
    check_trials_folder(std::nullopt, own_folder);
    note_new_study_beside(name);
    try {
      m_study_id = m_storage.create_study(name, m_config.directions);
    } catch (const StorageError&) {
      auto created = m_storage.find_study(name);  // Another process created it just now.
      if (!created) {
        throw;
      }
      m_study_id = created->id;
    }
  }
  m_study_key =
      key_text(m_storage.study_system_attr_once(m_study_id, k_study_key_attr, new_study_key()));
  check_trials_folder(m_study_key, own_folder);
  if (!folder_study_key(m_study_dir)) {
    record_folder_study_key(m_study_dir, m_study_key);
  }
  claim_search_space(m_storage, m_study_id, name, m_config.search_space);
  RunSettings settings{m_config.fixed, m_config.command, {}};
  for (const auto& [name, dist] : m_config.search_space) {
    settings.parameters.push_back(name);
  }
  for (const std::string& warning : record_run_settings(m_storage, m_study_id, settings)) {
    m_progress.note("warning: " + warning);
  }
  resolve_seed();
  m_sampler = make_sampler(m_config.sampler_type, m_config.sampler_options, m_sampler_seed,
                           m_config.search_space);
  m_pruner = make_pruner(m_config.pruner_type, m_config.pruner_options);
}

void Orchestrator::resolve_seed() {
  m_seed = m_config.seed;
  if (!m_config.seed_given) {
    // Drawn for a study without trials yet (whichever process gets here first: hosts starting
    // one study together agree on it); 0, earlier versions' default, for one that has trials
    // from before (an older hpt's, Optuna's), so that it samples on as it did.
    std::random_device random;
    const uint64_t drawn =
        m_storage.count_trials(m_study_id) == 0 ? (uint64_t{random()} << 32 | random()) >> 1 : 0;
    const Json stored =
        m_storage.study_system_attr_once(m_study_id, k_seed_attr, static_cast<int64_t>(drawn));
    m_seed = stored.is_number_integer() && stored.get<int64_t>() >= 0
                 ? stored.get<uint64_t>()
                 : 0;  // Not hpt's (a hand edit): the old default.
  }
  m_sampler_seed = m_config.sampler_seed_given ? m_config.sampler_seed : m_seed;
}

void Orchestrator::check_trials_folder(const std::optional<std::string>& key, bool own_folder) {
  const std::string problem = folder_owner_problem(m_study_dir, m_config.name, key);
  if (problem.empty() || (own_folder && !key)) {
    return;
  }
  if (!own_folder) {
    throw std::runtime_error(problem);
  }
  const std::string aside = move_folder_aside(m_study_dir);
  create_folder(m_study_dir);
  m_progress.note(fmt::format(
      "the trials folder '{}' held an earlier study '{}' (deleted since, or of a database "
      "since deleted or replaced): moved it to '{}'",
      m_study_dir, m_config.name, aside));
}

void Orchestrator::enqueue_trials() {
  const auto entries = entries_not_enqueued(m_config.enqueue, m_storage.get_all_trials(m_study_id),
                                            m_config.search_space);
  for (const Json& params : entries) {
    FrozenTrial waiting;
    waiting.state = TrialState::Waiting;
    waiting.system_attrs[k_fixed_params_attr] = params;
    m_storage.create_trial(m_study_id, waiting);
  }
  if (!entries.empty()) {
    m_progress.note(fmt::format(
        "enqueued {} trial{} from {}'s enqueue ({}){}", entries.size(),
        entries.size() == 1 ? "" : "s", m_config.file,
        m_done_at_start < m_options.trials ? "run first" : "run first once --trials allows more",
        entries.size() < m_config.enqueue.size()
            ? fmt::format("; {} already in the study", m_config.enqueue.size() - entries.size())
            : ""));
  }
}

void Orchestrator::note_new_study_beside(const std::string& name) {
  std::vector<std::string> others;
  std::vector<std::string> quoted;
  for (const auto& s : m_storage.list_studies()) {
    if (s.name == name) {
      return;  // Another host made it just now: this one joins it.
    }
    others.push_back(s.name);
    if (quoted.size() < 5) {
      quoted.push_back("'" + s.name + "'");
    }
  }
  if (others.empty()) {
    return;
  }
  const auto nearest = near_miss(name, others);
  m_progress.note(fmt::format(
      "new study '{}' in a database that holds {} other{}: {}{}{}", name, others.size(),
      others.size() == 1 ? "" : "s", fmt::join(quoted, ", "),
      quoted.size() < others.size() ? ", ..." : "",
      nearest ? fmt::format("; to resume '{}' instead, give its name (--study or study.name), and "
                            "{} removes this one",
                            *nearest, delete_study_command_for(m_config.storage, name))
              : ""));
}

// RUNNING trials whose owner is gone: same host and dead, or silent past the grace.
std::set<int64_t> Orchestrator::orphans(std::map<int64_t, Json>& owners_seen) {
  std::set<int64_t> out;
  m_unchecked.clear();
  const bool judge_heartbeats = !just_reconnected();
  // The storage's snapshot is copy-on-write: while we hold one, its refresh copies the whole
  // study (at 20,000 trials, most of each trial's overhead). Ours is read again when needed.
  m_trials.reset();
  m_trials_stale = true;
  for (const auto& t : m_storage.get_all_trials(m_study_id, {TrialState::Running})) {
    Json owner_json = t.system_attrs.count(k_owner_attr) ? t.system_attrs.at(k_owner_attr) : Json();
    const auto gone = owner_gone(t, judge_heartbeats);
    if (!gone && !owner_json.is_object()) {
      m_unchecked.insert(t.number);
    }
    if (gone.value_or(false)) {
      out.insert(t.id);
      owners_seen[t.id] = owner_json;
    }
  }
  return out;
}

std::optional<bool> Orchestrator::owner_gone(const FrozenTrial& t, bool judge_heartbeats) {
  const auto owner = t.system_attrs.find(k_owner_attr);
  const auto liveness =
      owner_liveness(Owner::from_json(owner != t.system_attrs.end() ? owner->second : Json()));
  if (liveness != OwnerLiveness::Unknown) {
    return liveness == OwnerLiveness::Dead;
  }
  // Not by datetime_start: the writer's local time, with the writer's time zone.
  const auto age = m_storage.heartbeat_age(t.id);
  if (!age) {
    return std::nullopt;
  }
  return judge_heartbeats && *age > m_config.heartbeat_grace;
}

void Orchestrator::note_orphans_left() {
  std::map<int64_t, Json> owners_seen;
  const auto ids = orphans(owners_seen);
  if (ids.empty()) {
    return;
  }
  std::vector<int> numbers;
  size_t ended = 0;
  for (const auto& t : m_storage.get_all_trials(m_study_id, {TrialState::Running})) {
    if (ids.count(t.id)) {
      numbers.push_back(t.number);
      ended += m_workers.end_leftovers(trial_dir(t.number));
    }
  }
  m_progress.note(fmt::format(
      "{} {} {} left RUNNING by a stopped process; --trials {} needs no more, so {} RUNNING (a "
      "larger --trials runs {} again){}",
      numbers.size() == 1 ? "trial" : "trials", fmt::join(numbers, ", "),
      numbers.size() == 1 ? "was" : "were", m_options.trials,
      numbers.size() == 1 ? "it stays" : "they stay", numbers.size() == 1 ? "it" : "them",
      ended == 0 ? ""
                 : fmt::format("; ended {} process{} left from {}", ended, ended == 1 ? "" : "es",
                               numbers.size() == 1 ? "it" : "them")));
}

bool Orchestrator::just_reconnected() const {
  // The other hosts reconnect up to one backoff step (5 s) later, then write their heartbeats
  // within the grace: until then, a stale heartbeat says nothing about its host.
  const auto at = m_storage.reconnected_at();
  return at && std::chrono::steady_clock::now() - *at <
                   std::chrono::duration<double>(m_config.heartbeat_grace + 5.0);
}

Json Orchestrator::trial_values(const FrozenTrial& t) const {
  Json values = m_config.fixed;
  // Only the search space's: a parameter the config no longer samples (dropped, or moved to
  // fixed) that a resumed trial still holds must not reach the worker or override fixed.
  const Json params = t.external_params();  // Kept: items() refers to it.
  for (const auto& [name, value] : params.items()) {
    if (m_config.search_space_has(name)) {
      values[name] = value;
    }
  }
  return values;
}

bool Orchestrator::still_ours(int64_t trial_id) {
  const FrozenTrial t = m_storage.get_trial(trial_id);
  const auto owner = t.system_attrs.find(k_owner_attr);
  return t.state == TrialState::Running && owner != t.system_attrs.end() &&
         owner->second == m_owner.to_json();
}

void Orchestrator::check_study_kept(bool now) {
  if (!now && m_workers.now() - m_study_checked < std::chrono::seconds(1)) {
    return;
  }
  m_study_checked = m_workers.now();
  std::optional<std::string> key;
  try {
    const auto attrs = m_storage.study_system_attrs(m_study_id);
    if (const auto it = attrs.find(k_study_key_attr); it != attrs.end()) {
      key = key_text(it->second);
    }
  } catch (const StorageError& e) {
    if (m_storage.find_study(m_config.name)) {
      throw;  // Not a deleted study: the database's own problem.
    }
  }
  if (key != m_study_key) {
    throw std::runtime_error(fmt::format(
        "study '{}' was deleted from {} while this run went on (hpt delete-study?); nothing more "
        "of this run is written",
        m_config.name, redact_credentials(m_config.storage)));
  }
}

int Orchestrator::claim_limit() {
  int total = m_options.trials;
  if (m_run_quota) {  // Any trial while this run's finished and running ones are below K.
    total =
        m_run_finished + static_cast<int>(m_running.size()) < *m_run_quota ? k_unbounded_trials : 0;
  }
  // An exhausted sampler (a grid run through) makes no new trial: waiting and orphaned ones
  // are still run.
  return sampler_exhausted()
             ? std::min(total, m_storage.count_trials(m_study_id,
                                                      {TrialState::Complete, TrialState::Pruned,
                                                       TrialState::Running, TrialState::Waiting}))
             : total;
}

std::optional<FrozenTrial> Orchestrator::claim_next() {
  check_study_kept(true);
  std::map<int64_t, Json> owners_seen;
  const auto orphan_ids = orphans(owners_seen);
  const int limit = claim_limit();
  auto claim =
      m_storage.claim_trial(m_study_id, limit, m_owner.to_json(), [&](const FrozenTrial& t) {
        if (!orphan_ids.count(t.id)) {
          return false;
        }
        // Taken over only if nobody else took it since we looked.
        Json owner = t.system_attrs.count(k_owner_attr) ? t.system_attrs.at(k_owner_attr) : Json();
        return owner == owners_seen[t.id];
      });
  if (!claim) {
    return std::nullopt;
  }
  if (claim->kind == TrialClaim::Kind::Orphan) {
    const size_t left = m_workers.end_leftovers(trial_dir(claim->trial.number));
    m_progress.note(fmt::format(
        "trial {} was left RUNNING by a stopped process: re-running it{}", claim->trial.number,
        left == 0 ? ""
                  : fmt::format(" (ended {} process{} left from its earlier run)", left,
                                left == 1 ? "" : "es")));
  }
  return claim->trial;
}

std::map<std::string, double> Orchestrator::kept_params(const FrozenTrial& trial) {
  Json enqueued = trial.system_attrs.count(k_fixed_params_attr)
                      ? trial.system_attrs.at(k_fixed_params_attr)
                      : Json::object();
  std::map<std::string, double> chosen;
  for (const auto& [name, dist] : m_config.search_space) {
    if (trial.params.count(name) && !contains(dist, trial.params.at(name))) {
      // A resumed trial sampled before the range was narrowed: the user excluded the value.
      m_progress.note(fmt::format(
          "trial {}: {} = {} is outside the search space now; sampled again", trial.number, name,
          to_external(trial.distributions.at(name), trial.params.at(name)).dump()));
    } else if (trial.params.count(name)) {
      chosen[name] = trial.params.at(name);
    } else if (enqueued.is_object() && enqueued.contains(name)) {
      try {
        chosen[name] = to_internal(dist, enqueued.at(name));
        if (!contains(dist, chosen[name])) {  // Run as given, with Optuna's warning.
          m_progress.note(
              fmt::format("trial {}: enqueued {} = {} is outside the search space ({}); "
                          "run as given, as Optuna does",
                          trial.number, name, enqueued.at(name).dump(), distribution_text(dist)));
        }
      } catch (const std::invalid_argument& e) {
        m_progress.note(
            fmt::format("trial {}: enqueued {} ignored: {}", trial.number, name, e.what()));
      }
    }
  }
  return chosen;
}

void Orchestrator::choose_params(FrozenTrial& trial) {
  std::map<std::string, double> chosen = kept_params(trial);
  if (chosen.size() < m_config.search_space.size()) {
    refresh_trials();
    const auto trials = m_trials;
    // Hyperband: the sampler learns from the trial's bracket only (Optuna's _filter_study).
    const auto bracket = m_pruner->sampler_trials(
        PruneContext{m_config.direction, trials.get(), m_config.name}, trial.number);
    std::map<std::string, Json> sampler_attrs;  // E.g. NSGA-II's nsga2:generation.
    std::map<std::string, int64_t> counters;    // QMC's count of points, as Optuna keeps it.
    SampleContext ctx{m_config.direction, bracket ? &*bracket : trials.get(),
                      trial.number,       m_config.directions,
                      &sampler_attrs,     &counters};
    for (const auto& [name, v] : m_sampler->sample(m_config.search_space, ctx)) {
      chosen.emplace(name, v);  // Keeps the kept/enqueued values.
    }
    for (const auto& [key, value] : sampler_attrs) {
      m_storage.set_trial_system_attr(trial.id, key, value);
      trial.system_attrs[key] = value;
    }
    if (!counters.empty()) {
      const auto stored = m_storage.study_system_attrs(m_study_id);
      for (const auto& [key, value] : counters) {
        const auto it = stored.find(key);
        if (it == stored.end() || !it->second.is_number() || it->second.get<double>() < value) {
          m_storage.set_study_system_attr(m_study_id, key, value);
        }
      }
    }
  }
  for (const auto& [name, dist] : m_config.search_space) {
    if (!trial.params.count(name) || trial.params.at(name) != chosen.at(name)) {
      m_storage.set_trial_param(trial.id, name, chosen.at(name), dist);
      trial.params[name] = chosen.at(name);
    }
    // The config's own: its list choices reach the worker as lists (stored, they are text).
    trial.distributions[name] = dist;
  }
  // A trial from before the search space lost a parameter (dropped, or moved to fixed) keeps
  // it recorded (a stored value is never removed) but its worker no longer gets it: said so.
  std::vector<std::string> dropped;
  for (const auto& [name, value] : trial.params) {
    if (!m_config.search_space_has(name)) {
      dropped.push_back(name);
    }
  }
  if (!dropped.empty()) {
    m_progress.note(fmt::format(
        "trial {} holds {} from an earlier run that the search space no longer has ({}): its "
        "worker does not get {}; the trial keeps {} recorded",
        trial.number, dropped.size() == 1 ? "a parameter" : "parameters", fmt::join(dropped, ", "),
        dropped.size() == 1 ? "it" : "them", dropped.size() == 1 ? "it" : "them"));
  }
  trial.intermediate_values.clear();
}

WorkerSpec Orchestrator::worker_spec(const FrozenTrial& trial, const std::vector<int>& gpus) const {
  WorkerSpec spec;
  const Json values = trial_values(trial);
  if (m_config.builtin_trainer()) {
    spec.argv = {m_options.trainer_exe, "worker"};
  } else {
    spec.argv = substitute_placeholders(m_config.command, placeholder_values(values, trial.number));
  }
  const std::string dir = trial_dir(trial.number);
  spec.env = {
      {"HPT_PARAMS", values.dump()},
      {"HPT_FIXED", m_config.fixed.dump()},
      {"HPT_TRIAL_NUMBER", std::to_string(trial.number)},
      {"HPT_STUDY_NAME", m_config.name},
      {"HPT_SEED", std::to_string(derive_seed(m_seed, trial.number, "worker") >> 1)},
      {"HPT_TRIAL_DIR", dir},
  };
  if (m_gpus.enabled()) {
    spec.env["CUDA_VISIBLE_DEVICES"] = gpu_list(gpus);
    spec.env["HPT_GPUS"] = gpu_list(gpus);
  }
  // Defaults that hpt's own environment overrides (workers inherit it):
  // - OMP_NUM_THREADS: the workers running at once share this host's cores. LibTorch's and
  //   NumPy's OpenMP use one thread per core by default, so `jobs` workers would each spin
  //   that many threads on the same cores; each gets its share.
  // - PYTHONUNBUFFERED: Python buffers print() to a pipe in 8 KiB blocks, so a script that
  //   does not flush would deliver its step lines only when it exits, too late to be pruned.
  //   An unusable one (100000 crashed LibTorch) is replaced too; preflight() said so once.
  if (!omp_threads_env().threads) {
    spec.env["OMP_NUM_THREADS"] = std::to_string(workers_omp_threads());
  }
  if (std::getenv("PYTHONUNBUFFERED") == nullptr) {
    spec.env["PYTHONUNBUFFERED"] = "1";
  }
  spec.log_path = trial_log(trial.number);
  spec.trial_number = trial.number;
  return spec;
}

bool Orchestrator::launch_one() {
  auto trial = claim_next();
  if (!trial) {
    return false;
  }
  choose_params(*trial);
  m_trials_stale = true;  // Its parameters are new: the next claim must see them.
  remake_study_dir();
  auto r = std::make_unique<RunningTrial>();
  r->trial = std::move(*trial);
  r->started = m_workers.now();
  r->gpus = m_gpus.acquire().value_or(std::vector<int>{});  // launch_some checked available().
  try {
    r->worker = m_workers.start(worker_spec(r->trial, r->gpus));
  } catch (const StartError& e) {  // Counts as a failure; nothing of it is left running.
    r->stop_reason = e.what();
    finish(*r, WorkerResult{});
    return true;
  }
  // The parameters the worker gets (a resumed trial may hold one the space no longer has).
  Json searched = Json::object();
  const Json params = r->trial.external_params();  // Kept: items() refers to it.
  for (const auto& [name, value] : params.items()) {
    if (m_config.search_space_has(name)) {
      searched[name] = value;
    }
  }
  m_progress.started(r->trial.number, searched);
  m_running.push_back(std::move(r));
  return true;
}

void Orchestrator::launch_some() {
  while (g_stop_signals == 0 && m_failures < m_config.max_failures &&
         static_cast<int>(m_running.size()) < m_config.jobs && m_gpus.available() &&
         m_workers.now() >= m_next_launch && !past_deadline() && launch_one()) {
  }
}

void Orchestrator::refresh_trials() {
  m_trials.reset();  // The snapshot is copy-on-write: drop ours before asking again.
  m_trials = m_storage.trials_snapshot(m_study_id);
  m_trials_read = m_workers.now();
  m_trials_stale = false;
}

const std::vector<FrozenTrial>& Orchestrator::pruner_trials() {
  if (!m_trials || m_trials_stale || m_workers.now() - m_trials_read > std::chrono::seconds(1)) {
    refresh_trials();
  }
  return *m_trials;
}

void Orchestrator::terminate(RunningTrial& r) {
  m_workers.signal(r.worker, SIGTERM);
  r.term_sent = m_workers.now();
}

void Orchestrator::stop_trial(RunningTrial& r, const std::string& reason) {
  if (r.pruned || r.final || !r.stop_reason.empty()) {
    return;
  }
  r.stop_reason = reason;
  terminate(r);
}

void Orchestrator::handle_line(RunningTrial& r, const StdoutLine& line) {
  const WorkerLine parsed =
      parse_worker_line(line.text, line.truncated, m_config.directions.size());
  if (parsed.kind == WorkerLine::Kind::Log) {
    log_output(r, line, parsed.near_miss);
    return;
  }
  if (r.pruned || r.final || !r.stop_reason.empty()) {
    m_workers.log(r.worker, fmt::format("[hpt: ignored, the trial's result was already decided: "
                                        "{}]\n",
                                        line.text));
    return;
  }
  if (parsed.kind == WorkerLine::Kind::Error) {
    stop_trial(r, parsed.error);
    return;
  }
  const WorkerMessage& msg = parsed.message;
  if (!parsed.note.empty()) {
    m_workers.log(r.worker, "[hpt: " + parsed.note + "]\n");
  }
  if (msg.constraints && !keep_constraints(r, *msg.constraints)) {
    return;
  }
  if (msg.kind == WorkerMessage::Kind::Final) {
    r.final = msg;
    r.final_at = m_workers.now();
    return;
  }
  handle_step(r, msg);
}

void Orchestrator::log_output(RunningTrial& r, const StdoutLine& line,
                              const std::string& near_miss) {
  m_workers.log(r.worker,
                line.truncated ? line.text + "\n[hpt: line cut at 1 MiB]\n" : line.text + "\n");
  r.line_cut |= line.truncated;
  if (!near_miss.empty() && r.near_miss.empty()) {
    r.near_miss = near_miss;
    m_workers.log(r.worker, "[hpt: not read as a protocol line: " + near_miss + "]\n");
  }
}

bool Orchestrator::keep_constraints(RunningTrial& r, const std::vector<double>& constraints) {
  // The study's trials are read only for a count not yet seen: a worker reporting
  // constraints on every step line must not cost a pass over the study each.
  const size_t count = constraints.size();
  if (m_constraints_count != count) {
    if (!m_trials) {
      refresh_trials();
    }
    if (const std::string problem = constraints_count_problem(count, *m_trials); !problem.empty()) {
      stop_trial(r, "protocol error: " + problem);
      return false;
    }
    m_constraints_count = count;
  }
  r.constraints = constraints;
  return true;
}

void Orchestrator::handle_step(RunningTrial& r, const WorkerMessage& msg) {
  for (const auto& [key, value] : msg.user_attrs.items()) {  // Stored with the steps.
    r.unstored_attrs[key] = value;
  }
  if (step_dropped(r, msg.step)) {
    return;
  }
  r.unstored_steps.emplace_back(msg.step, msg.value);
  r.trial.intermediate_values[msg.step] = msg.value;
  ask_pruner(r, msg.step);
}

bool Orchestrator::step_dropped(RunningTrial& r, int64_t step) {
  if (static_cast<int64_t>(r.trial.intermediate_values.size()) >= m_config.max_steps &&
      !r.trial.intermediate_values.count(step)) {
    if (!r.steps_capped) {
      r.steps_capped = true;
      const std::string why = fmt::format(
          "trial {} reported more than {} steps (objective.max_steps): later steps are not "
          "stored or judged; its final value still counts",
          r.trial.number, m_config.max_steps);
      m_workers.log(r.worker, "[hpt: " + why + "]\n");
      m_progress.note(why);
    }
    return true;
  }
  if (r.trial.intermediate_values.count(step)) {  // Optuna: the first value is kept.
    m_workers.log(
        r.worker,
        fmt::format("[hpt: step {} was already reported; its first value is kept]\n", step));
    return true;
  }
  return false;
}

void Orchestrator::ask_pruner(RunningTrial& r, int64_t step) {
  const PruneDecision decision = m_pruner->decide(
      PruneContext{m_config.direction, &pruner_trials(), m_config.name, step}, r.trial);
  for (const auto& [key, value] : decision.system_attrs) {  // Successive halving's rungs.
    try {
      m_storage.set_trial_system_attr(r.trial.id, key, value);
    } catch (const StorageError& e) {
      if (e.database_wide()) {
        throw;  // The study stops; its trials run again on resume (see store_steps).
      }
      stop_trial(r, fmt::format("storing {} failed: {}", key, e.what()));
      return;
    }
    r.trial.system_attrs[key] = value;
    m_trials_stale = true;  // The next decision, another trial's, must see this rung.
  }
  if (decision.prune) {
    r.pruned = true;
    terminate(r);
  }
}

void Orchestrator::store_steps(RunningTrial& r) {
  const bool new_log = !r.log_stored && m_workers.has_log(r.worker);
  if (r.unstored_steps.empty() && r.unstored_attrs.empty() && !new_log) {
    return;
  }
  check_study_kept();
  const char* what = "intermediate values";
  try {
    if (new_log) {
      what = "the log's path";
      m_storage.set_trial_system_attr(r.trial.id, k_log_attr, trial_log_attr(r.trial.number));
      r.log_stored = true;
      what = "intermediate values";
    }
    if (!r.unstored_steps.empty()) {
      m_storage.set_trial_intermediate_values(r.trial.id, r.unstored_steps);
    }
    what = "user_attrs";
    for (const auto& [key, value] : r.unstored_attrs) {
      m_storage.set_trial_user_attr(r.trial.id, key, value);
      r.trial.user_attrs[key] = value;
    }
  } catch (const StorageError& e) {  // Refused for these values: this trial fails, not the study.
    if (e.database_wide()) {
      // A full disk or a database refusing every write is no fault of the trial's: the run
      // stops in one line, and the next run re-runs its trials (they were recorded FAIL).
      throw;
    }
    r.pruned = false;  // Whatever was decided, the trial fails.
    r.stop_reason = fmt::format("storing {} failed: {}", what, e.what());
    terminate(r);
  }
  r.unstored_steps.clear();
  r.unstored_attrs.clear();
}

bool Orchestrator::store_outcome(const RunningTrial& r, const WorkerResult& worker,
                                 TrialOutcome& o) {
  const int64_t id = r.trial.id;
  // Another hpt re-claims a trial only once its heartbeat is heartbeat_grace old, so only a
  // trial that ran that long (this process stopped or stalled) is checked first; one finished
  // elsewhere meanwhile refuses the writes below, and finish() drops it then.
  const double ran = std::chrono::duration<double>(m_workers.now() - r.started).count();
  if (ran > m_config.heartbeat_grace && !still_ours(id)) {
    return false;
  }
  if (r.final) {
    try {
      for (const auto& [k, v] : r.final->user_attrs.items()) {
        m_storage.set_trial_user_attr(id, k, v);
      }
    } catch (const StorageError& e) {  // Refused for these values: this trial fails.
      if (e.database_wide()) {
        throw;  // See store_steps.
      }
      o.fail(fmt::format("storing user_attrs failed: {}", e.what()));
    }
  }
  const Json attrs = outcome_attrs(r, worker, o);
  const Json owner = m_owner.to_json();
  return m_config.multi_objective()
             ? m_storage.set_trial_state_values(id, o.state, o.values, &owner, &attrs)
             : m_storage.set_trial_state_values(id, o.state, o.value, &owner, &attrs);
}

Json Orchestrator::outcome_attrs(const RunningTrial& r, const WorkerResult& worker,
                                 const TrialOutcome& o) {
  Json attrs = Json::object();
  if (!worker.log_problem.empty()) {
    if (!m_log_problem_noted) {  // Once: a full disk would repeat it for every trial.
      m_log_problem_noted = true;
      m_progress.note(fmt::format("trial {}: {} (the study goes on; hpt:log_problem records it)",
                                  r.trial.number, worker.log_problem));
    }
    attrs[k_log_problem_attr] = worker.log_problem;
  }
  if (worker.has_log) {  // Made since the last store_steps, or written there already.
    attrs[k_log_attr] = trial_log_attr(r.trial.number);
  }
  if (ended_after_final(r, o)) {
    attrs[k_ended_after_final_attr] = r.stop_reason;
  }
  if (o.constraints) {
    attrs[k_constraints_attr] = *o.constraints;
    if (m_sampler->ignores_constraints() && !m_constraints_noted) {
      m_constraints_noted = true;
      m_progress.note(fmt::format(
          "trial {} reported constraints; the {} sampler does not use them (tpe and nsga2 do). "
          "Best trials are the feasible ones all the same",
          r.trial.number, m_config.sampler_type));
    }
  }
  if (o.state == TrialState::Fail) {
    attrs[k_fail_reason_attr] = o.reason;
    attrs[k_stderr_tail_attr] = trimmed_tail(worker.stderr_tail);
    if (retry_due(r.trial)) {  // With the FAIL: count_failure's retry is a second write.
      attrs[k_retry_due_attr] = true;
    }
  }
  return attrs;
}

namespace {

// Which try of its parameters trial is: 0 for a first try, 1 for its first retry, ...
int64_t attempt_of(const FrozenTrial& trial) {
  const auto a = trial.system_attrs.find(k_attempt_attr);
  return a != trial.system_attrs.end() && a->second.is_number_integer() ? a->second.get<int64_t>()
                                                                        : 0;
}

}  // namespace

bool Orchestrator::retry_due(const FrozenTrial& failed) const {
  return attempt_of(failed) < m_config.retries;
}

void Orchestrator::make_retry(const FrozenTrial& failed) {
  FrozenTrial retry;
  retry.state = TrialState::Waiting;
  retry.params = failed.params;
  retry.distributions = failed.distributions;
  retry.system_attrs[k_attempt_attr] = attempt_of(failed) + 1;
  retry.system_attrs[k_retry_of_attr] = failed.number;
  m_storage.create_trial(m_study_id, retry);
}

void Orchestrator::count_failure(const RunningTrial& r, const std::string& reason) {
  ++m_failures;
  m_last_failure = fmt::format("trial {}: {}", r.trial.number, reason);
  if (retry_due(r.trial)) {
    make_retry(r.trial);
  }
}

void Orchestrator::restore_lost_retries() {
  if (m_config.retries == 0) {
    return;
  }
  const auto trials = m_storage.get_all_trials(m_study_id);
  std::set<int64_t> retried;  // Numbers of the trials that have a retry.
  for (const auto& t : trials) {
    const auto of = t.system_attrs.find(k_retry_of_attr);
    if (of != t.system_attrs.end() && of->second.is_number_integer()) {
      retried.insert(of->second.get<int64_t>());
    }
  }
  std::vector<int> restored;
  for (const auto& t : trials) {
    const auto due = t.system_attrs.find(k_retry_due_attr);
    if (t.state != TrialState::Fail || due == t.system_attrs.end() || due->second != true ||
        retried.count(t.number)) {
      continue;
    }
    // Its last heartbeat came before it failed: older than the grace, it failed that long ago.
    const bool gone = owner_gone(t, !just_reconnected()).value_or(false);
    const Json me = m_owner.to_json();
    if (!gone ||
        m_storage.study_system_attr_once(
            m_study_id, k_retry_restored_attr_prefix + std::to_string(t.number), me) != me) {
      continue;
    }
    make_retry(t);
    restored.push_back(t.number);
  }
  if (!restored.empty()) {
    m_progress.note(fmt::format(
        "{} {} failed and {} due a retry (study.retries) that the run which failed {} never made "
        "(it stopped first); made now",
        restored.size() == 1 ? "trial" : "trials", fmt::join(restored, ", "),
        restored.size() == 1 ? "was" : "were", restored.size() == 1 ? "it" : "them"));
  }
}

void Orchestrator::finish(RunningTrial& r, const WorkerResult& worker) {
  TrialOutcome o = trial_outcome(r, worker, m_config.multi_objective());
  m_gpus.release(r.gpus);
  m_trials_stale = true;
  bool stored = false;
  try {
    stored = store_outcome(r, worker, o);
  } catch (const StorageError& e) {
    // A database gone for good stops the run at once (asking it again would wait again).
    if (e.database_wide()) {
      throw;
    }
    if (still_ours(r.trial.id)) {  // Another process finished it between our writes.
      throw;
    }
  }
  if (!stored) {
    m_progress.note(fmt::format("trial {} was taken over by another process; its result is dropped",
                                r.trial.number));
    return;
  }
  if (o.state == TrialState::Fail) {
    count_failure(r, o.reason);
  }
  m_run_finished += o.state == TrialState::Complete || o.state == TrialState::Pruned ? 1 : 0;
  const auto now = m_workers.now();
  const bool quick_failure = o.state == TrialState::Fail && now - r.started < k_quick_failure;
  m_quick_failures = quick_failure ? m_quick_failures + 1 : 0;
  m_next_launch = now + failure_backoff(m_quick_failures);
  const double elapsed = std::chrono::duration<double>(now - r.started).count();
  m_progress.finished(r.trial.number, o.state, o.value, o.reason, elapsed, o.values, done_trials(),
                      o.constraints);
  if (ended_after_final(r, o)) {
    m_progress.note(
        fmt::format("trial {} keeps its final value; its worker was ended before it exited: {}",
                    r.trial.number, r.stop_reason));
  }
}

bool Orchestrator::status_line_due() {
  if (!m_options.interactive || m_workers.now() - m_last_tick < milliseconds(250)) {
    return false;
  }
  m_last_tick = m_workers.now();
  return true;
}

void Orchestrator::heartbeat() {
  // Every 5 s, and three times within heartbeat_grace however short it is: other hosts re-run
  // a trial whose heartbeat is older than the grace, so a live one must never look that old.
  const auto interval = std::min<Duration>(
      std::chrono::seconds(5), std::chrono::duration_cast<Duration>(
                                   std::chrono::duration<double>(m_config.heartbeat_grace / 3)));
  if (m_workers.now() - m_last_heartbeat < interval) {
    return;
  }
  m_last_heartbeat = m_workers.now();
  check_study_kept(true);
  for (const auto& r : m_running) {
    m_storage.record_heartbeat(r->trial.id);
  }
}

void Orchestrator::check_timeouts() {
  const auto now = m_workers.now();
  for (auto& r : m_running) {
    if (!r->term_sent && m_config.timeout &&
        std::chrono::duration<double>(now - r->started).count() > *m_config.timeout) {
      r->stop_reason = fmt::format("timed out after {} s (objective.timeout)", *m_config.timeout);
      if (r->final_at) {  // Its value came, but a trial's result counts once its worker exits.
        r->stop_reason += fmt::format(", {:.1f} s after it printed its final value without exiting",
                                      std::chrono::duration<double>(now - *r->final_at).count());
      }
      terminate(*r);
    }
    if (r->final_at && !r->term_sent && !r->linger_noted &&
        now - *r->final_at > k_linger_note_after) {
      r->linger_noted = true;
      m_progress.note(fmt::format(
          "trial {} printed its final value {:.0f} s ago, but its worker has not exited (a "
          "result counts once it does; {})",
          r->trial.number, std::chrono::duration<double>(now - *r->final_at).count(),
          m_config.timeout ? "objective.timeout ends it" : "Ctrl-C ends it and keeps the value"));
    }
    if (r->term_sent && now - *r->term_sent > std::chrono::seconds(3)) {
      m_workers.signal(r->worker, SIGKILL);
    }
  }
}

void Orchestrator::stop_if_asked() {
  const std::optional<unsigned> ctrl_z = take_ctrl_z();
  if (!ctrl_z) {
    return;
  }
  // A script's `kill -TSTP; kill -CONT` sends both within microseconds: the continue is given
  // time to come before anything is stopped, and is looked for again just before.
  const auto wanted = [at = *ctrl_z] { return g_stop_signals == 0 && !continued_since(at); };
  std::this_thread::sleep_for(k_ctrl_z_settle);
  if (!wanted()) {
    return;
  }
  const size_t n = m_running.size();
  m_progress.note(fmt::format("stopped (Ctrl-Z) with {} running {}; fg continues", n,
                              n == 1 ? "trial" : "trials"));
  const double seconds = std::chrono::duration<double>(m_workers.stop_with_workers(wanted)).count();
  m_progress.note(
      fmt::format("continued after {:.0f} s{}", seconds,
                  n > 0 && m_config.timeout ? " (not counted in objective.timeout)" : ""));
  m_last_heartbeat = TimePoint{};  // None was written while stopped: one is due now.
}

void Orchestrator::pause(Duration d) {
  const auto until = m_workers.now() + d;
  while (g_stop_signals == 0 && m_workers.now() < until) {
    stop_if_asked();
    m_workers.wait(std::min(
        std::chrono::duration_cast<milliseconds>(until - m_workers.now()) + milliseconds(1),
        milliseconds(20)));
  }
}

// Ends every worker and hands its trial back as WAITING, so a resume re-runs it; a trial whose
// result was decided (its final value came, the pruner stopped it, it timed out or broke the
// protocol) and whose worker was still exiting keeps that result instead.
void Orchestrator::stop_all(bool immediately) {
  const TimePoint stopped_at = m_workers.now();
  for (auto& r : m_running) {
    m_workers.signal(r->worker, immediately ? SIGKILL : SIGTERM);
  }
  const auto deadline = m_workers.now() + std::chrono::seconds(immediately ? 0 : 3);
  // A database that cannot be written (a full disk) fails each trial's write: every worker is
  // still ended, then the first failure is thrown.
  std::exception_ptr failure;
  for (auto& r : m_running) {
    try {
      while (!m_workers.finished(r->worker) && m_workers.now() < deadline && !stop_now()) {
        for (const auto& line : m_workers.read_lines(r->worker)) {  // Drained so it can exit.
          handle_line(*r, line);  // A final value printed as it stops is kept.
        }
        m_workers.wait(milliseconds(20));
      }
      if (r->final || r->pruned || !r->stop_reason.empty()) {
        const WorkerResult result = m_workers.reap(r->worker);
        if (r->final && r->stop_reason.empty() &&
            !result.exit_problem.empty()) {  // Not just exiting by itself.
          r->stop_reason =
              fmt::format("ended by a stop signal {:.1f} s after it printed its final value",
                          std::chrono::duration<double>(stopped_at - *r->final_at).count());
        }
        finish(*r, result);
        continue;
      }
      m_workers.reap(r->worker);  // Kills the group if it is still alive.
      m_gpus.release(r->gpus);
      const Json owner = m_owner.to_json();  // Not one another process re-claimed meanwhile.
      m_storage.set_trial_state_values(r->trial.id, TrialState::Waiting, std::nullopt, &owner);
    } catch (const StorageError&) {
      failure = failure ? failure : std::current_exception();
    }
  }
  m_running.clear();
  if (failure) {
    std::rethrow_exception(failure);
  }
}

int Orchestrator::interrupted() {
  m_progress.note(stop_now() ? "interrupted again: stopping now"
                             : "interrupted: ending running trials (Ctrl-C again to stop now)");
  stop_all(stop_now());
  m_progress.end();
  m_out << "hpt: interrupted; run the same command again to resume the study\n";
  return k_exit_interrupted;
}

void Orchestrator::remake_study_dir() {
  std::error_code ec;
  if (std::filesystem::is_directory(m_study_dir, ec)) {
    return;
  }
  try {
    create_folder(m_study_dir);
    record_trials_base(m_config);
    record_folder_study_key(m_study_dir, m_study_key);
    m_progress.note(fmt::format("the trials folder '{}' was deleted: made it again", m_study_dir));
  } catch (const std::exception&) {
  }
}

bool Orchestrator::database_file_moved() {
  if (m_workers.now() - m_file_checked < std::chrono::seconds(1)) {
    return false;
  }
  m_file_checked = m_workers.now();
  return m_storage.file_moved();
}

std::optional<int> Orchestrator::rescue_after(const StorageError& e) {
  if (!e.database_wide() || !m_storage.file_moved()) {
    return std::nullopt;
  }
  return rescue_study(e.what());
}

int Orchestrator::rescue_study(const std::string& cause) {
  namespace fs = std::filesystem;
  const std::string path = sqlite_file_of(m_config.storage).value_or(m_config.storage);
  m_progress.note(
      fmt::format("{}the study database '{}' is gone from its path: ending the running "
                  "trials to save the study",
                  cause.empty() ? "" : cause + "; ", path));
  // Trials that cannot be ended in the database (it is on a full disk too) stay RUNNING in the
  // copy: a resume runs them again, as after a crash.
  std::string not_ended;
  try {
    stop_all(false);
  } catch (const StorageError& e) {
    not_ended = e.what();
  }
  m_progress.end();
  // Where the file was: through a dangling symbolic link, the link's target.
  std::error_code ec;
  const fs::path home = link_target(fs::absolute(path, ec).string());
  std::vector<std::string> problems;
  const std::string saved = save_study_copy(home, problems);
  if (saved.empty()) {
    m_out << terminal_text(fmt::format(
                 "hpt: error: the study database '{}' was deleted, moved or replaced while the "
                 "study ran, and the study could NOT be saved ({}); its trials are lost when hpt "
                 "exits",
                 path, fmt::join(problems, "; ")))
          << "\n";
    return 1;
  }
  const bool back = saved == home.string();
  m_out << terminal_text(fmt::format(
               "hpt: error: the study database '{}' was deleted, moved or replaced while the study "
               "ran; the study, every trial in it, is saved {} ({}){}",
               path, back ? "back at '" + saved + "'" : "as '" + saved + "'",
               not_ended.empty() ? "its running trials are WAITING"
                                 : "its running trials could not be ended (" + not_ended +
                                       ") and run again on a resume",
               back ? ": run the same command to resume"
                    : fmt::format(": give --storage {} to resume it", saved)))
        << "\n";
  return 1;
}

std::string Orchestrator::save_study_copy(const std::filesystem::path& home,
                                          std::vector<std::string>& problems) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const fs::path& dir :
       {home.parent_path(), fs::current_path(ec), fs::temp_directory_path(ec)}) {
    fs::path target = dir / home.filename();
    for (int n = 1; fs::exists(fs::symlink_status(target, ec)); ++n) {
      target =
          dir / (home.filename().string() + ".recovered" + (n == 1 ? "" : fmt::format("-{}", n)));
    }
    // Written under a temporary name and linked into place: no half-written copy takes it.
    const std::string temp = fmt::format("{}.hpt-copy-{}", target.string(), ::getpid());
    try {
      create_folder(dir.string());
      m_storage.save_copy(temp);
    } catch (const std::exception& e) {
      problems.push_back(e.what());
      for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {  // What a failed copy left.
        ::unlink((temp + suffix).c_str());
      }
      continue;
    }
    const std::string saved = ::link(temp.c_str(), target.c_str()) == 0 ? target.string() : temp;
    if (saved != temp) {
      ::unlink(temp.c_str());
    }
    return saved;
  }
  return "";
}

int Orchestrator::done_trials() {
  if (m_run_quota) {  // --trials +K: the study at the start and what this run added.
    return m_done_at_start + m_run_finished;
  }
  return study_done_trials();
}

int Orchestrator::study_done_trials() {
  return m_storage.count_trials(m_study_id, {TrialState::Complete, TrialState::Pruned});
}

std::optional<int> Orchestrator::idle(bool& waiting_note) {
  if (m_failures >= m_config.max_failures) {
    m_progress.end();
    m_out << terminal_text(fmt::format("hpt: error: stopping after {} failed trials in this run "
                                       "(study.max_failures = {}); last failure: {}",
                                       m_failures, m_config.max_failures, m_last_failure))
          << "\n";
    return k_exit_failures;
  }
  if (done_trials() >= m_options.trials) {
    note_orphans_left();
    m_progress.end();
    summarize();
    return k_exit_ok;
  }
  if (past_deadline()) {
    return budget_spent();
  }
  if (sampler_exhausted() &&
      m_storage.count_trials(m_study_id, {TrialState::Running, TrialState::Waiting}) == 0) {
    m_progress.end();
    m_out << fmt::format(
        "hpt: every point of the grid has been run: the study ends with {} "
        "finished trials{}\n",
        study_done_trials(),
        m_options.trials == k_unbounded_trials
            ? ""
            : fmt::format(" (--trials {} asks for more; a larger grid gives more)",
                          m_options.trials));
    summarize();
    return k_exit_ok;
  }
  const auto backoff = m_next_launch - m_workers.now();
  if (backoff > Duration::zero()) {
    pause(backoff);
    return std::nullopt;
  }
  if (!waiting_note) {
    m_progress.note(
        m_unchecked.empty()
            ? std::string("waiting for trials running in other processes")
            : fmt::format(
                  "waiting for trials running in other processes; {} {} {} no hpt owner and no "
                  "heartbeat (asked by hpt ask, or an Optuna process's), so whether it still runs "
                  "cannot be told: finish it with hpt tell, or give a larger --trials",
                  m_unchecked.size() == 1 ? "trial" : "trials", fmt::join(m_unchecked, ", "),
                  m_unchecked.size() == 1 ? "has" : "have"));
    waiting_note = true;
  }
  pause(m_deadline ? std::min<Duration>(milliseconds(500), *m_deadline - m_workers.now())
                   : Duration(milliseconds(500)));
  return std::nullopt;
}

void Orchestrator::summarize() {
  m_progress.summary(m_storage.get_all_trials(m_study_id, {TrialState::Complete}),
                     m_config.directions, reports::log_folders(m_config.storage, {}));
}

int Orchestrator::budget_spent() {
  m_progress.end();
  const int done = study_done_trials();
  m_out << fmt::format(
      "hpt: --timeout {} spent: the study has {} finished trials{} ({} more than at the start{})\n",
      Progress::format_budget(*m_options.time_budget), done,
      m_options.trials == k_unbounded_trials || m_run_quota
          ? ""
          : fmt::format(" of --trials {}", m_options.trials),
      done - m_done_at_start,
      m_run_quota ? fmt::format(", {} of --trials +{} by this run", m_run_finished, *m_run_quota)
                  : "");
  summarize();
  return k_exit_ok;
}

void Orchestrator::service_workers() {
  milliseconds wait{100};
  const auto backoff = m_next_launch - m_workers.now();
  if (backoff > Duration::zero() && m_failures < m_config.max_failures) {
    wait = std::min(wait, std::chrono::duration_cast<milliseconds>(backoff) + milliseconds(1));
  }
  m_workers.wait(wait);
  for (auto& r : m_running) {
    // Every line read is handled, after a stop signal too (a read is bounded): a final value
    // among them keeps its trial COMPLETE.
    for (const auto& line : m_workers.read_lines(r->worker)) {
      handle_line(*r, line);
    }
    store_steps(*r);
  }
  if (g_stop_signals > 0) {
    return;  // stop_all ends them: one killed by the same signal (SLURM's) is handed back.
  }
  for (auto it = m_running.begin(); it != m_running.end();) {
    if (m_workers.finished((*it)->worker)) {
      finish(**it, m_workers.reap((*it)->worker));
      it = m_running.erase(it);
    } else {
      ++it;
    }
  }
  check_timeouts();
  heartbeat();
  if (status_line_due()) {  // Other processes' trials count too: ask the storage.
    m_progress.tick(static_cast<int>(m_running.size()), done_trials());
  }
}

FrozenTrial Orchestrator::ask(const std::function<void(const FrozenTrial&)>& publish) {
  preflight();
  open_study();
  enqueue_trials();
  SignalDeferral deferral;   // Ctrl-C takes effect once the trial is published (or handed back).
  if (g_stop_signals > 0) {  // One that came earlier (under the command's StopSignals).
    throw std::runtime_error("stopped by a signal before a trial was claimed");
  }
  // Claimed as a run claims (an orphan too), so that a trial this ask leaves half made (killed,
  // a full disk) is an orphan of a dead owner that the next ask or run takes; once whole, it is
  // the caller's (disown_trial). Only a kill between that write and the print loses it.
  auto trial = claim_next();
  if (!trial) {
    throw std::runtime_error(
        claim_limit() < k_unbounded_trials
            ? fmt::format("every point of the grid of study '{}' has a trial: nothing to ask",
                          terminal_text(m_config.name))
            : fmt::format("study '{}' cannot take another trial", terminal_text(m_config.name)));
  }
  try {
    choose_params(*trial);
    m_storage.disown_trial(trial->id);
    trial->system_attrs[k_owner_attr] = Json();
    publish(*trial);
  } catch (...) {
    try {
      m_storage.set_trial_state_values(trial->id, TrialState::Waiting, std::vector<double>{});
      m_progress.note(
          fmt::format("trial {} is WAITING again: the next ask or run takes it", trial->number));
    } catch (const std::exception&) {  // The error that got here is the one to tell.
      m_progress.note(
          fmt::format("trial {} is left RUNNING: the next ask or run takes it once "
                      "this process has ended",
                      trial->number));
    }
    throw;
  }
  return *trial;
}

int Orchestrator::run() {
  preflight();
  open_study();
  m_done_at_start = study_done_trials();
  if (m_options.more_trials) {
    m_run_quota = m_options.trials;
    m_options.trials = static_cast<int>(std::min<int64_t>(
        int64_t{m_done_at_start} + m_options.trials, std::numeric_limits<int>::max()));
  }
  if (m_options.time_budget) {
    m_deadline = m_workers.now() + std::chrono::duration_cast<Duration>(
                                       std::chrono::duration<double>(*m_options.time_budget));
  }
  m_progress.begin(m_config.name, m_config.direction, m_options.trials, m_done_at_start,
                   m_options.time_budget);
  enqueue_trials();
  restore_lost_retries();
  for (const auto& t : m_storage.get_all_trials(m_study_id, {TrialState::Complete})) {
    if (is_best_candidate(t, 1)) {
      m_progress.record_best(t.number, *t.value);
    }
  }
  bool waiting_note = false;
  while (true) {
    stop_if_asked();
    if (g_stop_signals > 0) {
      return interrupted();
    }
    if (database_file_moved()) {
      return rescue_study();
    }
    launch_some();
    if (g_stop_signals > 0) {
      continue;
    }
    if (past_deadline() && !m_running.empty() && !m_deadline_noted) {
      m_deadline_noted = true;
      m_progress.note(fmt::format(
          "--timeout {} spent: no new trials; waiting for the {} running to finish (Ctrl-C "
          "hands {} back)",
          Progress::format_budget(*m_options.time_budget), m_running.size(),
          m_running.size() == 1 ? "it" : "them"));
    }
    if (m_running.empty()) {
      if (auto code = idle(waiting_note)) {
        return *code;
      }
      continue;
    }
    waiting_note = false;
    service_workers();
  }
}

// o.run(), or k_exit_interrupted when a second stop signal made the database give up waiting
// (for another process's lock, or for a server to come back): its running trials stay
// RUNNING, and the next run re-runs them.
int run_guarded(Orchestrator& o, std::ostream& out) {
  try {
    return o.run();
  } catch (const StorageError& e) {
    if (g_stop_signals.load() == 0) {
      if (const auto code = o.rescue_after(e)) {
        return *code;
      }
      if (!e.database_wide()) {
        // A read or write refused because the study was deleted (delete-study --force): said so,
        // whichever call found it first.
        o.check_study_kept(true);
      }
      throw;
    }
    // What the database said (locked by another process, unreachable, a full disk): a full
    // disk was blamed on a lock.
    out << terminal_text(fmt::format("\nhpt: interrupted, and the database was not written ({}); "
                                     "run the same command again to resume the study (its "
                                     "running trials are run again)",
                                     e.what()))
        << "\n";
    return k_exit_interrupted;
  }
}

}  // namespace

int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out, WorkerSet& workers) {
  SignalGuard guard;
  Orchestrator o(config, storage, options, out, workers);
  return run_guarded(o, out);
}

FrozenTrial ask_trial(const StudyConfig& config, Storage& storage, const RunOptions& options,
                      std::ostream& out, const std::function<void(const FrozenTrial&)>& publish) {
  ProcessWorkerSet workers;        // Starts none.
  RunOptions unbounded = options;  // An ask makes a trial whatever --trials a run would give.
  unbounded.trials = k_unbounded_trials;
  Orchestrator o(config, storage, unbounded, out, workers);
  return o.ask(publish);
}

int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out) {
  SignalGuard guard;  // Before the workers: a signal while they end is still caught.
  ProcessWorkerSet workers;
  Orchestrator o(config, storage, options, out, workers);
  return run_guarded(o, out);
}

}  // namespace hpt
