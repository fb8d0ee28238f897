#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "../../engine/src/trial_outcome.hpp"  // Internal to the engine.

using namespace hpt;

namespace {

// A trial whose worker printed its final value v (values: a multi-objective study's).
RunningTrial with_final(double v, std::vector<double> values = {}) {
  RunningTrial r;
  WorkerMessage m;
  m.value = v;
  m.values = std::move(values);
  r.final = m;
  return r;
}

WorkerResult exited(const std::string& problem, const std::string& stderr_tail = "", int sig = 0) {
  WorkerResult w;
  w.exit_problem = problem;
  w.stderr_tail = stderr_tail;
  w.signal = sig;
  return w;
}

const double k_nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

// A final value and a clean exit: COMPLETE with the value (or values), and the constraints the
// worker reported.
TEST_CASE("trial outcome: complete", "[trial_outcome]") {
  RunningTrial r = with_final(0.25);
  r.constraints = std::vector<double>{-1.0, 0.5};
  const TrialOutcome o = trial_outcome(r, WorkerResult{}, false);
  CHECK(o.state == TrialState::Complete);
  CHECK(o.value == 0.25);
  CHECK(o.values.empty());
  CHECK(o.reason.empty());
  CHECK(o.constraints == std::vector<double>{-1.0, 0.5});
  const TrialOutcome multi = trial_outcome(with_final(0, {1, 2}), WorkerResult{}, true);
  CHECK(multi.state == TrialState::Complete);
  CHECK_FALSE(multi.value);
  CHECK(multi.values == std::vector<double>{1, 2});
}

// A pruned trial keeps its last step's value (none when it is NaN), whatever its exit.
TEST_CASE("trial outcome: pruned", "[trial_outcome]") {
  RunningTrial r;
  r.pruned = true;
  r.trial.intermediate_values[1] = 0.5;
  r.trial.intermediate_values[3] = 0.75;
  const TrialOutcome o = trial_outcome(r, exited("killed by signal 15 (SIGTERM)"), false);
  CHECK(o.state == TrialState::Pruned);
  CHECK(o.value == 0.75);
  r.trial.intermediate_values[4] = k_nan;
  CHECK_FALSE(trial_outcome(r, WorkerResult{}, false).value);
}

// Each way a trial fails, with its reason: ended by hpt before a value, a worker's bad exit
// (with the last line of its stderr; a SIGKILL hpt did not send hints at memory), no final
// value line (naming a near miss and a cut line), a NaN value. A FAIL keeps no constraints.
TEST_CASE("trial outcome: failures and their reasons", "[trial_outcome]") {
  RunningTrial stopped;
  stopped.stop_reason = "timed out after 5 s (objective.timeout)";
  stopped.constraints = std::vector<double>{1.0};
  const TrialOutcome timed_out = trial_outcome(stopped, exited("killed by signal 15"), false);
  CHECK(timed_out.state == TrialState::Fail);
  CHECK(timed_out.reason == "timed out after 5 s (objective.timeout)");
  CHECK_FALSE(timed_out.constraints);

  CHECK(
      trial_outcome(with_final(1), exited("exited with status 1", "loading\nbad input\n\n"), false)
          .reason == "worker exited with status 1: bad input");
  CHECK(trial_outcome(RunningTrial{}, exited("killed by signal 9 (SIGKILL)", "", SIGKILL), false)
            .reason ==
        "worker killed by signal 9 (SIGKILL), not sent by hpt: out of memory? (the kernel's OOM "
        "killer sends it)");

  RunningTrial silent;
  CHECK(trial_outcome(silent, WorkerResult{}, false).reason ==
        "worker exited without printing a final {\"value\": v} line");
  silent.near_miss = "no \"value\" (line: {\"step\": 1})";
  silent.line_cut = true;
  CHECK(trial_outcome(silent, WorkerResult{}, true).reason ==
        "worker exited without printing a final {\"values\": [v1, v2, ...]} line; a line was not "
        "read as one: no \"value\" (line: {\"step\": 1}); a line longer than 1 MiB was cut (see "
        "the trial's log)");

  const TrialOutcome nan = trial_outcome(with_final(k_nan), WorkerResult{}, false);
  CHECK(nan.state == TrialState::Fail);
  CHECK_FALSE(nan.value);
  CHECK(nan.reason == "worker reported a NaN value");
  CHECK(trial_outcome(with_final(0, {1, k_nan}), WorkerResult{}, true).reason ==
        "worker reported a NaN value (objective 1)");
}

// A final value that came before hpt ended the worker (a timeout while it lingered) counts; a
// failing one says what ended it too.
TEST_CASE("trial outcome: ended after its final value", "[trial_outcome]") {
  RunningTrial r = with_final(2);
  r.stop_reason = "timed out after 5 s (objective.timeout)";
  const TrialOutcome o = trial_outcome(r, exited("killed by signal 15 (SIGTERM)"), false);
  CHECK(o.state == TrialState::Complete);
  CHECK(o.value == 2);
  CHECK(ended_after_final(r, o));
  CHECK_FALSE(ended_after_final(with_final(2), o));
  RunningTrial nan = with_final(k_nan);
  nan.stop_reason = r.stop_reason;
  const TrialOutcome failed = trial_outcome(nan, WorkerResult{}, false);
  CHECK(failed.reason ==
        "worker reported a NaN value; then: timed out after 5 s (objective.timeout)");
  CHECK_FALSE(ended_after_final(nan, failed));
}

// The reason's stderr line is the last non-blank one, at most 300 bytes (cut on a character,
// with an ellipsis); the stored tail is the last 2000 bytes.
TEST_CASE("trial outcome: stderr in the reason and the stored tail", "[trial_outcome]") {
  CHECK(stderr_reason("").empty());
  CHECK(stderr_reason("\n  \n").empty());
  CHECK(stderr_reason("first\n  hpt: error: x\n\n") == ": hpt: error: x");
  CHECK(stderr_reason(std::string(1000, 'x')) == ": " + std::string(300, 'x') + "\u2026");
  const std::string accented = std::string(299, 'a') + "\xc3\xa9";  // é straddles byte 300.
  CHECK(stderr_reason(accented) == ": " + std::string(299, 'a') + "\u2026");
  CHECK(trimmed_tail("short") == "short");
  const std::string tail = std::string(10, 'a') + std::string(2000, 'b');
  CHECK(trimmed_tail(tail) == std::string(2000, 'b'));
}

// Quick failures in a row: no pause for the first, then 10 ms doubling up to 1 s.
TEST_CASE("trial outcome: failure backoff", "[trial_outcome]") {
  using std::chrono::milliseconds;
  CHECK(failure_backoff(0) == milliseconds(0));
  CHECK(failure_backoff(1) == milliseconds(0));
  CHECK(failure_backoff(2) == milliseconds(10));
  CHECK(failure_backoff(3) == milliseconds(20));
  CHECK(failure_backoff(8) == milliseconds(640));
  CHECK(failure_backoff(9) == milliseconds(1000));
  CHECK(failure_backoff(1000) == milliseconds(1000));
  CHECK(k_quick_failure == std::chrono::seconds(1));
}
