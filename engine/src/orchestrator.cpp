#include "hpt/engine/orchestrator.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <thread>

#include "hpt/engine/owner.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/worker_process.hpp"
#include "hpt/storage/storage.hpp"
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

struct Running {
  FrozenTrial trial;
  std::unique_ptr<WorkerProcess> process;
  Steady::time_point started;
  std::optional<WorkerMessage> final;
  bool pruned = false;
  std::string stop_reason;  // Why hpt ended it ("timed out after 5 s"), if it did.
  std::optional<Steady::time_point> term_sent;
};

std::string trimmed_tail(const std::string& s) {
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

class Orchestrator {
 public:
  Orchestrator(const StudyConfig& c, Storage& s, const RunOptions& o, std::ostream& out)
      : m_config(c),
        m_storage(s),
        m_options(o),
        m_out(out),
        m_owner(Owner::current()),
        m_progress(out, o.interactive) {}

  int run();

 private:
  void open_study();
  bool launch_one();
  Json trial_values(const FrozenTrial& t) const;
  void handle_line(Running& r, const std::string& line);
  void finish(Running& r);
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
  std::vector<std::unique_ptr<Running>> m_running;
  int m_failures = 0;
  std::string m_last_failure;
  Steady::time_point m_last_heartbeat = Steady::now();
  Steady::time_point m_last_tick{};
};

void Orchestrator::open_study() {
  const std::string& name = m_config.name;
  if (auto info = m_storage.find_study(name)) {
    if (info->direction != m_config.direction) {
      throw std::runtime_error(
          fmt::format("study '{}' exists with direction {}, but the config says {}", name,
                      direction_name(info->direction), direction_name(m_config.direction)));
    }
    m_study_id = info->id;
  } else {
    try {
      m_study_id = m_storage.create_study(name, m_config.direction);
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
  m_study_dir = study_dir();
  std::filesystem::create_directories(m_study_dir);
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
  return (base / m_config.name).string();
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
    const auto trials = m_storage.trials_snapshot(m_study_id);
    SampleContext ctx{m_config.direction, trials.get(), trial.number};
    for (const auto& [name, v] : m_sampler->sample(m_config.search_space, ctx)) {
      chosen.emplace(name, v);  // Keeps the kept/enqueued values.
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
  const std::string log_path = dir + ".log";
  try {
    r->process = std::make_unique<WorkerProcess>(argv, env, log_path);
  } catch (const std::exception& e) {
    r->stop_reason = e.what();
    finish(*r);
    return true;
  }
  m_progress.started(trial.number, trial.external_params());
  m_running.push_back(std::move(r));
  return true;
}

void Orchestrator::handle_line(Running& r, const std::string& line) {
  auto msg = parse_worker_line(line);
  if (!msg) {
    r.process->log(line + "\n");
    return;
  }
  if (r.pruned || r.final) {
    return;
  }
  if (msg->kind == WorkerMessage::Kind::Final) {
    r.final = msg;
    return;
  }
  m_storage.set_trial_intermediate_value(r.trial.id, msg->step, msg->value);
  r.trial.intermediate_values[msg->step] = msg->value;
  const auto trials = m_storage.trials_snapshot(m_study_id);
  if (m_pruner->prune(m_config.direction, *trials, r.trial)) {
    r.pruned = true;
    r.process->signal_group(SIGTERM);
    r.term_sent = Steady::now();
  }
}

void Orchestrator::finish(Running& r) {
  TrialState state = TrialState::Complete;
  std::optional<double> value;
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
    reason = "worker exited without printing a final {\"value\": v} line";
  } else if (std::isnan(r.final->value)) {
    reason = "worker reported a NaN value";
  } else {
    value = r.final->value;
  }
  if (!reason.empty()) {
    state = TrialState::Fail;
    value.reset();
  }
  const int64_t id = r.trial.id;
  if (r.final) {
    for (const auto& [k, v] : r.final->user_attrs.items()) {
      m_storage.set_trial_user_attr(id, k, v);
    }
  }
  if (r.process && r.process->has_log()) {
    m_storage.set_trial_system_attr(id, "hpt:log", m_study_dir + "/" + std::to_string(r.trial.number) + ".log");
  }
  if (state == TrialState::Fail) {
    const std::string tail = r.process ? trimmed_tail(r.process->stderr_tail()) : "";
    m_storage.set_trial_system_attr(id, "fail_reason", reason);
    m_storage.set_trial_system_attr(id, "hpt:stderr_tail", tail);
  }
  if (!m_storage.set_trial_state_values(id, state, value)) {
    m_progress.note(fmt::format("trial {} was taken over by another process; its result is dropped",
                                r.trial.number));
    return;
  }
  if (state == TrialState::Fail) {
    ++m_failures;
    m_last_failure = fmt::format("trial {}: {}", r.trial.number, reason);
    int attempt = r.trial.system_attrs.count("hpt:attempt")
                      ? r.trial.system_attrs.at("hpt:attempt").get<int>()
                      : 0;
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
  const double elapsed = std::chrono::duration<double>(Steady::now() - r.started).count();
  m_progress.finished(r.trial.number, state, value, reason, elapsed);
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
    m_storage.set_trial_state_values(r->trial.id, TrialState::Waiting, std::nullopt);
  }
  m_running.clear();
}

int Orchestrator::run() {
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
    const bool failing = m_failures >= m_config.max_failures;
    while (!failing && static_cast<int>(m_running.size()) < m_config.jobs && launch_one()) {
    }
    if (m_running.empty()) {
      const int done = m_storage.count_trials(m_study_id, done_states);
      if (failing) {
        m_progress.end();
        m_out << fmt::format(
            "hpt: error: stopping after {} failed trials in this run (study.max_failures = {}); "
            "last "
            "failure: {}\n",
            m_failures, m_config.max_failures, m_last_failure);
        return k_exit_failures;
      }
      if (done >= total) {
        break;
      }
      if (!waiting_note) {
        m_progress.note("waiting for trials running in other processes");
        waiting_note = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
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
    ::poll(pfds.data(), pfds.size(), exiting ? 1 : 100);
    for (auto& r : m_running) {
      for (const auto& line : r->process->read_available()) {
        handle_line(*r, line);
      }
    }
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
  m_progress.summary(best, m_config.direction);
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
