#pragma once
// A scripted WorkerSet for orchestrator tests: no processes, no sleeps. Each started
// worker follows the WorkerScript its spec is given; time is the set's own clock, moved on
// by wait() to the next scripted event (or by the timeout), so a study of "minutes" runs
// in microseconds. It records what the orchestrator did: specs started, signals sent,
// running workers at once.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hpt/engine/protocol.hpp"
#include "hpt/engine/worker_set.hpp"

namespace hpt::test {

using std::chrono::milliseconds;

// What one worker does, in its own time (offsets from its start).
struct WorkerScript {
  std::vector<std::pair<milliseconds, std::string>> lines;  // stdout lines and when.
  std::optional<milliseconds> exit_at;  // When it exits by itself (default: after its lines).
  std::string exit_problem;             // How: "" (status 0) or "exited with status 1", ...
  std::string stderr_tail;
  bool ignores_sigterm = false;
  std::string start_error;  // Not empty: start() throws StartError with it.
  std::string log_problem;  // Why its log could not be written ("" if it could).
  int exit_signal = 0;      // The signal that ended it (set when the set kills it).
};

// A worker that prints {"value": v} after d and exits 0.
inline WorkerScript completes(double v, milliseconds d = milliseconds(1000)) {
  WorkerScript s;
  s.lines.emplace_back(d, "{\"value\": " + std::to_string(v) + "}");
  return s;
}

// A worker that prints one step a second (values), then {"value": last}.
inline WorkerScript reports_steps(const std::vector<double>& values) {
  WorkerScript s;
  for (size_t i = 0; i < values.size(); ++i) {
    s.lines.emplace_back(
        milliseconds(1000 * (i + 1)),
        "{\"step\": " + std::to_string(i) + ", \"value\": " + std::to_string(values[i]) + "}");
  }
  s.lines.emplace_back(milliseconds(1000 * (values.size() + 1)),
                       "{\"value\": " + std::to_string(values.back()) + "}");
  return s;
}

// A worker that exits after d with problem (e.g. "exited with status 1").
inline WorkerScript dies(const std::string& problem, milliseconds d = milliseconds(10)) {
  WorkerScript s;
  s.exit_at = d;
  s.exit_problem = problem;
  return s;
}

class FakeWorkerSet : public WorkerSet {
 public:
  using Script = std::function<WorkerScript(const WorkerSpec&)>;

  // One worker's life as recorded.
  struct Record {
    WorkerSpec spec;
    TimePoint started;
    std::optional<TimePoint> ended;  // Exited or killed.
    std::vector<int> signals;
    std::string log;
    std::vector<std::string> delivered;  // Lines read by the orchestrator.
  };

  explicit FakeWorkerSet(Script script) : m_script(std::move(script)) {}

  TimePoint now() const override { return m_now; }

  WorkerId start(const WorkerSpec& spec) override {
    WorkerScript script = m_script(spec);
    if (!script.start_error.empty()) {
      ++m_failed_starts;
      throw StartError(script.start_error);
    }
    const WorkerId id = static_cast<WorkerId>(m_records.size());
    m_records.push_back(Record{spec, m_now, std::nullopt, {}, "", {}});
    Live live;
    live.script = std::move(script);
    if (!live.script.exit_at) {
      live.script.exit_at =
          live.script.lines.empty() ? milliseconds(0) : live.script.lines.back().first;
    }
    m_live.emplace(id, std::move(live));
    m_max_running = std::max(m_max_running, static_cast<int>(m_live.size()));
    return id;
  }

  void wait(milliseconds timeout) override {
    TimePoint next = m_now + std::max(timeout, milliseconds(0));
    for (const auto& [id, w] : m_live) {
      if (auto t = next_event(id, w)) {
        next = std::min(next, std::max(*t, m_now));
      }
    }
    m_waited += next - m_now;
    m_now = next;
    if (m_now - TimePoint{} > std::chrono::hours(24)) {  // A stuck study fails, never hangs.
      throw std::runtime_error("fake worker set: the study ran past 24 h of scripted time");
    }
    if (m_interrupt_at && m_now >= *m_interrupt_at) {
      m_interrupt_at.reset();
      ::raise(m_interrupt_signal);  // The orchestrator's handler notes it.
    }
  }

  std::vector<StdoutLine> read_lines(WorkerId id) override {
    Live& w = live(id);
    Record& r = m_records[static_cast<size_t>(id)];
    std::vector<StdoutLine> out;
    while (!w.killed && w.next_line < w.script.lines.size() &&
           started(id) + w.script.lines[w.next_line].first <= m_now) {
      const std::string& text = w.script.lines[w.next_line].second;
      if (text.size() > k_max_line_bytes) {  // Cut, as WorkerProcess cuts a longer line.
        out.push_back({text.substr(0, k_max_line_bytes), true});
      } else {
        out.push_back({text, false});
      }
      r.delivered.push_back(w.script.lines[w.next_line].second);
      ++w.next_line;
    }
    return out;
  }

  void log(WorkerId id, const std::string& text) override {
    live(id);
    m_records[static_cast<size_t>(id)].log += text;
  }

  bool has_log(WorkerId id) override {
    live(id);
    return !m_records[static_cast<size_t>(id)].log.empty();
  }

  bool finished(WorkerId id) override {
    Live& w = live(id);
    const bool exited = w.killed || started(id) + *w.script.exit_at <= m_now;
    const bool drained = w.killed || w.next_line == w.script.lines.size();
    if (exited && drained && !m_records[static_cast<size_t>(id)].ended) {
      m_records[static_cast<size_t>(id)].ended = m_now;
    }
    return exited && drained;
  }

  void signal(WorkerId id, int sig) override {
    Live& w = live(id);
    m_records[static_cast<size_t>(id)].signals.push_back(sig);
    const bool exited = w.killed || started(id) + *w.script.exit_at <= m_now;
    if (!exited && (sig == SIGKILL || (sig == SIGTERM && !w.script.ignores_sigterm))) {
      w.killed = true;
      w.script.exit_signal = sig;
      w.script.exit_problem = std::string("killed by signal ") + std::to_string(sig) +
                              (sig == SIGKILL ? " (SIGKILL)" : " (SIGTERM)");
      m_records[static_cast<size_t>(id)].ended = m_now;
    }
  }

  WorkerResult reap(WorkerId id) override {
    Live& w = live(id);
    Record& r = m_records[static_cast<size_t>(id)];
    if (!r.ended) {
      r.ended = m_now;  // Killed by the reap.
    }
    WorkerResult result{w.script.exit_problem, w.script.stderr_tail, !r.log.empty(),
                        w.script.log_problem, w.script.exit_signal};
    m_live.erase(id);
    return result;
  }

  // Records the folder; pretends leftovers_per_call processes were there.
  size_t end_leftovers(const std::string& trial_dir) override {
    m_leftover_calls.push_back(trial_dir);
    return leftovers_per_call;
  }
  const std::vector<std::string>& leftover_calls() const { return m_leftover_calls; }
  size_t leftovers_per_call = 0;

  // Raises sig (SIGINT, SIGTSTP, ...) once the clock reaches t.
  void interrupt_at(TimePoint t, int sig = SIGINT) {
    m_interrupt_at = t;
    m_interrupt_signal = sig;
  }

  // Records the stop; this process is not stopped and the clock does not move (the time a
  // study is stopped does not count).
  std::chrono::steady_clock::duration stop_with_workers(
      const std::function<bool()>& still_wanted) override {
    if (!still_wanted()) {
      return {};
    }
    m_stops.push_back({m_now, static_cast<int>(m_live.size())});
    return std::chrono::minutes(10);
  }
  // Records d; the scripted clock does not move while the study waits in real time.
  void discount(std::chrono::steady_clock::duration d) override { m_discounted += d; }
  std::chrono::steady_clock::duration discounted() const { return m_discounted; }
  // When the study was stopped and how many workers were running then.
  const std::vector<std::pair<TimePoint, int>>& stops() const { return m_stops; }

  const std::vector<Record>& records() const { return m_records; }
  int max_running() const { return m_max_running; }
  int running() const { return static_cast<int>(m_live.size()); }
  int failed_starts() const { return m_failed_starts; }
  // All the time spent in wait().
  std::chrono::steady_clock::duration waited() const { return m_waited; }
  TimePoint epoch() const { return TimePoint{}; }

 private:
  struct Live {
    WorkerScript script;
    size_t next_line = 0;
    bool killed = false;
  };

  Live& live(WorkerId id) {
    auto it = m_live.find(id);
    if (it == m_live.end()) {
      throw std::logic_error("fake worker set: no live worker " + std::to_string(id));
    }
    return it->second;
  }
  TimePoint started(WorkerId id) const { return m_records[static_cast<size_t>(id)].started; }
  // When worker id does something next: its next line or its exit.
  std::optional<TimePoint> next_event(WorkerId id, const Live& w) const {
    if (w.killed) {
      return m_now;
    }
    if (w.next_line < w.script.lines.size()) {
      return started(id) + w.script.lines[w.next_line].first;
    }
    return started(id) + *w.script.exit_at;
  }

  Script m_script;
  TimePoint m_now{};
  std::map<WorkerId, Live> m_live;
  std::vector<Record> m_records;
  int m_max_running = 0;
  std::vector<std::string> m_leftover_calls;
  int m_failed_starts = 0;
  std::chrono::steady_clock::duration m_waited{};
  std::optional<TimePoint> m_interrupt_at;
  int m_interrupt_signal = SIGINT;
  std::vector<std::pair<TimePoint, int>> m_stops;
  std::chrono::steady_clock::duration m_discounted{};
};

}  // namespace hpt::test
