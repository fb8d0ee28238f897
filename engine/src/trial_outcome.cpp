#include "trial_outcome.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "hpt/engine/worker_process.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

// For a failing final value: "; then: <stop reason>" when hpt ended the worker after it (a NaN
// printed, then a hang until objective.timeout), else "".
std::string then_ended(const RunningTrial& r) {
  return r.stop_reason.empty() ? "" : "; then: " + r.stop_reason;
}

}  // namespace

TrialOutcome trial_outcome(const RunningTrial& r, const WorkerResult& worker,
                           bool multi_objective) {
  TrialOutcome o;
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
    o.fail((multi_objective
                ? "worker exited without printing a final {\"values\": [v1, v2, ...]} line"
                : "worker exited without printing a final {\"value\": v} line") +
           (r.near_miss.empty() ? "" : "; a line was not read as one: " + r.near_miss) +
           (r.line_cut ? "; a line longer than 1 MiB was cut (see the trial's log)" : ""));
  } else if (multi_objective) {
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

bool ended_after_final(const RunningTrial& r, const TrialOutcome& o) {
  return o.state != TrialState::Fail && !r.stop_reason.empty();
}

std::string trimmed_tail(const std::string& s) {
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

std::string stderr_reason(const std::string& tail) {
  const std::string_view line = last_nonblank_line(tail);
  if (line.empty()) {
    return "";
  }
  const std::string_view kept = utf8_prefix(line, 300);
  return ": " + std::string(kept) + (kept.size() < line.size() ? "\u2026" : "");
}

std::chrono::steady_clock::duration failure_backoff(int n) {
  if (n < 2) {
    return std::chrono::steady_clock::duration::zero();
  }
  return std::chrono::milliseconds(std::min(1000, 10 << std::min(n - 2, 7)));
}

}  // namespace hpt
