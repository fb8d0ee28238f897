#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "hpt/engine/progress.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/tuner/constraints.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

// Durations read naturally.
TEST_CASE("progress: durations", "[progress]") {
  CHECK(Progress::format_duration(12.4) == "12s");
  CHECK(Progress::format_duration(185) == "3m05s");
  CHECK(Progress::format_duration(3725) == "1h02m");
  CHECK(Progress::format_duration(0.1734) == "0.17s");  // Quick trials read "(0s)".
  CHECK(Progress::format_duration(0.04) == "0.04s");
  CHECK(Progress::format_duration(0.996) == "1s");
  CHECK(Progress::format_duration(0) == "0s");
}

// Off a terminal, every event is one plain line and best tracks the direction.
TEST_CASE("progress: plain lines", "[progress]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Maximize, 3, 1);
  p.finished(1, TrialState::Complete, 0.5, "", 2.0);
  p.finished(2, TrialState::Fail, std::nullopt, "worker exited with status 1", 1.0);
  p.finished(3, TrialState::Complete, 0.7, "", 2.0);
  p.tick(0, 3);
  const std::string s = out.str();
  CHECK_THAT(s, Catch::Contains("1 of 3 trials finished, resuming"));
  CHECK_THAT(s, Catch::Contains("trial 2 FAIL: worker exited with status 1 (1s) [2/3]"));
  CHECK_THAT(s, Catch::Contains("trial 3 COMPLETE value=0.7 (2s) [3/3]"));
  CHECK(s.find('\r') == std::string::npos);
  std::ostringstream done;
  Progress(done, false).begin("s", Direction::Maximize, 3, 7);
  CHECK(done.str() == "hpt: study 's': 7 of 3 trials finished: nothing to run\n");
}

// A trial's constraint values are shown, "infeasible" when violated; an infeasible trial is
// never the best on the status line, however good its value.
TEST_CASE("progress: constraints and the best feasible trial", "[progress][constraints]") {
  std::ostringstream out;
  Progress p(out, true);
  p.begin("s", Direction::Minimize, 3, 0);
  p.finished(0, TrialState::Complete, 0.5, "", 2.0, {}, std::nullopt,
             std::vector<double>{-1.0, 0.0});
  p.finished(1, TrialState::Complete, 0.1, "", 2.0, {}, std::nullopt,
             std::vector<double>{0.25, -1.0});
  p.tick(0, 2);
  const std::string s = out.str();
  CHECK_THAT(s, Catch::Contains("trial 0 COMPLETE value=0.5 constraints=[-1, 0] (2s)"));
  CHECK_THAT(s, Catch::Contains("trial 1 COMPLETE value=0.1 constraints=[0.25, -1] infeasible"));
  CHECK_THAT(s, Catch::Contains("best 0.5 (trial 0)"));
}

// With other hosts on the study, [done/total] is the study's count: another host's finishes
// seen by tick are not added to again by this host's own (it printed [12/20] for 11).
TEST_CASE("progress: the study's count, not this host's added to it", "[progress]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Maximize, 20, 4);
  p.tick(1, 10);  // Six finished on other hosts.
  p.finished(5, TrialState::Complete, 0.5, "", 2.0, {}, 11);
  p.finished(6, TrialState::Pruned, std::nullopt, "", 2.0, {}, 10);  // Never goes back.
  const std::string s = out.str();
  CHECK_THAT(s, Catch::Contains("trial 5 COMPLETE value=0.5 (2s) [11/20]"));
  CHECK_THAT(s, Catch::Contains("trial 6 PRUNED (2s) [11/20]"));
}

// The summary's best trial is never a NaN value, even when the NaN trial comes first.
TEST_CASE("progress: summary skips NaN for the best trial", "[progress]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Minimize, 2, 0);
  std::vector<FrozenTrial> complete(2);
  for (int i = 0; i < 2; ++i) {
    complete[i].number = i;
    complete[i].state = TrialState::Complete;
  }
  complete[0].value = std::numeric_limits<double>::quiet_NaN();
  complete[1].value = 0.5;
  p.summary(complete, {Direction::Minimize});
  CHECK_THAT(out.str(), Catch::Contains("best trial 1 value=0.5"));
}

// The summary's best trial is hpt best's (one rule): -inf is the best minimum.
TEST_CASE("progress: summary takes an infinite best value", "[progress]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Minimize, 3, 0);
  std::vector<FrozenTrial> complete(3);
  for (int i = 0; i < 3; ++i) {
    complete[i].number = i;
    complete[i].state = TrialState::Complete;
  }
  complete[0].value = 1.0;
  complete[1].value = -std::numeric_limits<double>::infinity();
  complete[2].value = -std::numeric_limits<double>::infinity();
  p.summary(complete, {Direction::Minimize});
  CHECK_THAT(out.str(), Catch::Contains("best trial 1 value=-inf"));
}

// A study whose complete trials all violate their constraints has no best trial: the summary
// says so, with one objective or several, and an empty study still says it has none.
TEST_CASE("progress: summary of a study with no feasible trial", "[progress]") {
  std::vector<FrozenTrial> complete(2);
  for (int i = 0; i < 2; ++i) {
    complete[i].number = i;
    complete[i].state = TrialState::Complete;
    complete[i].values = {0.5 + i, 2.0 - i};
    complete[i].system_attrs[hpt::k_constraints_attr] = Json{0.1 * (i + 1)};
  }
  for (const std::vector<Direction>& directions :
       {std::vector<Direction>{Direction::Minimize},
        std::vector<Direction>{Direction::Minimize, Direction::Minimize}}) {
    std::vector<FrozenTrial> trials = complete;
    if (directions.size() == 1) {
      for (auto& t : trials) {
        t.value = t.values.front();
        t.values.clear();
      }
    }
    std::ostringstream out;
    Progress p(out, false);
    p.begin("s", directions.front(), 2, 0);
    p.summary(trials, directions);
    CHECK_THAT(out.str(), Catch::Contains("no feasible trial (2 COMPLETE trials violate their "
                                          "constraints; see hpt trials)"));
    trials[1].system_attrs[hpt::k_constraints_attr] = Json{-1.0};  // Now one is feasible.
    std::ostringstream out2;
    Progress p2(out2, false);
    p2.begin("s", directions.front(), 2, 0);
    p2.summary(trials, directions);
    CHECK_THAT(out2.str(),
               Catch::Contains(directions.size() == 1 ? "best trial 1 value=1.5"
                                                      : "1 trial on the Pareto front: 1"));
    std::ostringstream out3;
    Progress p3(out3, false);
    p3.begin("s", directions.front(), 2, 0);
    p3.summary({}, directions);
    CHECK_THAT(out3.str(), Catch::Contains("no complete trial"));
  }
}

// Names, reasons, notes and parameters holding control characters (from a database or a
// worker) are printed escaped: no ESC or BEL reaches the terminal.
TEST_CASE("progress: control characters are escaped", "[progress]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("\x1b]0;pwn\x07s", Direction::Minimize, 2, 0);
  p.started(0, Json{{"c", "\x1b[2J"}, {"bad", "\xff"}});
  p.finished(0, TrialState::Fail, std::nullopt, "stderr: \x1b[31mboom\n", 1.0);
  p.note("study '\x1b[1mx' \xc2\x9b");
  const std::string s = out.str();
  CHECK(s.find('\x1b') == std::string::npos);
  CHECK(s.find('\x07') == std::string::npos);
  CHECK(s.find("\xc2\x9b") == std::string::npos);
  CHECK_THAT(s, Catch::Contains("study '\\x1b]0;pwn\\x07s'"));
  CHECK_THAT(s, Catch::Contains("trial 0 FAIL: stderr: \\x1b[31mboom\\n (1s)"));
  CHECK_THAT(s, Catch::Contains("hpt: study '\\x1b[1mx' \\u009b"));
}

// A multi-objective trial prints its values; the summary names the Pareto front.
TEST_CASE("progress: multi-objective values and Pareto summary", "[progress][multiobj]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("mo", Direction::Minimize, 3, 0);
  p.finished(0, TrialState::Complete, std::nullopt, "", 1.0, {0.5, 12});
  auto trial = [](int number, std::vector<double> values) {
    FrozenTrial t;
    t.number = number;
    t.state = TrialState::Complete;
    t.values = std::move(values);
    return t;
  };
  p.summary({trial(0, {0.5, 12}), trial(1, {0.6, 13}), trial(2, {0.1, 20})},
            {Direction::Minimize, Direction::Minimize});
  CHECK_THAT(out.str(), Catch::Contains("trial 0 COMPLETE values=[0.5, 12]"));
  CHECK_THAT(out.str(), Catch::Contains("2 trials on the Pareto front: 0, 2"));
}

// Without a total (hpt --timeout alone) counts read [done]; a time budget is said at the start
// and bounds the ETA.
TEST_CASE("progress: a time budget and no total", "[progress][timeout]") {
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Minimize, k_unbounded_trials, 2, 5400.0);
  p.finished(3, TrialState::Complete, 0.5, "", 2.0);
  const std::string s = out.str();
  CHECK_THAT(s, Catch::StartsWith("hpt: study 's': 2 trials finished, resuming; no trial starts "
                                  "after 1h30m (--timeout)\n"));
  CHECK_THAT(s, Catch::Contains("trial 3 COMPLETE value=0.5 (2s) [3]\n"));
  std::ostringstream bounded;
  Progress(bounded, false).begin("s", Direction::Minimize, 10, 0, 2.5);
  CHECK(bounded.str() ==
        "hpt: study 's': 0 of 10 trials finished; no trial starts after 2.5s (--timeout)\n");
  CHECK(Progress::format_budget(2.5) == "2.5s");
  CHECK(Progress::format_budget(5400) == "1h30m");
}

// The summary names the best trial's saved model, the folder hpt match --model takes.
TEST_CASE("progress: summary names the best trial's model", "[progress]") {
  hpt::test::TempDir tmp("progress-model");
  const std::string dir = tmp.file("my runs") + "/3";  // Quoted in the suggested command.
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/model.json") << "{}";
  std::vector<FrozenTrial> complete(2);
  for (int i = 0; i < 2; ++i) {
    complete[i].number = i + 2;
    complete[i].state = TrialState::Complete;
    complete[i].value = 1.0 - i;
    complete[i].system_attrs[k_log_attr] =
        tmp.file("my runs") + "/" + std::to_string(i + 2) + ".log";
  }
  std::ostringstream out;
  Progress p(out, false);
  p.begin("s", Direction::Minimize, 2, 0);
  p.summary(complete, {Direction::Minimize});
  CHECK_THAT(out.str(), Catch::Contains("best trial 3 value=0") &&
                            Catch::Contains("hpt: its model: " + dir + " (hpt match --model '" +
                                            dir + "' IMAGE1 IMAGE2)\n"));
  std::ostringstream other;
  Progress q(other, false);
  q.begin("s", Direction::Maximize, 2, 0);  // Trial 2 is best: no model saved.
  q.summary(complete, {Direction::Maximize});
  CHECK_THAT(other.str(), !Catch::Contains("its model"));
}
