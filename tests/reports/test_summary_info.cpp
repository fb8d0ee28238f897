#include <catch2/catch.hpp>
#include <limits>

#include "hpt/reports/info.hpp"
#include "study_fixtures.hpp"

using hpt::TrialState;
using hpt::test::make_trial;

// Counts per state, best trial by direction (lowest number on ties), ROC and confusion matrix.
TEST_CASE("summary counts states and finds the best trial", "[summary_info]") {
  std::vector<hpt::FrozenTrial> trials = {
      make_trial(0, TrialState::Complete, 0.7, {{"x", {0.5, hpt::test::k_unit}}}),
      make_trial(1, TrialState::Pruned, 0.9),
      make_trial(2, TrialState::Complete, 0.8, {{"opt", {2.0, hpt::test::k_opt}}}),
      make_trial(3, TrialState::Fail, std::nullopt),
      make_trial(4, TrialState::Complete, 0.8),
      make_trial(5, TrialState::Running, std::nullopt)};
  trials[2].user_attrs["roc_curve"] = {
      {"fpr", {0.0, 0.5, 1.0}}, {"tpr", {0.0, 0.9, 1.0}}, {"auc", 0.8}};
  trials[2].user_attrs["confusion_matrix"] = {{"tn", 40}, {"fp", 10}, {"fn", 5}, {"tp", 45}};
  const auto s = hpt::reports::get_summary_info("s", hpt::Direction::Maximize, trials);
  CHECK(s.n_trials == 6);
  CHECK(s.counts.at(TrialState::Complete) == 3);
  CHECK(s.counts.at(TrialState::Pruned) == 1);
  CHECK(s.counts.at(TrialState::Fail) == 1);
  CHECK(s.counts.at(TrialState::Running) == 1);
  CHECK(s.counts.at(TrialState::Waiting) == 0);
  REQUIRE(s.best_number);
  CHECK(*s.best_number == 2);
  CHECK(s.best_params["opt"] == hpt::Json::parse("[1,2]"));
  REQUIRE(s.roc);
  CHECK(s.roc->tpr[1] == 0.9);
  CHECK(*s.roc->auc == 0.8);
  REQUIRE(s.confusion_matrix);
  CHECK((*s.confusion_matrix)[1] == std::vector<double>{5, 45});

  const auto mn = hpt::reports::get_summary_info("s", hpt::Direction::Minimize, trials);
  CHECK(*mn.best_number == 0);
  CHECK_FALSE(mn.roc);
}

// Malformed attrs are ignored; an empty study has no best trial.
TEST_CASE("summary tolerates odd studies", "[summary_info]") {
  auto t = make_trial(0, TrialState::Complete, 1.0);
  t.user_attrs["roc_curve"] = {{"fpr", {0.0}}, {"tpr", {0.0, 1.0}}};
  t.user_attrs["confusion_matrix"] = {{1, 2}, {3}};
  const auto s = hpt::reports::get_summary_info("s", hpt::Direction::Minimize, {t});
  CHECK_FALSE(s.roc);
  CHECK_FALSE(s.confusion_matrix);
  const auto e = hpt::reports::get_summary_info("e", hpt::Direction::Minimize, {});
  CHECK_FALSE(e.best_number);
  CHECK(e.n_trials == 0);
}

// Rows hpt could not read (a parameter's distribution beyond what it samples, an unknown state)
// are left out where they stand; the summary says so (parameters vanished from the page
// without a word).
TEST_CASE("summary names data left out", "[summary_info]") {
  std::vector<hpt::FrozenTrial> trials = {make_trial(0, TrialState::Complete, 1.0),
                                          make_trial(1, TrialState::Complete, 2.0),
                                          make_trial(2, TrialState::Complete, 3.0)};
  CHECK(hpt::reports::get_summary_info("s", hpt::Direction::Minimize, trials)
            .read_problems.empty());
  trials[1].system_attrs["hpt:read_problems"] = hpt::Json::array({"parameter 'big': too wide"});
  trials[2].system_attrs["hpt:read_problems"] = hpt::Json::array({"state 'BOGUS'"});
  const auto s = hpt::reports::get_summary_info("s", hpt::Direction::Minimize, trials);
  CHECK_THAT(s.read_problems,
             Catch::StartsWith("2 trials hold data hpt cannot read, left out where it stands "
                               "(trial 1: parameter 'big': too wide)"));
}

// The report's best trial follows the one rule: a COMPLETE -inf trial is the best minimum.
TEST_CASE("summary best trial may have an infinite value", "[summary_info]") {
  const double inf = std::numeric_limits<double>::infinity();
  const auto s = hpt::reports::get_summary_info(
      "s", hpt::Direction::Minimize,
      {make_trial(0, TrialState::Complete, 1.0), make_trial(1, TrialState::Complete, -inf)});
  REQUIRE(s.best_number);
  CHECK(*s.best_number == 1);
}

// Rows carry external params, durations and scalar user attrs only.
TEST_CASE("trial rows", "[summary_info]") {
  auto trials = hpt::test::mixed_study(3);
  trials[0].user_attrs["roc_curve"] = {{"fpr", {0.0}}, {"tpr", {0.0}}};
  trials[0].system_attrs["fail_reason"] = "boom";
  const auto rows = hpt::reports::get_trial_rows(trials);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].attrs.contains("recall_at_1"));
  CHECK_FALSE(rows[0].attrs.contains("roc_curve"));
  CHECK(rows[0].attrs["fail_reason"] == "boom");
  CHECK(*rows[1].duration == Approx(1 + trials[1].params["layers"]));
  CHECK(rows[0].params.contains("x"));
  CHECK_FALSE(rows[1].params.contains("x"));
  CHECK(rows[0].params["opt"] ==
        hpt::test::k_opt.choices[static_cast<size_t>(trials[0].params["opt"])]);
  CHECK_FALSE(rows[0].attrs.contains("constraints"));
  trials[1].system_attrs["constraints"] = hpt::Json::array({-1.5, 0.25});
  trials[2].system_attrs["constraints"] = hpt::Json::array({0});
  const auto constrained = hpt::reports::get_trial_rows(trials);
  CHECK(constrained[1].attrs["constraints"] == "[-1.5, 0.25]");
  CHECK(constrained[1].attrs["feasible"] == false);
  CHECK(constrained[2].attrs["feasible"] == true);
}
