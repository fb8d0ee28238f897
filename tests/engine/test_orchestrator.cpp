#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/storage/storage.hpp"

using namespace hpt;

namespace {

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    dir = std::filesystem::temp_directory_path() /
          ("hpt_orch_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string db() const { return (dir / "s.db").string(); }
};

// A config whose objective is a shell one-liner; x in [0, 4], value = x.
StudyConfig shell_study(const TempDb& t, const std::string& script, const std::string& extra = "") {
  std::string yaml = "study: {name: s, storage: " + t.db() + ", seed: 1, pruner: {type: none}" +
                     extra + "}\nobjective: {command: [sh, -c, '" + script +
                     "']}\nsearch_space:\n  x: {type: float, low: 0, high: 4}\n";
  return parse_study_config(yaml, "test.yaml");
}

int run(const StudyConfig& c, int trials, std::string* log = nullptr) {
  auto storage = open_storage(c.storage);
  std::ostringstream out;
  RunOptions o;
  o.trials = trials;
  int code = run_study(c, *storage, o, out);
  if (log) {
    *log = out.str();
  }
  return code;
}

std::map<TrialState, int> states(const std::string& db) {
  auto s = open_storage(db, true);
  std::map<TrialState, int> out;
  for (const auto& t : s->get_all_trials(s->find_study("s")->id)) {
    ++out[t.state];
  }
  return out;
}

}  // namespace

// The study reaches its total; values and params come from the worker's output.
TEST_CASE("orchestrator: values reach the storage", "[orchestrator]") {
  TempDb t;
  auto c = shell_study(t, "echo \"{\\\"value\\\": {x}}\"");
  REQUIRE(run(c, 5) == k_exit_ok);
  auto s = open_storage(t.db(), true);
  auto trials = s->get_all_trials(s->find_study("s")->id);
  REQUIRE(trials.size() == 5);
  for (const auto& tr : trials) {
    CHECK(tr.state == TrialState::Complete);
    REQUIRE(tr.value);
    CHECK(*tr.value == Approx(tr.params.at("x")));
  }
}

// A failing objective stops the study after max_failures; exit code says so.
TEST_CASE("orchestrator: failure budget", "[orchestrator]") {
  TempDb t;
  auto c = shell_study(t, "echo broken >&2; exit 4", ", max_failures: 2");
  std::string log;
  CHECK(run(c, 5, &log) == k_exit_failures);
  CHECK_THAT(log, Catch::Contains("stopping after 2 failed trials"));
  CHECK(states(t.db()) == std::map<TrialState, int>{{TrialState::Fail, 2}});
}

// Retries re-run a failed trial with the same parameters as a new trial.
TEST_CASE("orchestrator: retries keep parameters", "[orchestrator]") {
  TempDb t;
  auto c = parse_study_config("study: {name: s, storage: " + t.db() +
                                  ", pruner: {type: none}, max_failures: 10}\n"
                                  "objective: {command: [sh, -c, 'exit 1'], retries: 2}\n"
                                  "search_space: {x: {type: float, low: 0, high: 4}}\n",
                              "t.yaml");
  run(c, 1);
  auto s = open_storage(t.db(), true);
  auto trials = s->get_all_trials(s->find_study("s")->id);
  REQUIRE(trials.size() >= 3);
  CHECK(trials[1].params == trials[0].params);
  CHECK(trials[2].params == trials[0].params);
  CHECK(trials[1].system_attrs.at("hpt:retry_of") == 0);
  CHECK(trials[0].system_attrs.at("fail_reason") == "worker exited with status 1");
}

// The median pruner stops a trial whose steps are worse than the completed ones.
TEST_CASE("orchestrator: pruning", "[orchestrator]") {
  TempDb t;
  // value = x at every step: trials with large x are worse (minimize) and get pruned.
  auto c = parse_study_config(
      "study: {name: s, storage: " + t.db() +
          ", seed: 3, sampler: {type: random}, pruner: {type: median, n_startup_trials: 2}}\n"
          "objective: {command: [sh, -c, 'for i in 0 1 2 3 4 5; do echo \"{\\\"step\\\": $i, "
          "\\\"value\\\": {x}}\"; "
          "sleep 0.05; done; echo \"{\\\"value\\\": {x}}\"']}\n"
          "search_space: {x: {type: float, low: 0, high: 4}}\n",
      "t.yaml");
  REQUIRE(run(c, 10) == k_exit_ok);
  auto st = states(t.db());
  CHECK(st[TrialState::Complete] + st[TrialState::Pruned] == 10);
  CHECK(st[TrialState::Pruned] > 0);
}
