#include "hpt/engine/orchestrator.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <thread>

#include "hpt/engine/device_check.hpp"
#include "hpt/engine/enqueue.hpp"
#include "hpt/engine/gpu_pool.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/study_match.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/engine/worker_set.hpp"
#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/stop_signals.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/rng.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

namespace {

using TimePoint = WorkerSet::TimePoint;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::milliseconds;

// A worker still running this long after its final value is said to linger, once.
constexpr auto k_linger_note_after = std::chrono::seconds(30);

// How long after Ctrl-Z hpt waits for a SIGCONT that would cancel it (stop_if_asked).
constexpr auto k_ctrl_z_settle = std::chrono::milliseconds(20);

extern "C" void on_stop_signal(int) { g_stop_signals.fetch_add(1); }

// Ctrl-Z (SIGTSTP) asked the study to stop with its workers (Orchestrator::stop_if_asked),
// unless a SIGCONT came after it (g_continued moved on since g_ctrl_z_at): `kill -TSTP; kill
// -CONT` in a script must not leave the study stopped with nobody to continue it.
std::atomic<bool> g_ctrl_z{false};
std::atomic<unsigned> g_continued{0};
std::atomic<unsigned> g_ctrl_z_at{0};
extern "C" void on_ctrl_z(int) {
  g_ctrl_z_at = g_continued.load();
  g_ctrl_z = true;
}
extern "C" void on_continue(int) { g_continued.fetch_add(1); }

// Installs the stop handlers for the lifetime of the guard: SIGINT, SIGTERM, SIGHUP (a closed
// terminal or SSH session stops the study as Ctrl-C does; a study started under nohup, with
// SIGHUP ignored, keeps ignoring it), SIGQUIT (Ctrl-\: it used to kill hpt and leave its
// trials RUNNING), SIGUSR1/SIGUSR2 (a batch system's warning before its time limit) and
// SIGALRM. They count in g_stop_signals (stop_signals.hpp). Ctrl-Z (SIGTSTP, unless
// ignored) sets g_ctrl_z: the workers run in process groups of their own, which the terminal's
// Ctrl-Z does not reach, so hpt stops them itself.
}  // namespace

// Guards nest: only the outermost installs the handlers, resets the count and restores them,
// so a signal caught before the study opened (StopSignals) is still counted when it runs.
class SignalGuard {
 public:
  SignalGuard() {
    if (s_depth++ > 0) {
      return;
    }
    m_outer = true;
    g_stop_signals = 0;
    g_ctrl_z = false;
    for (size_t i = 0; i < k_stop_signal_numbers.size(); ++i) {
      install(i, k_stop_signal_numbers[i], on_stop_signal);
    }
    install(k_stop_signal_numbers.size(), SIGTSTP, on_ctrl_z);
    install(k_stop_signal_numbers.size() + 1, SIGCONT, on_continue);
  }
  ~SignalGuard() {
    --s_depth;
    if (!m_outer || g_stop_signals > 0) {
      return;  // Interrupted: a further Ctrl-C while hpt exits must not kill it mid-way.
    }
    for (size_t i = 0; i < k_count; ++i) {
      if (m_installed[i] != 0) {
        sigaction(m_installed[i], &m_old[i], nullptr);
      }
    }
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  void install(size_t i, int sig, void (*handler)(int)) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    // Kept ignored: SIGHUP under nohup, SIGTSTP from a shell without job control.
    if ((sig == SIGHUP || sig == SIGTSTP) && old.sa_handler == SIG_IGN) {
      return;
    }
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    // Each of the pair holds the other back, so their handlers run in the order they came: else
    // a SIGCONT that came while the kernel was delivering a SIGTSTP runs first (its frame is the
    // later one), and the stop it should cancel went ahead.
    sigaddset(&sa.sa_mask, SIGTSTP);
    sigaddset(&sa.sa_mask, SIGCONT);
    sigaction(sig, &sa, &m_old[i]);
    m_installed[i] = sig;
  }

  static constexpr size_t k_count = k_stop_signal_numbers.size() + 2;
  static inline int s_depth = 0;  // Guards alive (one thread: the command's).
  bool m_outer = false;
  std::array<struct sigaction, k_count> m_old{};
  std::array<int, k_count> m_installed{};  // The signal whose handler is at i, or 0.
};

StopSignals::StopSignals() : m_guard(std::make_unique<SignalGuard>()) {}
StopSignals::~StopSignals() = default;

bool StopSignals::caught() const { return g_stop_signals.load() > 0; }

namespace {

std::optional<std::string> database_file(const StudyConfig& config) {
  return study_database_file(config.storage);
}

// <trials_dir>/<study>: trial logs <n>.log and artifact directories <n>/.
std::string study_dir(const StudyConfig& config) {
  return study_trials_dir(config.storage, config.name, config.trials_dir);
}

// The default trials folder <stem>_trials/ is named after the database's stem, so a.db and
// a.sqlite beside it would share it (and overwrite each other's trial folders). The folder
// records its database's file name in this file; another database is refused.
constexpr const char* k_owner_file = ".hpt-database";

// The default trials folder of an SQLite study and its database's file name; nullopt when the
// study sets trials_dir or uses a server.
std::optional<std::pair<std::filesystem::path, std::string>> default_trials_base(
    const StudyConfig& config) {
  const auto file = config.trials_dir.empty() ? database_file(config) : std::nullopt;
  if (!file) {
    return std::nullopt;
  }
  return std::make_pair(std::filesystem::path(study_dir(config)).parent_path(),
                        std::filesystem::path(*file).filename().string());
}

// Why the default trials folder belongs to another database, or "".
std::string trials_base_problem(const StudyConfig& config) {
  const auto base = default_trials_base(config);
  std::string recorded;
  if (base && std::getline(std::ifstream(base->first / k_owner_file), recorded) &&
      recorded != base->second) {
    return fmt::format(
        "trials folder '{}' holds the trials of the database '{}', not '{}'; give "
        "study.trials_dir",
        base->first.string(), recorded, base->second);
  }
  return "";
}

// Records the database in its default trials folder (made by now), once.
void record_trials_base(const StudyConfig& config) {
  if (const auto base = default_trials_base(config);
      base && !std::filesystem::exists(base->first / k_owner_file)) {
    std::ofstream(base->first / k_owner_file) << base->second << "\n";
  }
}

// A study key as its trials folder records it: the string itself, any other JSON as text.
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

std::string key_text(const Json& key) {
  return key.is_string() ? key.get<std::string>() : key.dump();
}

struct Running {
  FrozenTrial trial;
  WorkerId worker = 0;
  TimePoint started;
  std::optional<WorkerMessage> final;
  std::optional<TimePoint> final_at;  // When the final value came.
  bool linger_noted = false;          // Said that it has not exited long after its final value.
  std::string near_miss;  // The first line meant as a protocol line but not read as one.
  bool line_cut = false;  // A line was longer than the protocol's limit (read as a log line).
  bool steps_capped = false;  // It reported objective.max_steps steps; later ones are dropped.
  bool pruned = false;
  std::string stop_reason;  // Why hpt ended it ("timed out after 5 s"), if it did.
  std::optional<TimePoint> term_sent;
  std::vector<int> gpus;  // Devices it holds (study.gpus).
  // Steps read but not stored yet: written in one transaction per batch of lines; with the
  // user_attrs of step lines (the latest value of each key).
  std::vector<std::pair<int64_t, double>> unstored_steps;
  std::map<std::string, Json> unstored_attrs;
  // The latest constraint values a line reported (stored when the trial finishes).
  std::optional<std::vector<double>> constraints;
};

// How a trial ended, as it is stored.
struct Outcome {
  TrialState state = TrialState::Complete;
  std::optional<double> value;
  std::vector<double> values;  // A multi-objective study's COMPLETE trial.
  std::string reason;          // Why it failed ("" unless FAIL).
  // Its constraint values (COMPLETE and PRUNED trials that reported some, as Optuna).
  std::optional<std::vector<double>> constraints;

  void fail(std::string why) {
    state = TrialState::Fail;
    reason = std::move(why);
    value.reset();
    values.clear();
  }
};

// Whether hpt ended r's worker after its final value, which counted (Orchestrator::outcome).
bool ended_after_final(const Running& r, const Outcome& o) {
  return o.state != TrialState::Fail && !r.stop_reason.empty();
}

// For a failing final value: "; then: <stop reason>" when hpt ended the worker after it (a NaN
// printed, then a hang until objective.timeout), else "".
std::string then_ended(const Running& r) {
  return r.stop_reason.empty() ? "" : "; then: " + r.stop_reason;
}

std::string trimmed_tail(const std::string& s) {
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// ": " and the last non-blank line of a worker's stderr (at most 300 bytes), or "" when it
// wrote none: what a FAIL line says of why ("hpt: error: cfg.yaml:17: dataset.path: ...").
std::string stderr_reason(const std::string& tail) {
  const std::string_view line = last_nonblank_line(tail);
  if (line.empty()) {
    return "";
  }
  const std::string_view kept = utf8_prefix(line, 300);
  return ": " + std::string(kept) + (kept.size() < line.size() ? "\u2026" : "");
}

// How long a study waits for a lost database server before it stops (Storage::set_outage_wait).
constexpr std::chrono::seconds k_run_outage_wait{600};

// A failed trial that ended within this time counts as a quick failure (backoff).
constexpr auto k_quick_failure = std::chrono::seconds(1);

// The delay before the next start after n quick failures in a row: none for the first,
// then 10 ms doubling up to 1 s, so a worker that cannot run never spins the machine.
Duration failure_backoff(int n) {
  if (n < 2) {
    return Duration::zero();
  }
  return milliseconds(std::min(1000, 10 << std::min(n - 2, 7)));
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

 private:
  // Checks what can be checked before a study or trial is created: the study name,
  // its trials folder, the built-in trainer's executable. Throws one line.
  void preflight();
  void open_study();
  // Says so when a new study starts in a database that holds others (a misspelt --study or
  // study.name starts afresh instead of resuming), naming them and the likely intended one.
  void note_new_study_beside(const std::string& name);
  // Adds config.enqueue's trials the study does not hold yet, as WAITING trials (run first).
  void enqueue_trials();
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
  void handle_line(Running& r, const StdoutLine& line);
  // Stores r's unstored steps and step lines' user_attrs; a refusal fails the trial.
  void store_steps(Running& r);
  // Ends r's worker and makes its trial FAIL with reason (unless already decided).
  void stop_trial(Running& r, const std::string& reason);
  // Sends SIGTERM to r's worker group now.
  void terminate(Running& r);
  // Records r's outcome (its worker's result: worker) and books it for the study.
  void finish(Running& r, const WorkerResult& worker);
  // How r ended, from its messages, its stop reason and its worker's exit.
  Outcome outcome(const Running& r, const WorkerResult& worker) const;
  // Writes r's outcome and its attributes. False if another process took the trial over.
  bool store_outcome(const Running& r, const WorkerResult& worker, Outcome& o);
  // Counts a FAIL toward max_failures and enqueues its retry (study.retries).
  void count_failure(const Running& r, const std::string& reason);
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
  int rescue_study();
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
  // Says which orphaned trials a finished run leaves RUNNING (and ends their processes left
  // from the dead run), so that "done" does not hide them.
  void note_orphans_left();
  // Whether the storage got its connection back less than heartbeat_grace + 5 s ago: every
  // host's heartbeats went stale during the outage, so none is judged by its age yet.
  bool just_reconnected() const;
  // Whether trial id is still RUNNING under this process's claim (nobody finished or took it).
  bool still_ours(int64_t trial_id);
  int done_trials();
  // Whether --timeout's budget is spent: no trial starts from then on.
  bool past_deadline() const { return m_deadline && m_workers.now() >= *m_deadline; }
  // The study's end once its time budget is spent and its trials here have finished.
  int budget_spent();
  // Prints the best trial (or the Pareto front) and the best trial's saved model.
  void summarize();

  const StudyConfig& m_config;
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
  std::unique_ptr<Sampler> m_sampler;
  std::unique_ptr<Pruner> m_pruner;
  GpuPool m_gpus;
  std::vector<std::unique_ptr<Running>> m_running;
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
  // The trials folder must be this study's (study_folder.hpp). A folder shared by choice
  // (study.trials_dir, a server's hpt_trials/) with another study is refused before anything
  // is written, and checked again once the key is set (two hosts racing on a shared folder).
  // The database's own default folder (<stem>_trials/, whose .hpt-database names this file)
  // holding another key held the study of a database since deleted or replaced at this path:
  // it is moved aside, nothing lost.
  const bool own_folder = default_trials_base(m_config).has_value();
  const auto check_folder = [&](const std::optional<std::string>& key) {
    const std::string problem = folder_owner_problem(m_study_dir, name, key);
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
        m_study_dir, name, aside));
  };
  if (auto info = m_storage.find_study(name)) {
    m_study_id = info->id;
    const auto attrs = m_storage.study_system_attrs(m_study_id);
    const auto it = attrs.find(k_study_key_attr);
    check_folder(it != attrs.end() ? std::optional(key_text(it->second)) : std::nullopt);
  } else {
    check_folder(std::nullopt);
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
  check_folder(m_study_key);
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
  m_sampler = make_sampler(m_config.sampler_type, m_config.sampler_options, m_config.sampler_seed,
                           m_config.search_space);
  m_pruner = make_pruner(m_config.pruner_type, m_config.pruner_options);
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
    Owner owner = Owner::from_json(owner_json);
    bool orphan = false;
    auto liveness = owner_liveness(owner);
    if (liveness == OwnerLiveness::Dead) {
      orphan = true;
    } else if (liveness == OwnerLiveness::Unknown) {
      // Not by datetime_start: the writer's local time, with the writer's time zone.
      auto age = m_storage.heartbeat_age(t.id);
      if (age) {
        orphan = judge_heartbeats && *age > m_config.heartbeat_grace;
      } else if (!owner_json.is_object()) {
        m_unchecked.insert(t.number);
      }
    }
    if (orphan) {
      out.insert(t.id);
      owners_seen[t.id] = owner_json;
    }
  }
  return out;
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
  // An exhausted sampler (a grid run through) makes no new trial: waiting and orphaned ones
  // are still run.
  return sampler_exhausted() ? std::min(m_options.trials,
                                        m_storage.count_trials(
                                            m_study_id, {TrialState::Complete, TrialState::Pruned,
                                                         TrialState::Running, TrialState::Waiting}))
                             : m_options.trials;
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
    SampleContext ctx{m_config.direction, bracket ? &*bracket : trials.get(), trial.number,
                      m_config.directions, &sampler_attrs, &counters};
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
      trial.distributions[name] = dist;
    }
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
        trial.number, dropped.size() == 1 ? "a parameter" : "parameters",
        fmt::join(dropped, ", "), dropped.size() == 1 ? "it" : "them",
        dropped.size() == 1 ? "it" : "them"));
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
      {"HPT_SEED", std::to_string(derive_seed(m_config.seed, trial.number, "worker") >> 1)},
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
  auto r = std::make_unique<Running>();
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

void Orchestrator::terminate(Running& r) {
  m_workers.signal(r.worker, SIGTERM);
  r.term_sent = m_workers.now();
}

void Orchestrator::stop_trial(Running& r, const std::string& reason) {
  if (r.pruned || r.final || !r.stop_reason.empty()) {
    return;
  }
  r.stop_reason = reason;
  terminate(r);
}

void Orchestrator::handle_line(Running& r, const StdoutLine& line) {
  const WorkerLine parsed =
      parse_worker_line(line.text, line.truncated, m_config.directions.size());
  if (parsed.kind == WorkerLine::Kind::Log) {
    m_workers.log(r.worker,
                  line.truncated ? line.text + "\n[hpt: line cut at 1 MiB]\n" : line.text + "\n");
    r.line_cut |= line.truncated;
    if (!parsed.near_miss.empty() && r.near_miss.empty()) {
      r.near_miss = parsed.near_miss;
      m_workers.log(r.worker, "[hpt: not read as a protocol line: " + parsed.near_miss + "]\n");
    }
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
  if (msg.constraints) {
    // The study's trials are read only for a count not yet seen: a worker reporting
    // constraints on every step line must not cost a pass over the study each.
    const size_t count = msg.constraints->size();
    if (m_constraints_count != count) {
      if (!m_trials) {
        refresh_trials();
      }
      if (const std::string problem = constraints_count_problem(count, *m_trials);
          !problem.empty()) {
        stop_trial(r, "protocol error: " + problem);
        return;
      }
      m_constraints_count = count;
    }
    r.constraints = msg.constraints;
  }
  if (msg.kind == WorkerMessage::Kind::Final) {
    r.final = msg;
    r.final_at = m_workers.now();
    return;
  }
  for (const auto& [key, value] : msg.user_attrs.items()) {  // Stored with the steps.
    r.unstored_attrs[key] = value;
  }
  if (static_cast<int64_t>(r.trial.intermediate_values.size()) >= m_config.max_steps &&
      !r.trial.intermediate_values.count(msg.step)) {
    if (!r.steps_capped) {
      r.steps_capped = true;
      const std::string why = fmt::format(
          "trial {} reported more than {} steps (objective.max_steps): later steps are not "
          "stored or judged; its final value still counts",
          r.trial.number, m_config.max_steps);
      m_workers.log(r.worker, "[hpt: " + why + "]\n");
      m_progress.note(why);
    }
    return;
  }
  if (r.trial.intermediate_values.count(msg.step)) {  // Optuna: the first value is kept.
    m_workers.log(
        r.worker,
        fmt::format("[hpt: step {} was already reported; its first value is kept]\n", msg.step));
    return;
  }
  r.unstored_steps.emplace_back(msg.step, msg.value);
  r.trial.intermediate_values[msg.step] = msg.value;
  const PruneDecision decision = m_pruner->decide(
      PruneContext{m_config.direction, &pruner_trials(), m_config.name, msg.step}, r.trial);
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
  }
  if (decision.prune) {
    r.pruned = true;
    terminate(r);
  }
}

void Orchestrator::store_steps(Running& r) {
  if (r.unstored_steps.empty() && r.unstored_attrs.empty()) {
    return;
  }
  check_study_kept();
  const char* what = "intermediate values";
  try {
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
    r.pruned = false;                // Whatever was decided, the trial fails.
    r.stop_reason = fmt::format("storing {} failed: {}", what, e.what());
    terminate(r);
  }
  r.unstored_steps.clear();
  r.unstored_attrs.clear();
}

Outcome Orchestrator::outcome(const Running& r, const WorkerResult& worker) const {
  Outcome o;
  if (r.pruned) {
    o.state = TrialState::Pruned;
    if (auto step = r.trial.last_step()) {
      const double v = r.trial.intermediate_values.at(*step);
      if (!std::isnan(v)) {
        o.value = v;
      }
    }
  } else if (!r.stop_reason.empty() && !r.final) {
    o.fail(r.stop_reason);
  } else if (!worker.exit_problem.empty() && r.stop_reason.empty()) {
    // With a stop reason, hpt ended the worker after its final value, which counts (below).
    // hpt sends SIGKILL only with a stop reason: this one came from elsewhere.
    const char* oom = worker.signal == SIGKILL
                          ? ", not sent by hpt: out of memory? (the kernel's OOM killer sends it)"
                          : "";
    o.fail("worker " + worker.exit_problem + oom + stderr_reason(worker.stderr_tail));
  } else if (!r.final) {
    o.fail((m_config.multi_objective()
                ? "worker exited without printing a final {\"values\": [v1, v2, ...]} line"
                : "worker exited without printing a final {\"value\": v} line") +
           (r.near_miss.empty() ? "" : "; a line was not read as one: " + r.near_miss) +
           (r.line_cut ? "; a line longer than 1 MiB was cut (see the trial's log)" : ""));
  } else if (m_config.multi_objective()) {
    const auto& v = r.final->values;
    const auto nan = std::find_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
    if (nan != v.end()) {
      o.fail(fmt::format("worker reported a NaN value (objective {}){}", nan - v.begin(),
                         then_ended(r)));
    } else {
      o.values = v;
    }
  } else if (std::isnan(r.final->value)) {
    o.fail("worker reported a NaN value" + then_ended(r));
  } else {
    o.value = r.final->value;
  }
  if (o.state != TrialState::Fail) {
    o.constraints = r.constraints;
  }
  return o;
}

bool Orchestrator::store_outcome(const Running& r, const WorkerResult& worker, Outcome& o) {
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
  if (!worker.log_problem.empty()) {
    if (!m_log_problem_noted) {  // Once: a full disk would repeat it for every trial.
      m_log_problem_noted = true;
      m_progress.note(fmt::format("trial {}: {} (the study goes on; hpt:log_problem records it)",
                                  r.trial.number, worker.log_problem));
    }
  }
  // What explains the outcome, written in the transaction that finishes the trial: a trial
  // another process re-claimed meanwhile gets none of it.
  Json attrs = Json::object();
  if (!worker.log_problem.empty()) {
    attrs[k_log_problem_attr] = worker.log_problem;
  }
  if (worker.has_log) {
    // Absolute (m_study_dir is): readers (hpt report, the dashboard) run from anywhere.
    attrs[k_log_attr] =
        std::filesystem::path(trial_log(r.trial.number)).lexically_normal().string();
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
  }
  const Json owner = m_owner.to_json();
  return m_config.multi_objective()
             ? m_storage.set_trial_state_values(id, o.state, o.values, &owner, &attrs)
             : m_storage.set_trial_state_values(id, o.state, o.value, &owner, &attrs);
}

void Orchestrator::count_failure(const Running& r, const std::string& reason) {
  ++m_failures;
  m_last_failure = fmt::format("trial {}: {}", r.trial.number, reason);
  const auto a = r.trial.system_attrs.find(k_attempt_attr);
  const int attempt =
      a != r.trial.system_attrs.end() && a->second.is_number_integer() ? a->second.get<int>() : 0;
  if (attempt < m_config.retries) {
    FrozenTrial retry;
    retry.state = TrialState::Waiting;
    retry.params = r.trial.params;
    retry.distributions = r.trial.distributions;
    retry.system_attrs[k_attempt_attr] = attempt + 1;
    retry.system_attrs[k_retry_of_attr] = r.trial.number;
    m_storage.create_trial(m_study_id, retry);
  }
}

void Orchestrator::finish(Running& r, const WorkerResult& worker) {
  Outcome o = outcome(r, worker);
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
  if (!g_ctrl_z.exchange(false)) {
    return;
  }
  // A script's `kill -TSTP; kill -CONT` sends both within microseconds: the continue is given
  // time to come before anything is stopped, and is looked for again just before.
  const auto wanted = [at = g_ctrl_z_at.load()] {
    return g_stop_signals == 0 && g_continued == at;
  };
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
  for (auto& r : m_running) {
    while (!m_workers.finished(r->worker) && m_workers.now() < deadline && !stop_now()) {
      m_workers.read_lines(r->worker);  // Drained so that it can exit; stderr is logged.
      m_workers.wait(milliseconds(20));
    }
    if (r->final || r->pruned || !r->stop_reason.empty()) {
      const WorkerResult result = m_workers.reap(r->worker);
      if (r->final && r->stop_reason.empty() &&
          !result.exit_problem.empty()) {  // Not just exiting by itself.
        r->stop_reason = fmt::format(
            "ended by a stop signal {:.1f} s after it printed its final value",
            std::chrono::duration<double>(stopped_at - *r->final_at).count());
      }
      finish(*r, result);
      continue;
    }
    m_workers.reap(r->worker);  // Kills the group if it is still alive.
    m_gpus.release(r->gpus);
    const Json owner = m_owner.to_json();  // Not one another process re-claimed meanwhile.
    m_storage.set_trial_state_values(r->trial.id, TrialState::Waiting, std::nullopt, &owner);
  }
  m_running.clear();
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

int Orchestrator::rescue_study() {
  namespace fs = std::filesystem;
  const std::string path = sqlite_file_of(m_config.storage).value_or(m_config.storage);
  m_progress.note(
      fmt::format("the study database '{}' is gone from its path: ending the running "
                  "trials to save the study",
                  path));
  stop_all(false);
  m_progress.end();
  // Where the file was: through a dangling symbolic link, the link's target.
  std::error_code ec;
  const fs::path home = link_target(fs::absolute(path, ec).string());
  // Back at home; beside it when another file holds it (never replaced); when its folder cannot
  // be written (made a file, read-only), in the working folder, then the temporary folder.
  std::vector<std::string> problems;
  std::string saved;
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
      continue;
    }
    saved = ::link(temp.c_str(), target.c_str()) == 0 ? target.string() : temp;
    if (saved != temp) {
      ::unlink(temp.c_str());
    }
    break;
  }
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
               "ran; the study, every trial in it, is saved {} (its running trials are WAITING){}",
               path, back ? "back at '" + saved + "'" : "as '" + saved + "'",
               back ? ": run the same command to resume"
                    : fmt::format(": give --storage {} to resume it", saved)))
        << "\n";
  return 1;
}

int Orchestrator::done_trials() {
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
        done_trials(),
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
  const int done = done_trials();
  m_out << fmt::format(
      "hpt: --timeout {} spent: the study has {} finished trials{} ({} more than at the start)\n",
      Progress::format_budget(*m_options.time_budget), done,
      m_options.trials == k_unbounded_trials ? ""
                                             : fmt::format(" of --trials {}", m_options.trials),
      done - m_done_at_start);
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
    for (const auto& line : m_workers.read_lines(r->worker)) {
      if (g_stop_signals > 0) {
        break;  // Stop promptly, however many lines are waiting.
      }
      handle_line(*r, line);
    }
    store_steps(*r);
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
  const int limit = claim_limit();  // Unbounded (ask_trial's options), but not past a grid.
  SignalDeferral deferral;  // Ctrl-C takes effect once the trial is published (or handed back).
  auto claim =
      m_storage.claim_trial(m_study_id, limit, Json(), [](const FrozenTrial&) { return false; });
  if (!claim) {
    throw std::runtime_error(
        limit < k_unbounded_trials
            ? fmt::format("every point of the grid of study '{}' has a trial: nothing to ask",
                          terminal_text(m_config.name))
            : fmt::format("study '{}' cannot take another trial", terminal_text(m_config.name)));
  }
  try {
    choose_params(claim->trial);
    publish(claim->trial);
  } catch (...) {
    try {
      m_storage.set_trial_state_values(claim->trial.id, TrialState::Waiting, std::vector<double>{});
      m_progress.note(fmt::format("trial {} is WAITING again: the next ask or run takes it",
                                  claim->trial.number));
    } catch (const std::exception&) {  // The error that got here is the one to tell.
    }
    throw;
  }
  return claim->trial;
}

int Orchestrator::run() {
  preflight();
  open_study();
  m_done_at_start = done_trials();
  if (m_options.more_trials) {
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

}  // namespace

// The longest HPT_PARAMS string a trial of config can give its worker (fixed, with each
// parameter at its longest value: a categorical's longest choice, a number printed at its
// longest), and the parameter whose longest value is longest.
std::pair<size_t, std::string> longest_params_env(const StudyConfig& config) {
  Json values = config.fixed;
  std::string widest;
  size_t widest_bytes = 0;
  for (const auto& [name, dist] : config.search_space) {
    Json value = -1.2345678901234567e+308;
    size_t bytes = value.dump().size();
    if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
      for (const auto& choice : c->choices) {
        if (const size_t n = choice.dump().size(); n > bytes) {
          value = choice;
          bytes = n;
        }
      }
    }
    if (bytes >= widest_bytes) {
      widest = name;
      widest_bytes = bytes;
    }
    values[name] = std::move(value);
  }
  return {std::strlen("HPT_PARAMS=") + values.dump().size(), widest};
}

std::string check_study(const StudyConfig& config, const RunOptions& options, bool new_study) {
  // The YAML and --study were checked by the same rule; a config built in code was not.
  if (const std::string problem = study_name_problem(config.name); !problem.empty()) {
    throw std::runtime_error("study name: " + problem);
  }
  const std::string dir = study_dir(config);
  if (dir.size() + 64 > PATH_MAX) {
    throw std::runtime_error(
        fmt::format("trials folder '{}...' is too long a path", utf8_prefix(dir, 80)));
  }
  if (config.builtin_trainer()) {
    // Every trial's files would land in a folder dataset (each trial would fail on it).
    const std::string origin = config.file + ": fixed";
    const auto fixed = trainer::experiment_from_json(
        trainer::merge_settings(config.fixed, probe_params(config), origin), origin);
    if (const std::string problem = trainer::dataset_holds_problem(dir, fixed); !problem.empty()) {
      throw std::runtime_error(fmt::format(
          "the study's trials folder {}; give study.trials_dir outside it, or keep the database "
          "elsewhere",
          problem));
    }
  }
  // Every worker gets the fixed section in one environment variable.
  if (const size_t n = std::strlen("HPT_FIXED=") + config.fixed.dump().size();
      n + 1 > k_max_arg_string) {
    throw std::runtime_error(fmt::format(
        "{}: fixed: {} bytes as JSON, but workers get it in HPT_FIXED and Linux passes at most {} "
        "bytes in one environment variable",
        config.file, n, k_max_arg_string - 1));
  }
  // ...and the fixed section with the trial's parameters in HPT_PARAMS: the longest values the
  // search space can give must fit too (a choice of 200 KB failed every trial drawing it).
  if (const auto [n, widest] = longest_params_env(config); n + 1 > k_max_arg_string) {
    throw std::runtime_error(fmt::format(
        "{}: search_space.{}: its longest value makes HPT_PARAMS {} bytes, but workers get their "
        "parameters in HPT_PARAMS and Linux passes at most {} bytes in one environment variable",
        config.file, widest, n, k_max_arg_string - 1));
  }
  if (const std::string problem = folder_problem(dir); !problem.empty()) {
    // It names the path; and the key that chose it, when one did.
    throw std::runtime_error(
        config.trials_dir.empty() ? problem : config.origin("study.trials_dir") + ": " + problem);
  }
  if (const std::string problem = trials_base_problem(config); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  // A folder chosen by study.trials_dir (or a server's) that holds another study's trials is
  // refused for a new study (open_study: a database's own default folder is moved aside).
  if (const std::string problem = folder_owner_problem(dir, config.name, std::nullopt);
      new_study && !default_trials_base(config) && !problem.empty()) {
    throw std::runtime_error(problem);
  }
  if (config.builtin_trainer() && !options.trainer_exe.empty()) {
    try {
      resolve_executable(options.trainer_exe);
    } catch (const StartError& e) {
      throw std::runtime_error(fmt::format("the built-in trainer: {}", e.what()));
    }
    check_trainer_devices(config, [&] { return trainer_device_support(options.trainer_exe); });
  }
  return dir;
}

namespace {

// o.run(), or k_exit_interrupted when a second stop signal made the database give up waiting
// (for another process's lock, or for a server to come back): its running trials stay
// RUNNING, and the next run re-runs them.
int run_guarded(Orchestrator& o, std::ostream& out) {
  try {
    return o.run();
  } catch (const StorageError& e) {
    if (g_stop_signals.load() == 0) {
      if (!e.database_wide()) {
        // A read or write refused because the study was deleted (delete-study --force): said so,
        // whichever call found it first.
        o.check_study_kept(true);
      }
      throw;
    }
    out << "\nhpt: interrupted while waiting for the database (locked by another process, or "
           "unreachable); run the same command again to resume the study (its running trials "
           "are run again)\n";
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
