#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../storage/faulty_dialect.hpp"
#include "fake_worker_set.hpp"
#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/proc_stat.hpp"
#include "hpt/engine/study_check.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/subreaper.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/storage/sql_storage.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// A study database in a fresh folder.
struct TempDb {
  hpt::test::TempDir tmp{"orch"};
  std::filesystem::path dir = tmp.path();
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

// Without study.seed, a study hpt creates draws its own seed and keeps it (k_seed_attr): two
// such studies sample apart (as Optuna's unseeded ones do; every one sampled seed 0's trials),
// and a study resumed samples on from its seed. A study that exists without one keeps the old
// default, 0, when it has trials (an earlier hpt's, Optuna's); one without trials yet (made by
// another process a moment ago) draws one.
TEST_CASE("orchestrator: an unseeded study samples with a seed of its own", "[orchestrator]") {
  TempDb t;
  const auto config = [&](const std::string& name, const std::string& seed = "") {
    return parse_study_config(
        "study: {name: " + name + ", storage: " + t.db() + seed +
            ", sampler: {type: random}, pruner: {type: none}}\n" +
            R"(objective: {command: [sh, -c, 'echo "{\"value\": $HPT_SEED}"']})" +
            "\nsearch_space:\n  x: {type: float, low: 0, high: 4}\n",
        "test.yaml");
  };
  const auto trials_of = [&](const std::string& name) {
    auto s = open_storage(t.db(), true);
    return s->get_all_trials(s->find_study(name)->id);
  };
  const auto attrs_of = [&](const std::string& name) {
    auto s = open_storage(t.db(), true);
    return s->study_system_attrs(s->find_study(name)->id);
  };
  REQUIRE(run(config("a"), 2) == k_exit_ok);
  REQUIRE(run(config("b"), 2) == k_exit_ok);
  const Json a_seed = attrs_of("a").at(k_seed_attr);
  CHECK(a_seed != attrs_of("b").at(k_seed_attr));
  CHECK(trials_of("a")[0].params.at("x") != trials_of("b")[0].params.at("x"));
  CHECK(trials_of("a")[0].value != trials_of("b")[0].value);  // HPT_SEED differs too.
  REQUIRE(run(config("a"), 4) == k_exit_ok);
  CHECK(attrs_of("a").at(k_seed_attr) == a_seed);
  {
    auto s = open_storage(t.db());
    s->create_study("old", Direction::Minimize);  // With a trial from before: keeps seed 0.
    FrozenTrial before;
    before.state = TrialState::Complete;
    before.value = 1.0;
    s->create_trial(s->find_study("old")->id, before);
    s->create_study("empty", Direction::Minimize);  // Made by another process, no trial yet.
  }
  REQUIRE(run(config("old"), 2) == k_exit_ok);
  CHECK(attrs_of("old").at(k_seed_attr) == Json(0));
  REQUIRE(run(config("empty"), 1) == k_exit_ok);
  CHECK(attrs_of("empty").at(k_seed_attr) != Json(0));
  // An explicit study.seed wins and is not stored: two studies of one seed sample alike.
  REQUIRE(run(config("c", ", seed: 5"), 1) == k_exit_ok);
  REQUIRE(run(config("d", ", seed: 5"), 1) == k_exit_ok);
  CHECK(attrs_of("c").count(k_seed_attr) == 0);
  CHECK(trials_of("c")[0].params.at("x") == trials_of("d")[0].params.at("x"));
}

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

// A new study in a database holding others says so, naming them and the one a typo missed
// (`--study ss` for `s` started afresh without a word); resuming says nothing of the kind.
TEST_CASE("orchestrator: a new study beside others is said", "[orchestrator]") {
  TempDb t;
  auto c = shell_study(t, "echo \"{\\\"value\\\": {x}}\"");
  std::string log;
  REQUIRE(run(c, 1, &log) == k_exit_ok);
  CHECK_THAT(log, !Catch::Contains("new study"));  // The first study of a new database.
  c.name = "ss";
  REQUIRE(run(c, 1, &log) == k_exit_ok);
  CHECK_THAT(log, Catch::Contains("hpt: new study 'ss' in a database that holds 1 other: 's'; to "
                                  "resume 's' instead, give its name (--study or study.name), and "
                                  "hpt delete-study " +
                                  t.db() + " --study ss removes this one\n"));
  REQUIRE(run(c, 2, &log) == k_exit_ok);  // Resumed: nothing to say.
  CHECK_THAT(log, !Catch::Contains("new study"));
  c.name = "s\t";  // Shown escaped: no command to paste, only its words.
  REQUIRE(run(c, 1, &log) == k_exit_ok);
  CHECK_THAT(log, Catch::Contains("; to resume 's' instead, give its name (--study or study.name), "
                                  "and hpt delete-study (the database) --study (its name) removes "
                                  "this one\n"));
  c.name = "unrelated-name";
  REQUIRE(run(c, 1, &log) == k_exit_ok);
  CHECK_THAT(log, Catch::Contains("new study 'unrelated-name' in a database that holds 3 others: "
                                  "'s', 'ss', 's\\t'\n"));
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

namespace {

int open_fds() {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                        std::filesystem::directory_iterator{}));
}

std::vector<FrozenTrial> all_trials(const std::string& db) {
  auto s = open_storage(db, true);
  return s->get_all_trials(s->find_study("s")->id);
}

}  // namespace

// Starts that fail (a program gone since the config was checked) are FAIL trials counted
// toward max_failures, reaped, and leave no descriptor.
TEST_CASE("orchestrator: failed starts count and leak nothing", "[orchestrator]") {
  TempDb t;
  auto c = parse_study_config("study: {name: s, storage: " + t.db() +
                                  ", pruner: {type: none}, max_failures: 4}\n"
                                  "objective: {command: ['/bin/{p}']}\n"
                                  "search_space: {p: ['true', sh]}\n",
                              "t.yaml");
  c.command = {"/nonexistent/{p}"};
  const int fds = open_fds();
  std::string log;
  CHECK(run(c, 10, &log) == k_exit_failures);
  CHECK_THAT(log, Catch::Contains("stopping after 4 failed trials"));
  auto trials = all_trials(t.db());
  REQUIRE(trials.size() == 4);
  for (const auto& tr : trials) {
    CHECK(tr.state == TrialState::Fail);
    CHECK_THAT(tr.system_attrs.at("fail_reason").get<std::string>(),
               Catch::Contains("cannot start '/nonexistent/"));
  }
  CHECK(open_fds() == fds);
  CHECK(child_processes().empty());
}

// A protocol problem in one line fails that trial with the reason; the study goes on and
// no trial is left RUNNING.
TEST_CASE("orchestrator: protocol errors fail one trial", "[orchestrator]") {
  TempDb t;
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({\"value\": 1e400})", "out of the range of a double"},
      {R"({\"step\": -1, \"value\": 1})", "negative"},
      {R"({\"step\": 9223372036854775808, \"value\": 1})", "beyond the largest step"},
      {R"({\"value\": 1, \"user_attrs\": {\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       "nested deeper"},
  };
  std::string choices;
  for (size_t i = 0; i < cases.size(); ++i) {
    choices += (i ? ", " : "") + std::to_string(i);
  }
  std::string script = "case {i} in ";
  for (size_t i = 0; i < cases.size(); ++i) {
    script += std::to_string(i) + ") echo \"" + cases[i].first + "\";; ";
  }
  script += "esac; sleep 0.05; echo \"{\\\"value\\\": 2}\"";
  auto c =
      parse_study_config("study: {name: s, storage: " + t.db() +
                             ", pruner: {type: none}, sampler: {type: grid}, max_failures: 4}\n"
                             "objective: {command: [sh, -c, '" +
                             script +
                             "']}\n"
                             "search_space: {i: [" +
                             choices + "]}\n",
                         "t.yaml");
  CHECK(run(c, 1) == k_exit_failures);  // Every trial failed: the grid is exhausted by FAILs.
  auto trials = all_trials(t.db());
  REQUIRE(trials.size() >= cases.size());
  for (const auto& tr : trials) {
    REQUIRE(tr.state == TrialState::Fail);
    const int i = static_cast<int>(tr.params.at("i"));
    CHECK_THAT(tr.system_attrs.at("fail_reason").get<std::string>(),
               Catch::Contains("protocol error") && Catch::Contains(cases[i].second));
  }
}

// A repeated step keeps its first value (Optuna); later lines still count.
TEST_CASE("orchestrator: repeated step keeps the first value", "[orchestrator]") {
  TempDb t;
  auto c = shell_study(t,
                       "echo \"{\\\"step\\\": 1, \\\"value\\\": 5}\"; echo \"{\\\"step\\\": 1, "
                       "\\\"value\\\": 9}\"; echo \"{\\\"step\\\": 2, \\\"value\\\": 7}\"; echo "
                       "\"{\\\"value\\\": 1}\"");
  REQUIRE(run(c, 1) == k_exit_ok);
  auto trials = all_trials(t.db());
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].intermediate_values == hpt::StepValues{{1, 5.0}, {2, 7.0}});
}

// A daemon started with setsid by a worker does not outlive its trial.
TEST_CASE("orchestrator: setsid descendants end with their trial", "[orchestrator]") {
  TempDb t;
  const std::string pidfile = (t.dir / "daemon.pid").string();
  for (const std::string redirect : {"", " </dev/null >/dev/null 2>&1"}) {
    std::filesystem::remove(pidfile);
    auto c = shell_study(t, "setsid sleep 600" + redirect + " & echo $! > " + pidfile +
                                "; sleep 0.2; echo \"{\\\"value\\\": 1}\"");
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(run(c, 1 + (redirect.empty() ? 0 : 1)) == k_exit_ok);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    pid_t daemon = 0;
    std::ifstream(pidfile) >> daemon;
    REQUIRE(daemon > 0);
    CHECK_FALSE(process_alive(daemon));
    CHECK(child_processes().empty());
  }
}

// Each running trial gets its own GPUs; trials that run at once never share one; a
// failing worker gives its devices back.
TEST_CASE("orchestrator: GPUs are handed out exclusively", "[orchestrator][gpu]") {
  TempDb t;
  const std::string record = (t.dir / "gpus.txt").string();
  auto c = parse_study_config(
      "study: {name: s, storage: " + t.db() +
          ", pruner: {type: none}, gpus: [0, 1, 2, 3, 4], gpus_per_trial: 2, max_failures: 50}\n"
          "objective: {command: [sh, -c, 'echo \"$HPT_TRIAL_NUMBER $CUDA_VISIBLE_DEVICES "
          "$HPT_GPUS start $(date +%s%N)\" >> " +
          record +
          "; sleep 0.1; echo \"$HPT_TRIAL_NUMBER $CUDA_VISIBLE_DEVICES $HPT_GPUS end $(date "
          "+%s%N)\" >> " +
          record +
          "; [ $((HPT_TRIAL_NUMBER % 3)) = 1 ] && exit 1; echo \"{\\\"value\\\": 1}\"']}\n"
          "search_space: {x: {type: float, low: 0, high: 1}}\n",
      "t.yaml");
  CHECK(c.jobs == 2);  // len(gpus) / gpus_per_trial
  REQUIRE(run(c, 8) == k_exit_ok);
  struct Span {
    std::string gpus;
    long long start = 0, end = 0;
  };
  std::map<int, Span> spans;
  std::ifstream in(record);
  std::string number, cuda, hpt_gpus, what;
  long long when;
  while (in >> number >> cuda >> hpt_gpus >> what >> when) {
    CHECK(cuda == hpt_gpus);
    auto& s = spans[std::stoi(number)];
    s.gpus = cuda;
    (what == "start" ? s.start : s.end) = when;
  }
  REQUIRE(spans.size() >= 8);
  for (const auto& [a, sa] : spans) {
    CHECK((sa.gpus == "0,1" || sa.gpus == "2,3"));  // Device 4 is never half of a pair.
    for (const auto& [b, sb] : spans) {
      if (a < b && sa.start < sb.end && sb.start < sa.end) {  // Ran at the same time.
        CHECK(sa.gpus != sb.gpus);
      }
    }
  }
}

// A multi-objective study: every objective's value is stored (one trial_values row each),
// NSGA-II's generation is recorded on each trial, and a worker that prints "value", a
// wrong number of values or a NaN fails just its trial.
TEST_CASE("orchestrator: multi-objective values", "[orchestrator][multiobj]") {
  TempDb t;
  auto c = parse_study_config(
      "study: {name: s, storage: " + t.db() +
          ", seed: 1, directions: [minimize, maximize], sampler: {type: nsga2, "
          "population_size: 2}}\nobjective: {command: [sh, -c, 'echo \"{\\\"values\\\": [{x}, "
          "{x}]}\"']}\nsearch_space:\n  x: {type: float, low: 0, high: 4}\n",
      "test.yaml");
  REQUIRE(run(c, 6) == k_exit_ok);
  auto trials = all_trials(t.db());
  REQUIRE(trials.size() == 6);
  for (const auto& tr : trials) {
    CHECK(tr.state == TrialState::Complete);
    REQUIRE(tr.values.size() == 2);
    CHECK(tr.values[0] == Approx(tr.params.at("x")));
    CHECK(tr.system_attrs.count("nsga2:generation") == 1);
  }
  CHECK(trials.back().system_attrs.at("nsga2:generation").get<int>() >= 1);

  TempDb bad;
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({\"value\": 1})", "the study has 2 objectives"},
      {R"({\"values\": [1, 2, 3]})", "values has 3 numbers"},
      {R"({\"values\": [1, NaN]})", "worker reported a NaN value (objective 1)"},
  };
  std::string script = "case {i} in ";
  for (size_t i = 0; i < cases.size(); ++i) {
    script += std::to_string(i) + ") echo \"" + cases[i].first + "\";; ";
  }
  script += "esac";
  auto f = parse_study_config("study: {name: s, storage: " + bad.db() +
                                  ", directions: [minimize, minimize], sampler: {type: grid}, "
                                  "max_failures: 3}\nobjective: {command: [sh, -c, '" +
                                  script + "']}\nsearch_space: {i: [0, 1, 2]}\n",
                              "t.yaml");
  CHECK(run(f, 1) == k_exit_failures);
  for (const auto& tr : all_trials(bad.db())) {
    REQUIRE(tr.state == TrialState::Fail);
    CHECK(tr.values.empty());
    CHECK_THAT(tr.system_attrs.at("fail_reason").get<std::string>(),
               Catch::Contains(cases[static_cast<size_t>(tr.params.at("i"))].second));
  }
}

// The orchestrator on a scripted worker set (fake_worker_set.hpp): no process, no sleep.
namespace {

using hpt::test::FakeWorkerSet;
using hpt::test::WorkerScript;
using std::chrono::milliseconds;

// A study in dir whose workers the fake set plays (its command is never run); x in
// [0, 4]; extra study and objective keys each start with ", "; no pruner unless extra
// names one.
StudyConfig fake_study(const hpt::test::TempDir& dir, const std::string& extra = "",
                       const std::string& objective_extra = "") {
  const std::string pruner =
      extra.find("pruner:") == std::string::npos ? ", pruner: {type: none}" : "";
  return parse_study_config("study: {name: s, storage: " + dir.file("s.db") + ", seed: 1" + pruner +
                                extra + "}\nobjective: {command: [sh]" + objective_extra +
                                "}\nsearch_space:\n  x: {type: float, low: 0, high: 4}\n",
                            "test.yaml");
}

// fake_study in a fresh folder, its database opened with faults to inject.
struct FaultyStudy {
  hpt::test::TempDir dir{"orch"};
  StudyConfig config = fake_study(dir);
  std::unique_ptr<Storage> storage = open_storage(config.storage);
  hpt::test::FaultyDialect& faulty = hpt::test::inject_faults(*storage);
};

// Runs c to trials finished trials on set; out gets the progress text.
int run_fake(const StudyConfig& c, int trials, FakeWorkerSet& set, std::string* out = nullptr) {
  auto storage = open_storage(c.storage);
  std::ostringstream text;
  RunOptions o;
  o.trials = trials;
  const int code = run_study(c, *storage, o, text, set);
  if (out) {
    *out = text.str();
  }
  return code;
}

int trial_number(const WorkerSpec& spec) { return std::stoi(spec.env.at("HPT_TRIAL_NUMBER")); }

double param_x(const WorkerSpec& spec) {
  return Json::parse(spec.env.at("HPT_PARAMS")).at("x").get<double>();
}

// Trial number -> the signals its worker got.
std::map<int, std::vector<int>> signals_by_trial(const FakeWorkerSet& set) {
  std::map<int, std::vector<int>> out;
  for (const auto& r : set.records()) {
    out[trial_number(r.spec)] = r.signals;
  }
  return out;
}

}  // namespace

// Each worker's final value becomes its COMPLETE trial's value; the study stops at its total
// and a study of 5 one-second trials waits only on the fake clock.
TEST_CASE("orchestrator (scripted): complete", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  const auto wall = std::chrono::steady_clock::now();
  REQUIRE(run_fake(fake_study(dir), 5, set) == k_exit_ok);
  CHECK(std::chrono::steady_clock::now() - wall < std::chrono::seconds(5));
  CHECK(set.waited() >= std::chrono::seconds(5));  // Five trials of 1 s one after another.
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 5);
  for (const auto& t : trials) {
    CHECK(t.state == TrialState::Complete);
    REQUIRE(t.value);
    CHECK(*t.value == Approx(t.params.at("x")).epsilon(1e-5));
  }
  CHECK(set.running() == 0);
}

// The pruner's decision goes back to the worker: a trial worse than the median at a step
// is sent SIGTERM, stored PRUNED with its last value, and none of its later lines is read.
TEST_CASE("orchestrator (scripted): prune decision sent back", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    return hpt::test::reports_steps(trial_number(s) < 2 ? std::vector<double>{1, 1, 1}
                                                        : std::vector<double>{9, 9, 9});
  });
  REQUIRE(run_fake(fake_study(dir, ", pruner: {type: median, n_startup_trials: 2}"), 3, set) ==
          k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 3);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[1].state == TrialState::Complete);
  CHECK(trials[2].state == TrialState::Pruned);
  CHECK(trials[2].intermediate_values == hpt::StepValues{{0, 9.0}});
  REQUIRE(trials[2].value);
  CHECK(*trials[2].value == 9.0);
  CHECK(signals_by_trial(set)[2] == std::vector<int>{SIGTERM});
  CHECK(set.records()[2].delivered.size() == 1);
  CHECK(signals_by_trial(set)[0].empty());
}

// A crashing worker's trial FAILs with how it died and its stderr tail; the next trial
// runs.
TEST_CASE("orchestrator (scripted): crash is FAIL with reason", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    if (trial_number(s) == 0) {
      WorkerScript w = hpt::test::dies("killed by signal 11 (SIGSEGV)");
      w.stderr_tail = "Segmentation fault\n";
      return w;
    }
    return hpt::test::completes(1);
  });
  REQUIRE(run_fake(fake_study(dir), 1, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Fail);
  CHECK(trials[0].system_attrs.at("fail_reason") ==
        "worker killed by signal 11 (SIGSEGV): Segmentation fault");
  CHECK(trials[0].system_attrs.at("hpt:stderr_tail") == "Segmentation fault\n");
  CHECK(trials[1].state == TrialState::Complete);
}

// A protocol error fails that trial only (its worker is ended); a non-protocol line goes
// to the trial's log; the trials around it complete.
TEST_CASE("orchestrator (scripted): protocol error fails one trial", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    if (trial_number(s) == 1) {
      WorkerScript w;
      w.lines = {{milliseconds(5), "loading data"},
                 {milliseconds(10), "{\"value\": 1e400}"},
                 {milliseconds(20), "{\"value\": 2}"}};
      w.exit_at = std::chrono::hours(1);  // Only the SIGTERM ends it.
      return w;
    }
    return hpt::test::completes(1);
  });
  REQUIRE(run_fake(fake_study(dir), 3, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 4);
  CHECK(trials[1].state == TrialState::Fail);
  CHECK_THAT(trials[1].system_attrs.at("fail_reason").get<std::string>(),
             Catch::Contains("protocol error") && Catch::Contains("out of the range"));
  CHECK(signals_by_trial(set)[1] == std::vector<int>{SIGTERM});
  CHECK(set.records()[1].log == "loading data\n");
  REQUIRE(trials[1].system_attrs.count("hpt:log") == 1);
  const std::filesystem::path log = trials[1].system_attrs.at("hpt:log").get<std::string>();
  CHECK(log.is_absolute());  // Readers may run from another folder.
  CHECK(log.filename() == "1.log");
  for (int i : {0, 2, 3}) {
    CHECK(trials[static_cast<size_t>(i)].state == TrialState::Complete);
  }
}

// A running trial's log is in the database once it has a line (the dashboard shows it while
// the trial runs); a quiet one records none. It was recorded only when the trial ended.
TEST_CASE("orchestrator (scripted): a running trial's log is recorded as it starts",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 0) {
      w.lines = {{milliseconds(5), "loading data"}};
    }
    w.exit_at = std::chrono::hours(1);
    return w;
  });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + std::chrono::seconds(2));
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 2, set) == k_exit_interrupted);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Waiting);  // Handed back: it never ended on its own.
  REQUIRE(trials[0].system_attrs.count("hpt:log") == 1);
  const std::filesystem::path log = trials[0].system_attrs.at("hpt:log").get<std::string>();
  CHECK(log.is_absolute());
  CHECK(log.filename() == "0.log");
  CHECK(trials[1].system_attrs.count("hpt:log") == 0);
}

// A line meant as the final value but not one (Python's nan in hand-made JSON) is logged
// with why it was not read, and the trial's failure names it instead of only saying that no
// value came. Lines after the final value are logged as ignored.
TEST_CASE("orchestrator (scripted): a near miss is named in the failure",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 0) {
      w.lines = {{milliseconds(5), "{\"value\": nan}"},
                 {milliseconds(6), "{\"value\": 0.5, \"x\": 1}"}};
    } else {
      w.lines = {{milliseconds(5), "{\"value\": 1}"}, {milliseconds(6), "{\"value\": 2}"}};
    }
    w.exit_at = milliseconds(10);
    return w;
  });
  REQUIRE(run_fake(fake_study(dir), 1, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].system_attrs.at("fail_reason") ==
        "worker exited without printing a final {\"value\": v} line; a line was not read as one: "
        "malformed JSON: 'nan' is Python, not JSON (print json.dumps(...): NaN, Infinity, null, "
        "true, false) (line: {\"value\": nan})");
  CHECK_THAT(set.records()[0].log,
             Catch::StartsWith("{\"value\": nan}\n[hpt: not read as a protocol line: malformed") &&
                 Catch::EndsWith("{\"value\": 0.5, \"x\": 1}\n"));  // Only the first is noted.
  REQUIRE(trials[1].value);
  CHECK(*trials[1].value == 1);
  CHECK(set.records()[1].log ==
        "[hpt: ignored, the trial's result was already decided: {\"value\": 2}]\n");
}

// A worker that dies says why: the last non-blank line of its stderr (blanks trimmed, at most
// 300 bytes) follows the exit status in fail_reason, the FAIL line and the stop message.
TEST_CASE("orchestrator (scripted): a failed worker's last stderr line is the reason",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const std::string long_line(1000, 'x');
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    auto s = hpt::test::dies("exited with status 1");
    s.stderr_tail = spec.trial_number == 1
                        ? "x\n" + long_line + "\n"
                        : "loading\n  hpt: error: cfg.yaml:17: dataset.path: no such folder\n\n";
    return s;
  });
  std::string out;
  REQUIRE(run_fake(fake_study(dir, ", max_failures: 2"), 5, set, &out) == k_exit_failures);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].system_attrs.at("fail_reason") ==
        "worker exited with status 1: hpt: error: cfg.yaml:17: dataset.path: no such folder");
  CHECK(trials[1].system_attrs.at("fail_reason") ==
        "worker exited with status 1: " + long_line.substr(0, 300) + "\u2026");
  CHECK_THAT(out, Catch::Contains("trial 0 FAIL: worker exited with status 1: hpt: error: "
                                  "cfg.yaml:17: dataset.path: no such folder"));
}

// Failing trials stop the study after max_failures with exit 3 and the last reason;
// quick failures in a row back off (10 ms doubling) on the clock, not by spinning.
TEST_CASE("orchestrator (scripted): failure budget and backoff", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) { return hpt::test::dies("exited with status 4"); });
  std::string out;
  REQUIRE(run_fake(fake_study(dir, ", max_failures: 5"), 10, set, &out) == k_exit_failures);
  CHECK_THAT(out, Catch::Contains("stopping after 5 failed trials") &&
                      Catch::Contains("trial 4: worker exited with status 4"));
  CHECK(all_trials(dir.file("s.db")).size() == 5);
  const auto& r = set.records();
  REQUIRE(r.size() == 5);
  // Ends at +10 ms each; the next start waits 0, 10, 20, 40 ms after the previous end.
  const std::vector<int> gaps_ms{0, 10, 20, 40};
  for (size_t i = 1; i < r.size(); ++i) {
    CHECK(r[i].started - *r[i - 1].ended >= milliseconds(gaps_ms[i - 1]));
    CHECK(r[i].started - *r[i - 1].ended < milliseconds(gaps_ms[i - 1] + 25));
  }
}

// Successive halving with jobs: 2: a rung one trial completed moments ago counts in the next
// decision of another (the study was re-read at most once a second, so a worse trial within
// that second passed a rung Optuna prunes it at; helper audit).
TEST_CASE("orchestrator (scripted): a rung just completed counts for the next decision",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 0) {
      w.lines = {{milliseconds(100), "{\"step\": 0, \"value\": 0.5}"},
                 {milliseconds(100), "{\"step\": 1, \"value\": 0.4}"},
                 {milliseconds(3000), "{\"value\": 0.4}"}};
    } else {
      w.lines = {{milliseconds(600), "{\"step\": 0, \"value\": 0.9}"},
                 {milliseconds(650), "{\"step\": 1, \"value\": 0.8}"},
                 {milliseconds(700), "{\"step\": 2, \"value\": 0.7}"},
                 {milliseconds(750), "{\"value\": 0.6}"}};
    }
    return w;
  });
  REQUIRE(run_fake(fake_study(dir,
                              ", jobs: 2, pruner: {type: successive_halving, min_resource: 1, "
                              "reduction_factor: 2}"),
                   2, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].system_attrs.at("completed_rung_0") == 0.4);
  CHECK(trials[1].state == TrialState::Pruned);
  CHECK(trials[1].intermediate_values.size() == 2);  // Pruned at step 1, as Optuna prunes it.
}

// A failed trial is retried (objective.retries) as a new trial with the same parameters.
TEST_CASE("orchestrator (scripted): retries", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    return trial_number(s) < 2 ? hpt::test::dies("exited with status 1")
                               : hpt::test::completes(param_x(s));
  });
  REQUIRE(run_fake(fake_study(dir, ", max_failures: 10", ", retries: 2"), 1, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 3);
  CHECK(trials[0].state == TrialState::Fail);
  CHECK(trials[1].state == TrialState::Fail);
  CHECK(trials[2].state == TrialState::Complete);
  CHECK(trials[1].params == trials[0].params);
  CHECK(trials[2].params == trials[0].params);
  CHECK(trials[1].system_attrs.at("hpt:retry_of") == 0);
  CHECK(trials[2].system_attrs.at("hpt:retry_of") == 1);
  CHECK(trials[2].system_attrs.at("hpt:attempt") == 2);
  // Each FAIL says, in its own write, that its retry is due (the retry is a second write).
  CHECK(trials[0].system_attrs.at("hpt:retry_due") == true);
  CHECK(trials[1].system_attrs.at("hpt:retry_due") == true);
}

// A FAIL due a retry whose retry was never made (its run was killed, or hit a full disk, between
// the two writes) gets it from the next run, once the process that failed it is gone: made
// once, with the same parameters, one attempt later. A FAIL not due one, one whose retry exists,
// one whose process still runs, and one another run is making get none. The retry used to be
// lost.
TEST_CASE("orchestrator (scripted): a retry its run never made is made by the next",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir, ", max_failures: 10", ", retries: 2");
  Owner gone = Owner::current();
  gone.pid = 0x7ffffff0;  // No such process.
  {
    auto s = open_storage(c.storage);
    const int64_t study = s->create_study("s", Direction::Minimize);
    auto failed = [&](double x, const Owner& owner, bool due, int attempt) {
      FrozenTrial t;
      t.state = TrialState::Fail;
      t.params = {{"x", x}};
      t.distributions = {{"x", FloatDistribution{0, 4, false, {}}}};
      t.system_attrs["hpt:owner"] = owner.to_json();
      if (due) {
        t.system_attrs["hpt:retry_due"] = true;
      }
      if (attempt > 0) {
        t.system_attrs["hpt:attempt"] = attempt;
      }
      return s->create_trial(study, t);
    };
    failed(1.5, gone, true, 1);   // 0: lost its retry.
    failed(2.5, gone, false, 0);  // 1: not due one.
    failed(3.5, gone, true, 0);   // 2: has its retry (3).
    FrozenTrial retry;
    retry.state = TrialState::Fail;
    retry.system_attrs["hpt:retry_of"] = 2;
    s->create_trial(study, retry);           // 3
    failed(0.5, Owner::current(), true, 0);  // 4: its process still runs (this one).
    failed(1.0, gone, true, 0);              // 5: lost its retry, which a racing run makes.
    s->study_system_attr_once(study, "hpt:retry_restored:5", gone.to_json());
  }
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("trial 0 failed and was due a retry (study.retries) that the "
                                  "run which failed it never made (it stopped first); made now"));
  auto trials = all_trials(c.storage);
  REQUIRE(trials.size() == 7);
  CHECK(trials[6].state == TrialState::Complete);
  CHECK(trials[6].system_attrs.at("hpt:retry_of") == 0);
  CHECK(trials[6].system_attrs.at("hpt:attempt") == 2);
  CHECK(trials[6].params == trials[0].params);
  REQUIRE(set.records().size() == 1);
  // A second run (or one racing it) makes no second retry of it.
  FakeWorkerSet again([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  out.clear();
  REQUIRE(run_fake(c, 2, again, &out) == k_exit_ok);
  CHECK_THAT(out, !Catch::Contains("made now"));
  trials = all_trials(c.storage);
  REQUIRE(trials.size() == 8);
  CHECK(trials[7].system_attrs.count("hpt:retry_of") == 0);  // Sampled anew.
}

// study.jobs bounds the workers running at once, and the bound is reached.
TEST_CASE("orchestrator (scripted): jobs limit", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    return hpt::test::completes(1, milliseconds(500 + 100 * (trial_number(s) % 4)));
  });
  REQUIRE(run_fake(fake_study(dir, ", jobs: 3"), 12, set) == k_exit_ok);
  CHECK(set.max_running() == 3);
  CHECK(set.records().size() == 12);
}

// Each worker gets its share of the host's cores as OMP_NUM_THREADS (cores / jobs, at least
// 1), unless the user's environment sets OMP_NUM_THREADS: then workers inherit it. A value that
// is no thread count (100000 crashed LibTorch; "" and "lots" reached every worker) is said once
// and replaced by the share.
TEST_CASE("orchestrator (scripted): OpenMP threads shared out", "[orchestrator][scripted]") {
  const char* user = std::getenv("OMP_NUM_THREADS");
  const std::string saved = user != nullptr ? user : "";
  ::unsetenv("OMP_NUM_THREADS");
  for (int jobs : {1, 2, 64}) {
    hpt::test::TempDir dir("orch");
    FakeWorkerSet set([](const WorkerSpec&) { return hpt::test::completes(1, milliseconds(1)); });
    REQUIRE(run_fake(fake_study(dir, ", jobs: " + std::to_string(jobs)), 2, set) == k_exit_ok);
    REQUIRE(set.records().size() == 2);
    for (const auto& r : set.records()) {
      CHECK(r.spec.env.at("OMP_NUM_THREADS") ==
            std::to_string(std::max(1, hpt::usable_cores() / jobs)));
    }
  }
  ::setenv("OMP_NUM_THREADS", "3", 1);
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) { return hpt::test::completes(1, milliseconds(1)); });
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 2, set) == k_exit_ok);
  if (user != nullptr) {
    ::setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_NUM_THREADS");
  }
  REQUIRE(set.records().size() == 2);
  CHECK(set.records()[0].spec.env.count("OMP_NUM_THREADS") == 0);
  for (const char* bad : {"100000", "", "lots", "0", "4,2"}) {
    ::setenv("OMP_NUM_THREADS", bad, 1);
    hpt::test::TempDir bad_dir("orch");
    FakeWorkerSet bad_set(
        [](const WorkerSpec&) { return hpt::test::completes(1, milliseconds(1)); });
    std::string out;
    REQUIRE(run_fake(fake_study(bad_dir, ", jobs: 1"), 2, bad_set, &out) == k_exit_ok);
    REQUIRE(bad_set.records().size() == 2);
    for (const auto& r : bad_set.records()) {
      CHECK(r.spec.env.at("OMP_NUM_THREADS") == std::to_string(hpt::usable_cores()));
    }
    CHECK_THAT(out, Catch::Contains(fmt::format(
                        "warning: OMP_NUM_THREADS={} is not a thread count from 1 to 1024: each "
                        "worker gets OMP_NUM_THREADS={} instead",
                        bad, hpt::usable_cores())));
  }
  if (user != nullptr) {
    ::setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_NUM_THREADS");
  }
}

// GPUs: trials running at once never share a device; a worker that dies gives its devices
// back; jobs above what the GPUs hold is capped with a note.
TEST_CASE("orchestrator (scripted): GPUs never shared, freed on death",
          "[orchestrator][scripted][gpu]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    const int n = trial_number(s);
    return n % 3 == 1 ? hpt::test::dies("killed by signal 9 (SIGKILL)", milliseconds(50 * n))
                      : hpt::test::completes(1, milliseconds(300 + 70 * n));
  });
  std::string out;
  REQUIRE(run_fake(fake_study(dir,
                              ", gpus: [0, 1, 2, 3, 4], gpus_per_trial: 2, jobs: 4, "
                              "max_failures: 50"),
                   9, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("running at most 2"));
  CHECK(set.max_running() == 2);
  const auto& r = set.records();
  REQUIRE(r.size() >= 12);
  for (size_t a = 0; a < r.size(); ++a) {
    const std::string gpus = r[a].spec.env.at("CUDA_VISIBLE_DEVICES");
    CHECK(gpus == r[a].spec.env.at("HPT_GPUS"));
    CHECK((gpus == "0,1" || gpus == "2,3"));
    for (size_t b = a + 1; b < r.size(); ++b) {
      if (r[a].started < *r[b].ended && r[b].started < *r[a].ended) {  // Ran at the same time.
        CHECK(gpus != r[b].spec.env.at("CUDA_VISIBLE_DEVICES"));
      }
    }
  }
}

// A log that cannot be written (a full disk) is said once on the console and recorded on each
// trial; the trials complete.
TEST_CASE("orchestrator (scripted): a log problem is said once", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w = hpt::test::completes(param_x(s));
    w.log_problem = "cannot write the log 'x.log': No space left on device";
    return w;
  });
  std::string out;
  REQUIRE(run_fake(fake_study(dir), 2, set, &out) == k_exit_ok);
  const std::string note =
      "trial 0: cannot write the log 'x.log': No space left on device (the "
      "study goes on; hpt:log_problem records it)";
  CHECK_THAT(out, Catch::Contains(note));
  CHECK(out.find("No space left", out.find(note) + note.size()) == std::string::npos);
  for (const auto& t : all_trials(dir.file("s.db"))) {
    CHECK(t.state == TrialState::Complete);
    CHECK(t.system_attrs.count("hpt:log_problem") == 1);
  }
}

// a.db and a.sqlite in one folder would share the default trials folder a_trials/ (and
// overwrite each other's trial folders): the folder records its database, another is refused
// before anything is written.
TEST_CASE("orchestrator (scripted): one default trials folder per database",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig first = fake_study(dir);  // s.db -> s_trials/
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  REQUIRE(run_fake(first, 1, set) == k_exit_ok);
  CHECK(std::ifstream(dir.file("s_trials/.hpt-database")).good());
  StudyConfig other = first;
  other.storage = dir.file("s.sqlite");
  CHECK_THROWS_WITH(check_study(other, RunOptions{}),
                    Catch::Contains("holds the trials of the database 's.db', not 's.sqlite'; "
                                    "give study.trials_dir"));
  REQUIRE(run_fake(first, 2, set) == k_exit_ok);  // Its own database goes on.
}

// Two databases with a study of one name and one trials folder (a shared study.trials_dir, or
// two PostgreSQL databases with the default hpt_trials/): the folder records its study's key,
// the other study is refused before anything is written, and the first goes on.
TEST_CASE("orchestrator (scripted): one trials folder per study, across databases",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig first = fake_study(dir, ", trials_dir: " + dir.file("runs"));
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  REQUIRE(run_fake(first, 1, set) == k_exit_ok);
  const std::string folder = dir.file("runs/s");
  const auto key = folder_study_key(folder);
  REQUIRE(key);
  CHECK(open_storage(first.storage)->study_system_attrs(1).at("hpt:study_key") == *key);
  StudyConfig other = first;
  other.storage = dir.file("other.db");
  CHECK_THROWS_WITH(run_fake(other, 1, set),
                    Catch::Contains("trials folder '" + folder +
                                    "' holds the trials of another study named 's' (in another "
                                    "database") &&
                        Catch::Contains("give study.trials_dir"));
  CHECK(open_storage(other.storage)->list_studies().empty());  // Nothing written.
  // hpt checks it before making a new database (check_study with new_study), so a refused
  // study leaves no database behind; a study already in its database is not judged by it.
  CHECK_THROWS_WITH(check_study(other, RunOptions{}, true),
                    Catch::Contains("holds the trials of another study named 's'"));
  CHECK_NOTHROW(check_study(first, RunOptions{}, false));
  // An existing study without a key (made by Optuna or an earlier hpt) is refused too.
  open_storage(other.storage)->create_study("s", Direction::Minimize);
  CHECK_THROWS_WITH(run_fake(other, 1, set), Catch::Contains("holds the trials of another"));
  CHECK(open_storage(other.storage)->study_system_attrs(1).empty());
  REQUIRE(run_fake(first, 2, set) == k_exit_ok);  // Its own study goes on.
  CHECK(folder_study_key(folder) == key);
  // A folder without the file (an earlier hpt's, or the file deleted) is adopted.
  std::filesystem::remove(std::filesystem::path(folder) / k_folder_key_file);
  REQUIRE(run_fake(first, 3, set) == k_exit_ok);
  CHECK(folder_study_key(folder) == key);
  CHECK(all_trials(first.storage).size() == 3);
}

// The database deleted and made again at its path (rm s.db; run again): its own default trials
// folder held the earlier study's trials; they are moved aside, with a note, not overwritten.
TEST_CASE("orchestrator (scripted): a database made again moves its old trials aside",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);  // s.db -> s_trials/s
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  REQUIRE(run_fake(c, 2, set) == k_exit_ok);
  const std::string folder = std::filesystem::absolute(dir.file("s_trials/s")).string();
  const auto old_key = folder_study_key(folder);
  REQUIRE(old_key);
  std::ofstream(std::filesystem::path(folder) / "1.log") << "trial 1 of the earlier study\n";
  std::filesystem::remove(dir.file("s.db"));
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  const std::string aside = folder + "~old-" + old_key->substr(0, 8);
  CHECK_THAT(out, Catch::Contains("hpt: the trials folder '" + folder +
                                  "' held an earlier study 's' (deleted since, or of a database "
                                  "since deleted or replaced): moved it to '" +
                                  aside + "'"));
  CHECK(std::filesystem::exists(std::filesystem::path(aside) / "1.log"));  // Kept.
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(folder) / "1.log"));
  CHECK(folder_study_key(folder) != old_key);
  CHECK(all_trials(c.storage).size() == 1);
}

// The database reached through a symbolic link: the trials folder is its target's (s_trials/),
// not a second one named after the link (link_trials/) that split the study's logs.
TEST_CASE("orchestrator (scripted): a database behind a link has its target's trials folder",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig first = fake_study(dir);  // s.db -> s_trials/
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  REQUIRE(run_fake(first, 1, set) == k_exit_ok);
  std::filesystem::create_symlink("s.db", dir.path() / "link.db");
  StudyConfig linked = first;
  linked.storage = dir.file("link.db");
  REQUIRE(run_fake(linked, 2, set) == k_exit_ok);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "link_trials"));
  CHECK(std::filesystem::is_directory(dir.path() / "s_trials" / "s"));
  CHECK(all_trials(dir.file("s.db")).size() == 2);
}

// A worker past objective.timeout gets SIGTERM, then SIGKILL 3 s later if it ignores it;
// its trial FAILs "timed out".
TEST_CASE("orchestrator (scripted): timeout", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    if (trial_number(s) == 0) {
      WorkerScript w;
      w.exit_at = std::chrono::hours(1);
      w.ignores_sigterm = true;
      return w;
    }
    return hpt::test::completes(1);
  });
  REQUIRE(run_fake(fake_study(dir, "", ", timeout: 5"), 1, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].system_attrs.at("fail_reason") == "timed out after 5 s (objective.timeout)");
  CHECK(signals_by_trial(set)[0] == std::vector<int>{SIGTERM, SIGKILL});
  const auto ran = *set.records()[0].ended - set.records()[0].started;
  CHECK(ran > std::chrono::seconds(8));
  CHECK(ran < std::chrono::seconds(9));
}

// A worker killed by a SIGKILL hpt did not send (the kernel's out-of-memory killer) FAILs with
// a hint at the likely cause; one hpt killed (timeout, above) gets none.
TEST_CASE("orchestrator (scripted): an outside SIGKILL hints at memory",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    if (trial_number(s) == 0) {
      WorkerScript w = hpt::test::dies("killed by signal 9 (SIGKILL)");
      w.exit_signal = SIGKILL;
      w.stderr_tail = "loading 50000 images\n";
      return w;
    }
    return hpt::test::completes(1);
  });
  REQUIRE(run_fake(fake_study(dir), 1, set) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].system_attrs.at("fail_reason") ==
        "worker killed by signal 9 (SIGKILL), not sent by hpt: out of memory? (the kernel's OOM "
        "killer sends it): loading 50000 images");
}

// A worker that printed its final value but does not exit is ended at objective.timeout; its
// value counts (COMPLETE), and hpt:ended_after_final says what ended it. It is said to linger
// after 30 s.
TEST_CASE("orchestrator (scripted): timeout after the final value", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    if (trial_number(s) == 0) {
      WorkerScript w;
      w.lines = {{std::chrono::seconds(2), "{\"value\": 0.25}"}};
      w.exit_at = std::chrono::hours(1);
      return w;
    }
    return hpt::test::completes(1);
  });
  std::string out;
  REQUIRE(run_fake(fake_study(dir, "", ", timeout: 40"), 1, set, &out) == k_exit_ok);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].value == 0.25);
  CHECK(trials[0].system_attrs.count("fail_reason") == 0);
  CHECK_THAT(trials[0].system_attrs.at("hpt:ended_after_final").get<std::string>(),
             Catch::Matches("timed out after 40 s \\(objective.timeout\\), 38\\.\\d s after it "
                            "printed its final value without exiting"));
  CHECK_THAT(out, Catch::Contains("trial 0 printed its final value 30 s ago, but its worker has "
                                  "not exited (a result counts once it does; objective.timeout "
                                  "ends it)") &&
                      Catch::Contains("trial 0 keeps its final value; its worker was ended "
                                      "before it exited: timed out"));
}

// A NaN final value and then a hang: the trial FAILs, and its reason names both.
TEST_CASE("orchestrator (scripted): NaN final value, then a timeout", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) {
    WorkerScript w;
    w.lines = {{std::chrono::seconds(2), "{\"value\": NaN}"}};
    w.exit_at = std::chrono::hours(1);
    return w;
  });
  run_fake(fake_study(dir, ", max_failures: 1", ", timeout: 10"), 1, set);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].state == TrialState::Fail);
  CHECK_THAT(trials[0].system_attrs.at("fail_reason").get<std::string>(),
             Catch::Matches("worker reported a NaN value; then: timed out after 10 s "
                            "\\(objective.timeout\\), 8\\.\\d s after it printed its final "
                            "value without exiting"));
}

// Ctrl-C while a worker lingers after its final value: that trial is COMPLETE with it (it was
// handed back as WAITING and run again); the others go back to WAITING.
TEST_CASE("orchestrator (scripted): interrupt keeps a final value that came",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 0) {
      w.lines = {{std::chrono::seconds(1), "{\"value\": 0.5}"}};
    }
    w.exit_at = std::chrono::hours(1);
    return w;
  });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + std::chrono::seconds(5));
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 4, set) == k_exit_interrupted);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].value == 0.5);
  CHECK_THAT(trials[0].system_attrs.at("hpt:ended_after_final").get<std::string>(),
             Catch::StartsWith("ended by a stop signal 4.0 s after it printed its final value"));
  CHECK(trials[1].state == TrialState::Waiting);
}

// A stop signal arriving as workers end (SLURM's time limit sends SIGTERM to hpt and to every
// worker): a final value already read keeps its trial COMPLETE, and a worker ended by the same
// signal is handed back as WAITING. The lines read were dropped at the signal and the exited
// workers then finished as FAIL ("exited without printing a final value", "killed by signal
// 15"), never run again (helper audit).
TEST_CASE("orchestrator (scripted): a stop signal as workers end keeps results and hands back",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 0) {
      w.lines = {{milliseconds(1000), "{\"value\": 0.5}"}};
    } else {
      w.exit_at = milliseconds(1000);
      w.exit_problem = "killed by signal 15 (SIGTERM)";
    }
    return w;
  });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + milliseconds(1000), SIGTERM);
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 4, set) == k_exit_interrupted);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].value == 0.5);
  CHECK(trials[1].state == TrialState::Waiting);
}

// Ctrl-C while workers whose result was decided are still exiting (one timed out, one broke
// the protocol; both ignore SIGTERM): each keeps its FAIL and reason, not handed back as
// WAITING to run again from step 0.
TEST_CASE("orchestrator (scripted): interrupt keeps a decided result", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec& s) {
    WorkerScript w;
    if (trial_number(s) == 1) {
      w.lines = {{milliseconds(4500), "{\"step\": -1, \"value\": 1}"}};
    }
    w.exit_at = std::chrono::hours(1);
    w.ignores_sigterm = true;
    return w;
  });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + std::chrono::seconds(6));
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2, max_failures: 10", ", timeout: 5"), 4, set) ==
          k_exit_interrupted);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Fail);
  CHECK(trials[0].system_attrs.at("fail_reason") == "timed out after 5 s (objective.timeout)");
  CHECK(trials[1].state == TrialState::Fail);
  CHECK_THAT(trials[1].system_attrs.at("fail_reason").get<std::string>(), Catch::Contains("step"));
  CHECK(set.running() == 0);
}

// A worker that printed only a line too long to read (cut at 1 MiB, not a protocol line) and
// exited: its FAIL reason says a line was cut, not only that no final value came.
TEST_CASE("orchestrator (scripted): a cut line is named in the fail reason",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) {
    WorkerScript w;
    w.lines = {{milliseconds(100), std::string(hpt::k_max_line_bytes + 10, 'x')}};
    return w;
  });
  run_fake(fake_study(dir, ", max_failures: 1"), 1, set);
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].system_attrs.at("fail_reason") ==
        "worker exited without printing a final {\"value\": v} line; a line longer than 1 MiB "
        "was cut (see the trial's log)");
  CHECK_THAT(set.records()[0].log, Catch::Contains("[hpt: line cut at 1 MiB]"));
}

// A start failure is a FAIL trial counted toward max_failures; nothing is left running.
TEST_CASE("orchestrator (scripted): failed start", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) {
    WorkerScript w;
    w.start_error = "cannot start 'w': Argument list too long";
    return w;
  });
  REQUIRE(run_fake(fake_study(dir, ", max_failures: 3"), 5, set) == k_exit_failures);
  CHECK(set.failed_starts() == 3);
  for (const auto& t : all_trials(dir.file("s.db"))) {
    CHECK(t.system_attrs.at("fail_reason") == "cannot start 'w': Argument list too long");
  }
}

// SIGINT while trials run: every worker is sent SIGTERM, their trials go back to WAITING,
// exit 130; a resume re-runs them from step 0.
TEST_CASE("orchestrator (scripted): interrupt hands trials back", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const auto script = [](const WorkerSpec&) { return hpt::test::reports_steps({1, 2, 3}); };
  FakeWorkerSet set(script);
  set.interrupt_at(FakeWorkerSet::TimePoint{} + milliseconds(1500));
  std::string out;
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 4, set, &out) == k_exit_interrupted);
  CHECK_THAT(out, Catch::Contains("interrupted"));
  for (const auto& [n, sigs] : signals_by_trial(set)) {
    CHECK(sigs == std::vector<int>{SIGTERM});
  }
  CHECK(set.running() == 0);
  auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  for (const auto& t : trials) {
    CHECK(t.state == TrialState::Waiting);
  }
  FakeWorkerSet resumed(script);
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2"), 4, resumed) == k_exit_ok);
  trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 4);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].intermediate_values.size() == 3);
}

// Ctrl-Z (SIGTSTP) while trials run: the study stops with its workers (the set stops and
// continues them), says so, and goes on: no trial is ended, handed back or timed out.
TEST_CASE("orchestrator (scripted): Ctrl-Z stops the study with its workers",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  FakeWorkerSet set([](const WorkerSpec&) { return hpt::test::reports_steps({1, 2, 3}); });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + milliseconds(1500), SIGTSTP);
  std::string out;
  REQUIRE(run_fake(fake_study(dir, ", jobs: 2", ", timeout: 60"), 4, set, &out) == k_exit_ok);
  REQUIRE(set.stops().size() == 1);
  CHECK(set.stops()[0].second == 2);
  CHECK_THAT(out, Catch::Contains("hpt: stopped (Ctrl-Z) with 2 running trials; fg continues") &&
                      Catch::Contains("hpt: continued after 600 s (not counted in "
                                      "objective.timeout)"));
  for (const auto& [n, sigs] : signals_by_trial(set)) {
    CHECK(sigs.empty());
  }
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 4);
  for (const auto& t : trials) {
    CHECK(t.state == TrialState::Complete);
  }
}

// A RUNNING trial with no hpt owner and no heartbeat (a live Optuna process's: Optuna writes
// none unless asked) is never presumed dead, however old its datetime_start (the writer's local
// time, in the writer's time zone): hpt waits for it and says how to go on without it.
TEST_CASE("orchestrator (scripted): an unowned trial without heartbeat is left alone",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  int64_t foreign = 0;
  {
    auto s = open_storage(c.storage);
    const int64_t study = s->create_study("s", Direction::Minimize);
    FrozenTrial optuna;
    optuna.state = TrialState::Running;
    optuna.datetime_start = Clock::now() - std::chrono::hours(5);
    foreign = s->create_trial(study, optuna);
  }
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + std::chrono::seconds(30));
  std::string out;
  CHECK(run_fake(c, 2, set, &out) == k_exit_interrupted);
  CHECK_THAT(out, Catch::Contains("trial 0 has no hpt owner and no heartbeat") &&
                      Catch::Contains("give a larger --trials") &&
                      !Catch::Contains("left RUNNING"));
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].id == foreign);
  CHECK(trials[0].state == TrialState::Running);
  CHECK(trials[1].state == TrialState::Complete);
  CHECK(set.records().size() == 1);
}

// Another process finishing a trial this one runs (Optuna's fail_stale_trials, an orchestrator
// that took it over while this one was stopped) drops this result with a note; the study goes
// on (it used to stop with exit 1: "trial 0 is already FAIL and cannot be changed").
TEST_CASE("orchestrator (scripted): a trial finished elsewhere is dropped, not fatal",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    if (trial_number(spec) == 0) {  // Failed by another process while it runs.
      auto other = open_storage(c.storage);
      const auto t = other->get_all_trials(other->find_study("s")->id).front();
      other->set_trial_state_values(t.id, TrialState::Fail, std::nullopt);
    }
    return hpt::test::completes(param_x(spec));
  });
  std::string out;
  REQUIRE(run_fake(c, 2, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("trial 0 was taken over by another process; its result is "
                                  "dropped"));
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 3);
  CHECK(trials[0].state == TrialState::Fail);
  CHECK(trials[0].system_attrs.count("hpt:log") == 0);  // Nothing written on another's trial.
  CHECK(trials[1].state == TrialState::Complete);
  CHECK(trials[2].state == TrialState::Complete);
}

// Just after this process got its database connection back (a server restart), another host's
// stale heartbeat says nothing: every host's went stale in the outage. Its trial is taken over
// only once heartbeat_grace + 5 s have passed since (it was re-run at once, live, and doubled).
TEST_CASE("orchestrator (scripted): no take-over right after a reconnect",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir, ", heartbeat_grace: 1");
  auto storage = open_storage(c.storage);
  const int64_t study = storage->create_study("s", Direction::Minimize);
  FrozenTrial elsewhere;
  elsewhere.state = TrialState::Running;
  Owner other = Owner::current();
  other.host = "another-host";
  elsewhere.system_attrs["hpt:owner"] = other.to_json();
  const int64_t id = storage->create_trial(study, elsewhere);
  dynamic_cast<SqlStorage&>(*storage).dialect().exec(
      "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, '2020-01-01 00:00:00')", {id});
  auto& faulty = hpt::test::inject_faults(*storage);
  faulty.lose_acks(1);
  storage->set_study_user_attr(study, "k", 1);  // The reconnect.
  REQUIRE(storage->reconnected_at());
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  std::ostringstream text;
  RunOptions o;
  o.trials = 1;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(run_study(c, *storage, o, text, set) == k_exit_ok);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::seconds(6));
  CHECK_THAT(text.str(), Catch::Contains("trial 0 was left RUNNING by a stopped process"));
  CHECK(storage->get_trial(id).state == TrialState::Complete);
}

// A database server down mid-study (a restart): the study waits for it, says so and when it is
// back, and finishes every trial (a call gave up after ~26 s of reconnects, and hpt ended).
TEST_CASE("orchestrator (scripted): a database outage is waited out, and said",
          "[orchestrator][scripted]") {
  FaultyStudy f;
  FakeWorkerSet set([&](const WorkerSpec& s) {
    if (trial_number(s) == 1) {
      f.faulty.go_down(milliseconds(1200));  // Real time: the next storage call waits.
    }
    return hpt::test::completes(param_x(s));
  });
  std::ostringstream text;
  RunOptions o;
  o.trials = 3;
  REQUIRE(run_study(f.config, *f.storage, o, text, set) == k_exit_ok);
  CHECK_THAT(text.str(),
             Catch::Contains("hpt: lost the connection to the database (server down (injected)); "
                             "waiting up to 600 s for it (Ctrl-C stops)\nhpt: the database is "
                             "back after 1 s\n"));
  CHECK(set.discounted() >= milliseconds(1100));  // objective.timeout does not count it.
  const auto trials = all_trials(f.config.storage);
  REQUIRE(trials.size() == 3);
  for (const auto& t : trials) {
    CHECK(t.state == TrialState::Complete);
  }
}

// The database deleted under a running study on a full disk: its running trials cannot be
// handed back (every write fails), yet the study is saved back at its path, their trials
// RUNNING for a resume to run again (the failed write ended the rescue: the study was lost, as
// was a stray "<db>.hpt-copy-<pid>" left by a failed copy).
TEST_CASE("orchestrator (scripted): a study deleted on a full disk is still saved",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir{"orch"};
  const StudyConfig c = fake_study(dir, ", jobs: 2");
  auto storage = open_storage(c.storage);
  hpt::test::FaultyDialect& faulty = hpt::test::inject_faults(*storage);
  FakeWorkerSet set([&](const WorkerSpec& s) {
    if (trial_number(s) == 2) {
      std::filesystem::remove(c.storage);
      faulty.refuse_writes_to("trials");
    }
    return trial_number(s) < 2 ? hpt::test::completes(param_x(s))
                               : hpt::test::dies("", milliseconds(60000));
  });
  std::ostringstream text;
  RunOptions o;
  o.trials = 6;
  CHECK(run_study(c, *storage, o, text, set) == 1);
  CHECK_THAT(text.str(), Catch::Contains("is saved back at '" + c.storage + "'") &&
                             Catch::Contains("its running trials could not be ended") &&
                             Catch::Contains("disk is full (injected)"));
  storage.reset();
  std::map<TrialState, int> states;
  for (const auto& t : all_trials(c.storage)) {
    ++states[t.state];
  }
  CHECK(states[TrialState::Complete] == 2);
  CHECK(states[TrialState::Running] >= 1);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK(entry.path().filename().string().find("hpt-copy") == std::string::npos);
  }
}

// Ctrl-C on a database that refuses writes (a full disk): the trials cannot be handed back, and
// the message says what the database said (it blamed a lock or an unreachable server).
TEST_CASE("orchestrator (scripted): an interrupt on a full disk says so",
          "[orchestrator][scripted]") {
  FaultyStudy f;
  FakeWorkerSet set([&](const WorkerSpec& s) {
    if (trial_number(s) == 1) {
      f.faulty.refuse_writes_to("trials");
    }
    return hpt::test::reports_steps({3.0, 2.0, 1.0});
  });
  set.interrupt_at(FakeWorkerSet::TimePoint{} + milliseconds(1500));
  RunOptions o;
  o.trials = 4;
  std::ostringstream text;
  StudyConfig c = f.config;
  c.jobs = 2;
  CHECK(run_study(c, *f.storage, o, text, set) == k_exit_interrupted);
  CHECK_THAT(text.str(), Catch::Contains("hpt: interrupted, and the database was not written (") &&
                             Catch::Contains("disk is full (injected)"));
}

// A database that refuses every write (a full disk on the server, a REVOKE) is no fault of the
// trials': the run stops at once in one line, no trial is recorded FAIL for it, and the next
// run finishes the study (13 healthy trials were recorded FAIL, then exit 3 blamed them).
TEST_CASE("orchestrator (scripted): a database refusing writes stops the run, fails no trial",
          "[orchestrator][scripted]") {
  FaultyStudy f;
  FakeWorkerSet set([&](const WorkerSpec&) {
    f.faulty.refuse_writes_to("trial_intermediate_values");
    return hpt::test::reports_steps({3.0, 2.0});
  });
  RunOptions o;
  o.trials = 3;
  std::ostringstream text;
  CHECK_THROWS_WITH(run_study(f.config, *f.storage, o, text, set),
                    Catch::Contains("cannot set an intermediate value") &&
                        Catch::Contains("disk is full (injected)"));
  f.storage.reset();
  {
    auto s = open_storage(f.config.storage);
    Owner gone = Owner::current();  // The next run is another process: this one's is dead.
    gone.pid = 0x7ffffff0;
    for (const auto& t : all_trials(f.config.storage)) {
      CHECK(t.state != TrialState::Fail);
      if (t.state == TrialState::Running) {
        s->set_trial_system_attr(t.id, "hpt:owner", gone.to_json());
      }
    }
  }
  FakeWorkerSet healthy([](const WorkerSpec&) { return hpt::test::reports_steps({3.0, 2.0}); });
  REQUIRE(run_fake(f.config, 3, healthy) == k_exit_ok);
  int complete = 0;
  for (const auto& t : all_trials(f.config.storage)) {
    complete += t.state == TrialState::Complete ? 1 : 0;
    CHECK(t.state != TrialState::Fail);
  }
  CHECK(complete == 3);
}

// A trial whose owner died (its process on this host is gone) is re-run in place, after what
// is left of its earlier run (the worker's children) is ended.
TEST_CASE("orchestrator (scripted): an orphan's leftovers are ended before its re-run",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  {
    auto s = open_storage(c.storage);
    const int64_t study = s->create_study("s", Direction::Minimize);
    FrozenTrial dead;
    dead.state = TrialState::Running;
    Owner gone = Owner::current();
    gone.pid = 0x7ffffff0;  // No such process.
    dead.system_attrs["hpt:owner"] = gone.to_json();
    s->create_trial(study, dead);
  }
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  set.leftovers_per_call = 2;
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("trial 0 was left RUNNING by a stopped process: re-running it "
                                  "(ended 2 processes left from its earlier run)"));
  REQUIRE(set.leftover_calls().size() == 1);
  const std::filesystem::path trial_dir = set.leftover_calls()[0];
  CHECK(trial_dir.is_absolute());
  CHECK(trial_dir == set.records()[0].spec.env.at("HPT_TRIAL_DIR"));
  CHECK(trial_dir.filename() == "0");
}

// A worker printing steps without end: past objective.max_steps they are neither stored nor
// judged (said once, in the log and on the console); its final value still counts.
TEST_CASE("orchestrator (scripted): steps past objective.max_steps are dropped",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir, "", ", max_steps: 3");
  REQUIRE(c.max_steps == 3);
  FakeWorkerSet set([](const WorkerSpec&) {
    return hpt::test::reports_steps({5.0, 4.0, 3.0, 2.0, 1.0});
  });
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  const auto trials = all_trials(c.storage);
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].value == 1.0);
  CHECK(trials[0].intermediate_values.size() == 3);
  CHECK(trials[0].intermediate_values.count(3) == 0);
  const std::string note =
      "trial 0 reported more than 3 steps (objective.max_steps): later steps "
      "are not stored or judged; its final value still counts";
  CHECK_THAT(out, Catch::Contains(note));
  CHECK_THAT(set.records()[0].log, Catch::Contains("[hpt: " + note + "]"));
}

// What a line holds that is stored changed (an integer beyond 64 bits in user_attrs) is said in
// the trial's log.
TEST_CASE("orchestrator (scripted): a line's note goes to the trial's log",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  FakeWorkerSet set([](const WorkerSpec&) {
    WorkerScript s;
    s.lines.emplace_back(milliseconds(10),
                         R"({"value": 1.5, "user_attrs": {"id": 12345678901234567890123}})");
    return s;
  });
  REQUIRE(run_fake(c, 1, set) == k_exit_ok);
  CHECK_THAT(set.records()[0].log,
             Catch::Contains("[hpt: user_attrs: the integer 12345678901234567890123 is beyond 64 "
                             "bits"));
  CHECK(all_trials(c.storage)[0].user_attrs.at("id").get<double>() == 1.2345678901234568e22);
}

// A run whose --trials is already met (lowered after a kill -9) leaves the dead run's RUNNING
// trials as they are, but says so and ends their leftover processes ("done" hid both).
TEST_CASE("orchestrator (scripted): orphans a finished run leaves are said and ended",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  FakeWorkerSet set([](const WorkerSpec& s) { return hpt::test::completes(param_x(s)); });
  REQUIRE(run_fake(c, 1, set) == k_exit_ok);
  {
    auto s = open_storage(c.storage);
    FrozenTrial dead;
    dead.state = TrialState::Running;
    Owner gone = Owner::current();
    gone.pid = 0x7ffffff0;  // No such process.
    dead.system_attrs["hpt:owner"] = gone.to_json();
    s->create_trial(s->find_study("s")->id, dead);
  }
  set.leftovers_per_call = 1;
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("trial 1 was left RUNNING by a stopped process; --trials 1 "
                                  "needs no more, so it stays RUNNING (a larger --trials runs it "
                                  "again); ended 1 process left from it"));
  REQUIRE(set.leftover_calls().size() == 1);
  CHECK(std::filesystem::path(set.leftover_calls()[0]).filename() == "1");
  CHECK(all_trials(c.storage).back().state == TrialState::Running);
}

// A resumed trial gets only the parameters the config still samples: one dropped from the
// search space, or moved into fixed, is not passed and never overrides fixed.
TEST_CASE("orchestrator (scripted): a resumed trial gets only the current search space",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir, "", "}\nfixed: {kind: fixed-value");
  {
    auto s = open_storage(c.storage);
    const int64_t study = s->create_study("s", Direction::Minimize);
    FrozenTrial w;
    w.state = TrialState::Waiting;
    w.distributions = {{"x", FloatDistribution{0.0, 4.0, false, std::nullopt}},
                       {"kind", CategoricalDistribution{{Json("a"), Json("b")}}}};
    w.params = {{"x", 1.5}, {"kind", 1}};
    s->create_trial(study, w);
  }
  std::vector<Json> params;
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    params.push_back(Json::parse(spec.env.at("HPT_PARAMS")));
    return hpt::test::completes(param_x(spec));
  });
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  REQUIRE(params.size() == 1);
  CHECK(params[0].at("x") == 1.5);
  CHECK(params[0].at("kind") == "fixed-value");
  // Said, and the start line shows what the worker got (it showed kind = "b").
  CHECK_THAT(out, Catch::Contains("trial 0 holds a parameter from an earlier run that the search "
                                  "space no longer has (kind): its worker does not get it"));
  CHECK_THAT(out, Catch::Contains("trial 0 started: {\"x\":1.5}"));
}

// A resumed trial whose kept value lies outside a range narrowed since (the user excluded it)
// gets that parameter sampled again, with a note; its other kept values stay.
TEST_CASE("orchestrator (scripted): a resumed trial's value outside a narrowed range is resampled",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = parse_study_config(
      "study: {name: s, storage: " + dir.file("s.db") +
          ", seed: 1, pruner: {type: none}}\nobjective: {command: [sh]}\nsearch_space:\n  x: "
          "{type: float, low: 0, high: 1}\n  k: {type: int, low: 0, high: 18, step: 3}\n",
      "test.yaml");
  {
    auto s = open_storage(c.storage);
    const int64_t study = s->create_study("s", Direction::Minimize);
    FrozenTrial w;
    w.state = TrialState::Waiting;
    w.distributions = {{"x", FloatDistribution{0.0, 10.0, false, std::nullopt}},
                       {"k", IntDistribution{0, 100, false, 3}}};
    w.params = {{"x", 6.5}, {"k", 9}};
    s->create_trial(study, w);
  }
  std::vector<Json> params;
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    params.push_back(Json::parse(spec.env.at("HPT_PARAMS")));
    return hpt::test::completes(1);
  });
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  REQUIRE(params.size() == 1);
  CHECK(params[0].at("x").get<double>() >= 0.0);
  CHECK(params[0].at("x").get<double>() <= 1.0);
  CHECK(params[0].at("k") == 9);
  CHECK_THAT(out,
             Catch::Contains("trial 0: x = 6.5 is outside the search space now; sampled again"));
  const auto trials = all_trials(dir.file("s.db"));
  REQUIRE(trials.size() == 1);
  CHECK(trials[0].params.at("x") == params[0].at("x").get<double>());
}

// A trial Optuna enqueued with a value outside the search space runs with it, as in Optuna,
// with Optuna's warning.
TEST_CASE("orchestrator (scripted): an enqueued value outside the range",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  {
    auto s = open_storage(c.storage);
    FrozenTrial w;
    w.state = TrialState::Waiting;
    w.system_attrs = {{"fixed_params", Json{{"x", 5.5}}}};
    s->create_trial(s->create_study("s", Direction::Minimize), w);
  }
  std::vector<double> xs;
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    xs.push_back(param_x(spec));
    return hpt::test::completes(1);
  });
  std::string out;
  REQUIRE(run_fake(c, 1, set, &out) == k_exit_ok);
  CHECK(xs == std::vector<double>{5.5});
  CHECK_THAT(out, Catch::Contains("trial 0: enqueued x = 5.5 is outside the search space (float "
                                  "[0, 4]); run as given, as Optuna does"));
}

// A grid run through ends the study, as Optuna's GridSampler stops it (it re-ran points, even
// one still running, until --trials were finished), saying so; the last point is not started
// twice while it runs.
TEST_CASE("orchestrator (scripted): an exhausted grid ends the study", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = parse_study_config(
      "study: {name: s, storage: " + dir.file("s.db") +
          ", jobs: 2, sampler: {type: grid}, pruner: {type: none}}\nobjective: {command: "
          "[sh]}\nsearch_space:\n  kind: [a, b, c]\n",
      "test.yaml");
  std::vector<std::string> kinds;
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    kinds.push_back(Json::parse(spec.env.at("HPT_PARAMS")).at("kind").get<std::string>());
    return hpt::test::completes(1, milliseconds(kinds.size() == 3 ? 5000 : 1000));
  });
  std::string out;
  REQUIRE(run_fake(c, 5, set, &out) == k_exit_ok);
  CHECK(kinds == std::vector<std::string>{"a", "b", "c"});
  CHECK(set.max_running() == 2);
  CHECK_THAT(out, Catch::Contains("hpt: every point of the grid has been run: the study ends with "
                                  "3 finished trials (--trials 5 asks for more"));
  CHECK(all_trials(dir.file("s.db")).size() == 3);
}

// Heartbeats come three times within study.heartbeat_grace, however short it is (they came
// every 5 s: with a grace of 2 s, two live orchestrators in different containers kept
// re-running each other's trials).
TEST_CASE("orchestrator: heartbeats keep within a short grace", "[orchestrator]") {
  TempDb t;
  const auto c = shell_study(t, "sleep 2.5; echo \"{\\\"value\\\": 1}\"", ", heartbeat_grace: 1.5");
  std::atomic<bool> done{false};
  double oldest = 0.0;
  int seen = 0;
  std::thread watcher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto s = open_storage(c.storage, true);
    while (!done) {
      if (const auto study = s->find_study("s")) {
        for (const auto& trial : s->get_all_trials(study->id, {TrialState::Running})) {
          if (const auto age = s->heartbeat_age(trial.id)) {
            oldest = std::max(oldest, *age);
            ++seen;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  CHECK(run(c, 1) == k_exit_ok);
  done = true;
  watcher.join();
  CHECK(seen > 10);
  CHECK(oldest < 1.2);
}

// study.enqueue: the listed trials run first with the given values (the others sampled), are
// stored as Optuna's enqueue_trial stores them, and are enqueued once: a resumed study gets
// only the entries added to the config since.
TEST_CASE("orchestrator (scripted): enqueued trials run first, once", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const auto config = [&](const std::string& more) {
    return parse_study_config("study: {name: s, storage: " + dir.file("s.db") +
                                  ", seed: 1, pruner: {type: none}}\nobjective: {command: [sh]}\n"
                                  "search_space:\n  x: {type: float, low: 0, high: 4}\n"
                                  "  k: [a, b, c]\nenqueue:\n  - {x: 1.5}\n  - {x: 3, k: c}\n" +
                                  more,
                              "test.yaml");
  };
  std::map<int, Json> params;  // Trial number -> the parameters its worker got.
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    params[trial_number(spec)] = Json::parse(spec.env.at("HPT_PARAMS"));
    return hpt::test::completes(param_x(spec));
  });
  std::string out;
  REQUIRE(run_fake(config(""), 3, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("enqueued 2 trials from test.yaml's enqueue (run first)"));
  REQUIRE(params.size() == 3);
  CHECK(params[0].at("x") == 1.5);
  CHECK(params[0].contains("k"));  // Sampled.
  CHECK(params[1] == Json{{"x", 3.0}, {"k", "c"}});
  const auto fixed = [&] {
    std::vector<Json> out;
    for (const auto& t : all_trials(dir.file("s.db"))) {
      const auto it = t.system_attrs.find("fixed_params");
      out.push_back(it == t.system_attrs.end() ? Json() : it->second);
    }
    return out;
  };
  CHECK(fixed() == std::vector<Json>{Json{{"x", 1.5}}, Json{{"k", "c"}, {"x", 3.0}}, Json()});

  REQUIRE(run_fake(config(""), 4, set, &out) == k_exit_ok);  // Resumed: nothing enqueued again.
  CHECK_THAT(out, !Catch::Contains("enqueued"));
  REQUIRE(run_fake(config("  - {k: b}\n"), 5, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("enqueued 1 trial from test.yaml's enqueue (run first); 2 "
                                  "already in the study"));
  CHECK(params[4].at("k") == "b");
  CHECK(fixed().size() == 5);
  CHECK(fixed()[4] == Json{{"k", "b"}});
  // With --trials reached, an entry waits for a larger --trials, and says so.
  REQUIRE(run_fake(config("  - {k: b}\n  - {k: a}\n"), 5, set, &out) == k_exit_ok);
  CHECK_THAT(out, Catch::Contains("enqueued 1 trial from test.yaml's enqueue (run first once "
                                  "--trials allows more); 3 already in the study"));
  CHECK(states(dir.file("s.db"))[TrialState::Waiting] == 1);
}

// --timeout: no trial starts once the budget is spent; the running ones finish and count; the
// study ends with exit 0 and says so. Alone (no --trials) it is what ends the study.
TEST_CASE("orchestrator (scripted): a time budget", "[orchestrator][scripted][timeout]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir, ", jobs: 2");
  // Trials of 1, 2, 3, ... seconds of the fake clock: 2 at once, starts at 0, 0, 1, 2, 4.
  FakeWorkerSet set([](const WorkerSpec& spec) {
    return hpt::test::completes(0.5, std::chrono::milliseconds(1000 * (trial_number(spec) + 1)));
  });
  auto storage = open_storage(c.storage);
  std::ostringstream out;
  RunOptions o;
  o.trials = k_unbounded_trials;
  o.time_budget = 2.5;
  REQUIRE(run_study(c, *storage, o, out, set) == k_exit_ok);
  const std::string s = out.str();
  // Started at 0 (trials 0, 1), 1 (trial 2, when 0 ended) and 2 (trial 3, when 1 ended); at
  // 4 trial 2 ended past the budget: nothing more started; trial 3 ended at 6.
  CHECK(set.records().size() == 4);
  CHECK(states(c.storage)[TrialState::Complete] == 4);
  CHECK_THAT(s, Catch::Contains("no trial starts after 2.5s (--timeout)"));
  CHECK_THAT(s, Catch::Contains("hpt: --timeout 2.5s spent: no new trials; waiting for the 2 "
                                "running to finish (Ctrl-C hands them back)"));
  CHECK_THAT(s, Catch::Contains("hpt: --timeout 2.5s spent: the study has 4 finished trials (4 "
                                "more than at the start)\n"));
  CHECK_THAT(s, Catch::Contains("[4]"));

  // With --trials too: whichever comes first. 6 finished here are reached first.
  std::ostringstream more;
  o.trials = 6;
  o.time_budget = 1000;
  REQUIRE(run_study(c, *storage, o, more, set) == k_exit_ok);
  CHECK(states(c.storage)[TrialState::Complete] == 6);
  CHECK_THAT(more.str(), !Catch::Contains("spent"));
  // A budget spent before any start: the study ends at once with what it has.
  std::ostringstream none;
  o.trials = 10;
  o.time_budget = 0;
  REQUIRE(run_study(c, *storage, o, none, set) == k_exit_ok);
  CHECK(states(c.storage)[TrialState::Complete] == 6);
  CHECK_THAT(none.str(), Catch::Contains("spent: the study has 6 finished trials of --trials 10 "
                                         "(0 more than at the start)"));
}

// A study deleted while it runs (hpt delete-study --force) stops the run at its next check,
// naming it; nothing more is written, not even into a new study SQLite gave the deleted id.
TEST_CASE("orchestrator (scripted): a study deleted while it runs", "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  int64_t reused_id = -1;
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    if (trial_number(spec) == 1) {
      auto other = open_storage(c.storage);
      other->delete_study(other->find_study("s")->id);
      reused_id = other->create_study("new", Direction::Minimize);
    }
    return hpt::test::reports_steps({3, 2, 1});
  });
  CHECK_THROWS_WITH(run_fake(c, 3, set),
                    "study 's' was deleted from " + c.storage +
                        " while this run went on (hpt delete-study?); nothing more of this run is "
                        "written");
  auto s = open_storage(c.storage, true);
  REQUIRE(s->list_studies().size() == 1);
  CHECK(s->list_studies()[0].id == reused_id);  // The id was handed out again.
  CHECK(s->get_all_trials(reused_id).empty());
}

// Deleted while a trial runs, before the periodic check sees it: the trial's refused writes are
// said as the deleted study (it said "no trial with id 1").
TEST_CASE("orchestrator (scripted): a study deleted under a running trial",
          "[orchestrator][scripted]") {
  hpt::test::TempDir dir("orch");
  const StudyConfig c = fake_study(dir);
  FakeWorkerSet set([&](const WorkerSpec& spec) {
    if (trial_number(spec) == 0) {
      auto other = open_storage(c.storage);
      other->delete_study(other->find_study("s")->id);  // As delete-study --force does.
    }
    return hpt::test::reports_steps({3, 2, 1});
  });
  CHECK_THROWS_WITH(run_fake(c, 3, set),
                    "study 's' was deleted from " + c.storage +
                        " while this run went on (hpt delete-study?); nothing more of this run is "
                        "written");
}
