#include "hpt/engine/orchestrator.hpp"

#include <fmt/format.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <thread>

#include "hpt/engine/gpu_pool.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/subreaper.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"
#include "hpt/tuner/pruner.hpp"
#include "hpt/tuner/rng.hpp"
#include "hpt/tuner/sampler.hpp"

namespace hpt {

namespace {

using Steady = std::chrono::steady_clock;

std::atomic<int> g_signals{0};  // Signal count; the only state a handler may touch.

extern "C" void on_stop_signal(int) { g_signals.fetch_add(1); }

// Installs the stop handlers for the lifetime of the guard.
class SignalGuard {
 public:
  SignalGuard() {
    g_signals = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &m_old_int);
    sigaction(SIGTERM, &sa, &m_old_term);
  }
  ~SignalGuard() {
    if (g_signals > 0) {
      return;  // Interrupted: a further Ctrl-C while hpt exits must not kill it mid-way.
    }
    sigaction(SIGINT, &m_old_int, nullptr);
    sigaction(SIGTERM, &m_old_term, nullptr);
  }

 private:
  struct sigaction m_old_int {};
  struct sigaction m_old_term {};
};

// Sleeps up to d, in short naps, returning early when a stop signal arrives.
void nap(Steady::duration d) {
  const auto until = Steady::now() + d;
  while (g_signals == 0 && Steady::now() < until) {
    std::this_thread::sleep_for(
        std::min<Steady::duration>(until - Steady::now(), std::chrono::milliseconds(20)));
  }
}

struct Running {
  FrozenTrial trial;
  std::unique_ptr<WorkerProcess> process;  // Null when the worker could not be started.
  Steady::time_point started;
  std::optional<WorkerMessage> final;
  bool pruned = false;
  std::string stop_reason;  // Why hpt ended it ("timed out after 5 s"), if it did.
  std::optional<Steady::time_point> term_sent;
  std::vector<int> gpus;  // Devices it holds (study.gpus).
  // Steps read but not stored yet: written in one transaction per batch of lines.
  std::vector<std::pair<int64_t, double>> unstored_steps;
};

std::string trimmed_tail(const std::string& s) {
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// A failed trial that ended within this time counts as a quick failure (backoff).
constexpr auto k_quick_failure = std::chrono::seconds(1);

// The delay before the next start after n quick failures in a row: none for the first,
// then 10 ms doubling up to 1 s, so a worker that cannot run never spins the machine.
Steady::duration failure_backoff(int n) {
  if (n < 2) {
    return Steady::duration::zero();
  }
  return std::chrono::milliseconds(std::min(1000, 10 << std::min(n - 2, 7)));
}

class Orchestrator {
 public:
  Orchestrator(const StudyConfig& c, Storage& s, const RunOptions& o, std::ostream& out)
      : m_config(c),
        m_storage(s),
        m_options(o),
        m_out(out),
        m_owner(Owner::current()),
        m_progress(out, o.interactive),
        m_gpus(c.gpus, c.gpus_per_trial) {}

  int run();

 private:
  // Checks what can be checked before a study or trial is created: the study name,
  // its trials folder, the built-in trainer's executable. Throws one line.
  void preflight();
  void open_study();
  // Starts trials while slots (jobs, GPUs), the failure budget, the backoff and signals
  // allow.
  void launch_some();
  bool launch_one();
  Json trial_values(const FrozenTrial& t) const;
  void handle_line(Running& r, const StdoutLine& line);
  // Stores r's unstored steps (one transaction); a refusal fails the trial.
  void store_steps(Running& r);
  // Ends r's worker and makes its trial FAIL with reason (unless already decided).
  void stop_trial(Running& r, const std::string& reason);
  void finish(Running& r);
  // The study's trials for the pruner: re-read after a trial of ours ended, else at most
  // once a second (a re-read costs O(steps) of the running trials; a step must not).
  const std::vector<FrozenTrial>& pruner_trials();
  // Ends descendants of ended trials that escaped their process group.
  void sweep_descendants(bool force);
  void heartbeat();
  // True at most every 250 ms, and only on a terminal: time to redraw the status line.
  bool status_line_due();
  void check_timeouts();
  void stop_all(bool immediately);
  std::set<int64_t> orphans(std::map<int64_t, Json>& owners_seen);
  // <trials_dir>/<study>: trial logs <n>.log and artifact directories <n>/.
  std::string study_dir() const;

  const StudyConfig& m_config;
  Storage& m_storage;
  RunOptions m_options;
  std::ostream& m_out;
  Owner m_owner;
  Progress m_progress;
  int64_t m_study_id = -1;
  std::string m_study_dir;
  std::unique_ptr<Sampler> m_sampler;
  std::unique_ptr<Pruner> m_pruner;
  GpuPool m_gpus;
  Subreaper m_reaper;  // Before m_running: destroyed after the workers are reaped.
  std::vector<std::unique_ptr<Running>> m_running;
  int m_failures = 0;
  int m_quick_failures = 0;  // FAIL trials in a row that ended within k_quick_failure.
  Steady::time_point m_next_launch{};
  std::string m_last_failure;
  std::shared_ptr<const std::vector<FrozenTrial>> m_trials;
  Steady::time_point m_trials_read{};
  bool m_trials_stale = true;
  Steady::time_point m_last_sweep{};
  Steady::time_point m_last_heartbeat = Steady::now();
  Steady::time_point m_last_tick{};
};

void Orchestrator::preflight() {
  const std::string& name = m_config.name;
  if (name.empty()) {
    throw std::runtime_error("the study name is empty");
  }
  if (utf8_length(name) > k_max_study_name_chars) {
    throw std::runtime_error(fmt::format(
        "study name '{}...' is {} characters long; at most {} (Optuna's studies.study_name)",
        name.substr(0, 40), utf8_length(name), k_max_study_name_chars));
  }
  m_study_dir = study_dir();
  if (m_study_dir.size() + 64 > PATH_MAX) {
    throw std::runtime_error(
        fmt::format("trials folder '{}...' is too long a path", m_study_dir.substr(0, 80)));
  }
  std::filesystem::create_directories(m_study_dir);
  struct stat st {};
  if (::lstat(m_study_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error(fmt::format(
        "trials folder '{}' is not a directory (a symbolic link?): refusing to write trial logs "
        "through it",
        m_study_dir));
  }
  if (m_config.builtin_trainer() && !m_options.trainer_exe.empty()) {
    try {
      resolve_executable(m_options.trainer_exe);
    } catch (const StartError& e) {
      throw std::runtime_error(fmt::format("the built-in trainer: {}", e.what()));
    }
  }
  if (m_gpus.enabled() && m_config.jobs > m_gpus.capacity()) {
    m_progress.note(fmt::format(
        "jobs {} > {} trials the GPUs hold at once (study.gpus / gpus_per_trial): running at "
        "most {}",
        m_config.jobs, m_gpus.capacity(), m_gpus.capacity()));
  }
}

void Orchestrator::open_study() {
  const std::string& name = m_config.name;
  check_study_matches(m_storage, name, m_config.directions, m_config.search_space);
  if (auto info = m_storage.find_study(name)) {
    m_study_id = info->id;
  } else {
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
  m_sampler = make_sampler(m_config.sampler_type, m_config.sampler_options, m_config.sampler_seed,
                           m_config.search_space);
  m_pruner = make_pruner(m_config.pruner_type, m_config.pruner_options);
}

std::string Orchestrator::study_dir() const {
  std::filesystem::path base = m_config.trials_dir;
  if (base.empty()) {
    base = "hpt_trials";
    if (auto file = sqlite_file_of(m_config.storage)) {  // Next to it: study.db -> study_trials/.
      const std::filesystem::path db = *file;
      base = (db.has_parent_path() ? db.parent_path() : ".") / (db.stem().string() + "_trials");
    }
  }
  return (base / study_folder_name(m_config.name)).string();
}

// RUNNING trials whose owner is gone: same host and dead, or silent past the grace.
std::set<int64_t> Orchestrator::orphans(std::map<int64_t, Json>& owners_seen) {
  std::set<int64_t> out;
  for (const auto& t : m_storage.get_all_trials(m_study_id, {TrialState::Running})) {
    Json owner_json = t.system_attrs.count("hpt:owner") ? t.system_attrs.at("hpt:owner") : Json();
    Owner owner = Owner::from_json(owner_json);
    bool orphan = false;
    auto liveness = owner_liveness(owner);
    if (liveness == OwnerLiveness::Dead) {
      orphan = true;
    } else if (liveness == OwnerLiveness::Unknown) {
      auto age = m_storage.heartbeat_age(t.id);
      if (age) {
        orphan = *age > m_config.heartbeat_grace;
      } else if (t.datetime_start) {
        orphan = std::chrono::duration<double>(Clock::now() - *t.datetime_start).count() >
                 m_config.heartbeat_grace;
      }
    }
    if (orphan) {
      out.insert(t.id);
      owners_seen[t.id] = owner_json;
    }
  }
  return out;
}

Json Orchestrator::trial_values(const FrozenTrial& t) const {
  Json values = m_config.fixed;
  values.update(t.external_params());
  return values;
}

// Claims, samples and starts one trial. Returns false if none may start now.
bool Orchestrator::launch_one() {
  std::map<int64_t, Json> owners_seen;
  const auto orphan_ids = orphans(owners_seen);
  auto claim = m_storage.claim_trial(
      m_study_id, m_options.trials, m_owner.to_json(), [&](const FrozenTrial& t) {
        if (!orphan_ids.count(t.id)) {
          return false;
        }
        // Taken over only if nobody else took it since we looked.
        Json owner = t.system_attrs.count("hpt:owner") ? t.system_attrs.at("hpt:owner") : Json();
        return owner == owners_seen[t.id];
      });
  if (!claim) {
    return false;
  }
  FrozenTrial trial = claim->trial;
  if (claim->kind == TrialClaim::Kind::Orphan) {
    m_progress.note(
        fmt::format("trial {} was left RUNNING by a stopped process: re-running it", trial.number));
  }
  // Parameters: kept from a resumed trial, enqueued ones (Optuna's fixed_params), sampled rest.
  Json enqueued = trial.system_attrs.count("fixed_params") ? trial.system_attrs.at("fixed_params")
                                                           : Json::object();
  std::map<std::string, double> chosen;
  for (const auto& [name, dist] : m_config.search_space) {
    if (trial.params.count(name)) {
      chosen[name] = trial.params.at(name);
    } else if (enqueued.is_object() && enqueued.contains(name)) {
      try {
        chosen[name] = to_internal(dist, enqueued.at(name));
      } catch (const std::invalid_argument& e) {
        m_progress.note(
            fmt::format("trial {}: enqueued {} ignored: {}", trial.number, name, e.what()));
      }
    }
  }
  if (chosen.size() < m_config.search_space.size()) {
    m_trials.reset();  // The snapshot is copy-on-write: drop ours before asking again.
    m_trials = m_storage.trials_snapshot(m_study_id);
    m_trials_read = Steady::now();
    m_trials_stale = false;
    const auto trials = m_trials;
    // Hyperband: the sampler learns from the trial's bracket only (Optuna's _filter_study).
    const auto bracket = m_pruner->sampler_trials(
        PruneContext{m_config.direction, trials.get(), m_config.name}, trial.number);
    std::map<std::string, Json> sampler_attrs;  // E.g. NSGA-II's nsga2:generation.
    SampleContext ctx{m_config.direction, bracket ? &*bracket : trials.get(), trial.number,
                      m_config.directions, &sampler_attrs};
    for (const auto& [name, v] : m_sampler->sample(m_config.search_space, ctx)) {
      chosen.emplace(name, v);  // Keeps the kept/enqueued values.
    }
    for (const auto& [key, value] : sampler_attrs) {
      m_storage.set_trial_system_attr(trial.id, key, value);
      trial.system_attrs[key] = value;
    }
  }
  for (const auto& [name, dist] : m_config.search_space) {
    if (!trial.params.count(name)) {
      m_storage.set_trial_param(trial.id, name, chosen.at(name), dist);
      trial.params[name] = chosen.at(name);
      trial.distributions[name] = dist;
    }
  }
  trial.intermediate_values.clear();

  auto r = std::make_unique<Running>();
  r->trial = trial;
  r->started = Steady::now();
  r->gpus = m_gpus.acquire().value_or(std::vector<int>{});  // launch_some checked available().
  const Json values = trial_values(trial);
  std::vector<std::string> argv = m_config.command;
  if (m_config.builtin_trainer()) {
    argv = {m_options.trainer_exe, "worker"};
  } else {
    Json with_number = values;
    with_number["trial_number"] = trial.number;
    argv = substitute_placeholders(argv, with_number);
  }
  const std::string dir = m_study_dir + "/" + std::to_string(trial.number);
  std::map<std::string, std::string> env{
      {"HPT_PARAMS", values.dump()},
      {"HPT_FIXED", m_config.fixed.dump()},
      {"HPT_TRIAL_NUMBER", std::to_string(trial.number)},
      {"HPT_STUDY_NAME", m_config.name},
      {"HPT_SEED", std::to_string(derive_seed(m_config.seed, trial.number, "worker") >> 1)},
      {"HPT_TRIAL_DIR", dir},
  };
  if (m_gpus.enabled()) {
    env["CUDA_VISIBLE_DEVICES"] = gpu_list(r->gpus);
    env["HPT_GPUS"] = gpu_list(r->gpus);
  }
  const std::string log_path = dir + ".log";
  try {
    r->process = std::make_unique<WorkerProcess>(argv, env, log_path);
  } catch (const StartError& e) {  // Counts as a failure; nothing of it is left running.
    r->stop_reason = e.what();
    finish(*r);
    return true;
  }
  m_progress.started(trial.number, trial.external_params());
  m_running.push_back(std::move(r));
  return true;
}

void Orchestrator::launch_some() {
  while (g_signals == 0 && m_failures < m_config.max_failures &&
         static_cast<int>(m_running.size()) < m_config.jobs && m_gpus.available() &&
         Steady::now() >= m_next_launch && launch_one()) {
  }
}

const std::vector<FrozenTrial>& Orchestrator::pruner_trials() {
  if (!m_trials || m_trials_stale || Steady::now() - m_trials_read > std::chrono::seconds(1)) {
    m_trials.reset();  // The snapshot is copy-on-write: drop ours before asking again.
    m_trials = m_storage.trials_snapshot(m_study_id);
    m_trials_read = Steady::now();
    m_trials_stale = false;
  }
  return *m_trials;
}

void Orchestrator::stop_trial(Running& r, const std::string& reason) {
  if (r.pruned || r.final || !r.stop_reason.empty()) {
    return;
  }
  r.stop_reason = reason;
  r.process->signal_group(SIGTERM);
  r.term_sent = Steady::now();
}

void Orchestrator::handle_line(Running& r, const StdoutLine& line) {
  const WorkerLine parsed =
      parse_worker_line(line.text, line.truncated, m_config.directions.size());
  if (parsed.kind == WorkerLine::Kind::Log) {
    r.process->log(line.truncated ? line.text + "\n[hpt: line cut at 1 MiB]\n" : line.text + "\n");
    return;
  }
  if (r.pruned || r.final || !r.stop_reason.empty()) {
    return;
  }
  if (parsed.kind == WorkerLine::Kind::Error) {
    stop_trial(r, parsed.error);
    return;
  }
  const WorkerMessage& msg = parsed.message;
  if (msg.kind == WorkerMessage::Kind::Final) {
    r.final = msg;
    return;
  }
  if (r.trial.intermediate_values.count(msg.step)) {  // Optuna: the first value is kept.
    r.process->log(
        fmt::format("[hpt: step {} was already reported; its first value is kept]\n", msg.step));
    return;
  }
  r.unstored_steps.emplace_back(msg.step, msg.value);
  r.trial.intermediate_values[msg.step] = msg.value;
  const PruneDecision decision =
      m_pruner->decide(PruneContext{m_config.direction, &pruner_trials(), m_config.name}, r.trial);
  for (const auto& [key, value] : decision.system_attrs) {  // Successive halving's rungs.
    try {
      m_storage.set_trial_system_attr(r.trial.id, key, value);
    } catch (const StorageError& e) {
      stop_trial(r, fmt::format("storing {} failed: {}", key, e.what()));
      return;
    }
    r.trial.system_attrs[key] = value;
  }
  if (decision.prune) {
    r.pruned = true;
    r.process->signal_group(SIGTERM);
    r.term_sent = Steady::now();
  }
}

void Orchestrator::store_steps(Running& r) {
  if (r.unstored_steps.empty()) {
    return;
  }
  try {
    m_storage.set_trial_intermediate_values(r.trial.id, r.unstored_steps);
  } catch (const StorageError& e) {  // Refused for these values: this trial fails, not the study.
    r.pruned = false;                // Whatever was decided, the trial fails.
    r.stop_reason = fmt::format("storing intermediate values failed: {}", e.what());
    r.process->signal_group(SIGTERM);
    r.term_sent = Steady::now();
  }
  r.unstored_steps.clear();
}

void Orchestrator::sweep_descendants(bool force) {
  const auto now = Steady::now();
  if (!force && now - m_last_sweep < std::chrono::milliseconds(100)) {
    return;
  }
  m_last_sweep = now;
  std::set<pid_t> workers;
  std::set<std::string> live;
  for (const auto& r : m_running) {
    workers.insert(r->process->pid());
    if (!r->process->exited()) {
      live.insert(std::to_string(r->trial.number));
    }
  }
  m_reaper.sweep(workers, live);
}

void Orchestrator::finish(Running& r) {
  TrialState state = TrialState::Complete;
  std::optional<double> value;
  std::vector<double> values;  // A multi-objective study's COMPLETE trial.
  std::string reason;
  const std::string problem = r.process ? r.process->exit_problem() : "";
  if (r.pruned) {
    state = TrialState::Pruned;
    if (auto step = r.trial.last_step()) {
      double v = r.trial.intermediate_values.at(*step);
      if (!std::isnan(v)) {
        value = v;
      }
    }
  } else if (!r.stop_reason.empty()) {
    reason = r.stop_reason;
  } else if (!problem.empty()) {
    reason = "worker " + problem;
  } else if (!r.final) {
    reason = m_config.multi_objective()
                 ? "worker exited without printing a final {\"values\": [v1, v2, ...]} line"
                 : "worker exited without printing a final {\"value\": v} line";
  } else if (m_config.multi_objective()) {
    const auto& v = r.final->values;
    const auto nan = std::find_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
    if (nan != v.end()) {
      reason = fmt::format("worker reported a NaN value (objective {})", nan - v.begin());
    } else {
      values = v;
    }
  } else if (std::isnan(r.final->value)) {
    reason = "worker reported a NaN value";
  } else {
    value = r.final->value;
  }
  if (!reason.empty()) {
    state = TrialState::Fail;
    value.reset();
    values.clear();
  }
  const int64_t id = r.trial.id;
  m_gpus.release(r.gpus);
  m_trials_stale = true;
  if (r.final) {
    try {
      for (const auto& [k, v] : r.final->user_attrs.items()) {
        m_storage.set_trial_user_attr(id, k, v);
      }
    } catch (const StorageError& e) {  // Refused for these values: this trial fails.
      reason = fmt::format("storing user_attrs failed: {}", e.what());
      state = TrialState::Fail;
      value.reset();
      values.clear();
    }
  }
  if (r.process && !r.process->log_problem().empty()) {
    m_storage.set_trial_system_attr(id, "hpt:log_problem", r.process->log_problem());
  }
  if (r.process && r.process->has_log()) {
    m_storage.set_trial_system_attr(id, "hpt:log",
                                    m_study_dir + "/" + std::to_string(r.trial.number) + ".log");
  }
  if (state == TrialState::Fail) {
    const std::string tail = r.process ? trimmed_tail(r.process->stderr_tail()) : "";
    m_storage.set_trial_system_attr(id, "fail_reason", reason);
    m_storage.set_trial_system_attr(id, "hpt:stderr_tail", tail);
  }
  const bool stored = m_config.multi_objective()
                          ? m_storage.set_trial_state_values(id, state, values)
                          : m_storage.set_trial_state_values(id, state, value);
  if (!stored) {
    m_progress.note(fmt::format("trial {} was taken over by another process; its result is dropped",
                                r.trial.number));
    return;
  }
  if (state == TrialState::Fail) {
    ++m_failures;
    m_last_failure = fmt::format("trial {}: {}", r.trial.number, reason);
    const auto a = r.trial.system_attrs.find("hpt:attempt");
    const int attempt =
        a != r.trial.system_attrs.end() && a->second.is_number_integer() ? a->second.get<int>() : 0;
    if (attempt < m_config.retries) {
      FrozenTrial retry;
      retry.state = TrialState::Waiting;
      retry.params = r.trial.params;
      retry.distributions = r.trial.distributions;
      retry.system_attrs["hpt:attempt"] = attempt + 1;
      retry.system_attrs["hpt:retry_of"] = r.trial.number;
      m_storage.create_trial(m_study_id, retry);
    }
  }
  const auto now = Steady::now();
  const bool quick_failure = state == TrialState::Fail && now - r.started < k_quick_failure;
  m_quick_failures = quick_failure ? m_quick_failures + 1 : 0;
  m_next_launch = now + failure_backoff(m_quick_failures);
  const double elapsed = std::chrono::duration<double>(now - r.started).count();
  m_progress.finished(r.trial.number, state, value, reason, elapsed, values);
}

bool Orchestrator::status_line_due() {
  if (!m_options.interactive || Steady::now() - m_last_tick < std::chrono::milliseconds(250)) {
    return false;
  }
  m_last_tick = Steady::now();
  return true;
}

void Orchestrator::heartbeat() {
  if (Steady::now() - m_last_heartbeat < std::chrono::seconds(5)) {
    return;
  }
  m_last_heartbeat = Steady::now();
  for (const auto& r : m_running) {
    m_storage.record_heartbeat(r->trial.id);
  }
}

void Orchestrator::check_timeouts() {
  const auto now = Steady::now();
  for (auto& r : m_running) {
    if (!r->term_sent && m_config.timeout &&
        std::chrono::duration<double>(now - r->started).count() > *m_config.timeout) {
      r->stop_reason = fmt::format("timed out after {} s (objective.timeout)", *m_config.timeout);
      r->process->signal_group(SIGTERM);
      r->term_sent = now;
    }
    if (r->term_sent && now - *r->term_sent > std::chrono::seconds(3)) {
      r->process->signal_group(SIGKILL);
    }
  }
}

// Ends every worker and hands its trial back as WAITING, so a resume re-runs it.
void Orchestrator::stop_all(bool immediately) {
  for (auto& r : m_running) {
    r->process->signal_group(immediately ? SIGKILL : SIGTERM);
  }
  const auto deadline = Steady::now() + std::chrono::seconds(immediately ? 0 : 3);
  for (auto& r : m_running) {
    while (!r->process->finished() && Steady::now() < deadline && g_signals < 2) {
      r->process->read_available();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r->process->signal_group(SIGKILL);
    m_gpus.release(r->gpus);
    m_storage.set_trial_state_values(r->trial.id, TrialState::Waiting, std::nullopt);
  }
  m_running.clear();
}

int Orchestrator::run() {
  preflight();
  open_study();
  const int total = m_options.trials;
  const std::vector<TrialState> done_states{TrialState::Complete, TrialState::Pruned};
  m_progress.begin(m_config.name, m_config.direction, total,
                   m_storage.count_trials(m_study_id, done_states));
  for (const auto& t : m_storage.get_all_trials(m_study_id, {TrialState::Complete})) {
    if (t.value) {
      m_progress.record_best(t.number, *t.value);
    }
  }
  bool waiting_note = false;
  while (true) {
    if (g_signals > 0) {
      m_progress.note(g_signals > 1
                          ? "interrupted again: stopping now"
                          : "interrupted: ending running trials (Ctrl-C again to stop now)");
      stop_all(g_signals > 1);
      m_progress.end();
      m_out << "hpt: interrupted; run the same command again to resume the study\n";
      return k_exit_interrupted;
    }
    launch_some();
    if (g_signals > 0) {
      continue;
    }
    const bool failing = m_failures >= m_config.max_failures;
    const auto backoff = m_next_launch - Steady::now();
    if (m_running.empty()) {
      const int done = m_storage.count_trials(m_study_id, done_states);
      if (failing) {
        m_progress.end();
        m_out << terminal_text(
                     fmt::format("hpt: error: stopping after {} failed trials in this run "
                                 "(study.max_failures = {}); last failure: {}",
                                 m_failures, m_config.max_failures, m_last_failure))
              << "\n";
        return k_exit_failures;
      }
      if (done >= total) {
        break;
      }
      if (backoff > Steady::duration::zero()) {
        nap(backoff);
        continue;
      }
      if (!waiting_note) {
        m_progress.note("waiting for trials running in other processes");
        waiting_note = true;
      }
      nap(std::chrono::milliseconds(500));
      continue;
    }
    waiting_note = false;
    std::vector<pollfd> pfds;
    bool exiting = false;  // A worker closed its pipes but is not reaped yet: don't sleep long.
    for (const auto& r : m_running) {
      const auto fds = r->process->fds();
      exiting = exiting || fds.empty();
      for (int fd : fds) {
        pfds.push_back({fd, POLLIN, 0});
      }
    }
    int wait_ms = exiting ? 1 : 100;
    if (backoff > Steady::duration::zero() && !failing) {
      wait_ms = std::min<int>(
          wait_ms, static_cast<int>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count() + 1));
    }
    ::poll(pfds.data(), pfds.size(), wait_ms);
    for (auto& r : m_running) {
      for (const auto& line : r->process->read_available()) {
        if (g_signals > 0) {
          break;  // Stop promptly, however many lines are waiting.
        }
        handle_line(*r, line);
      }
      store_steps(*r);
    }
    bool worker_gone = exiting;  // A worker has exited: its escaped descendants go now.
    for (const auto& r : m_running) {
      worker_gone = worker_gone || r->process->exited();
    }
    sweep_descendants(worker_gone);
    for (auto it = m_running.begin(); it != m_running.end();) {
      if ((*it)->process->finished()) {
        finish(**it);
        it = m_running.erase(it);
      } else {
        ++it;
      }
    }
    check_timeouts();
    heartbeat();
    if (status_line_due()) {  // Other processes' trials count too: ask the storage.
      m_progress.tick(static_cast<int>(m_running.size()),
                      m_storage.count_trials(m_study_id, done_states));
    }
  }
  m_progress.end();
  const auto best = m_storage.get_all_trials(m_study_id, {TrialState::Complete});
  m_progress.summary(best, m_config.directions);
  return k_exit_ok;
}

}  // namespace

int run_study(const StudyConfig& config, Storage& storage, const RunOptions& options,
              std::ostream& out) {
  SignalGuard guard;
  Orchestrator o(config, storage, options, out);
  return o.run();
}

}  // namespace hpt
