#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "hpt/reports/info.hpp"
#include "study_fixtures.hpp"

using hpt::Direction;
using hpt::TrialState;
using hpt::test::make_mo_trial;

namespace {

const double k_nan = std::numeric_limits<double>::quiet_NaN();
const double k_inf = std::numeric_limits<double>::infinity();

// The trial numbers of the points on the front, in info.front order.
std::vector<int> front_numbers(const hpt::reports::ParetoInfo& p,
                               const std::vector<hpt::FrozenTrial>& trials) {
  std::vector<int> out;
  for (int i : p.front) {
    out.push_back(trials[p.index[i]].number);
  }
  return out;
}

}  // namespace

// Two minimised objectives: dominated trials are off the front, equal-valued trials are both
// on it, the front is ordered by objective 0; NaN/inf values, too few values, and trials not
// COMPLETE are left out (the first three counted).
TEST_CASE("Pareto front of two minimised objectives", "[pareto_info]") {
  const std::vector<hpt::FrozenTrial> trials = {
      make_mo_trial(0, {4, 1}),
      make_mo_trial(1, {2, 3}),
      make_mo_trial(2, {3, 3}),  // Dominated by #1.
      make_mo_trial(3, {1, 5}),
      make_mo_trial(4, {2, 3}),  // A duplicate of #1: on the front too.
      make_mo_trial(5, {k_nan, 0}),
      make_mo_trial(6, {0, k_inf}),
      make_mo_trial(7, {0.5}),
      make_mo_trial(8, {0, 0}, TrialState::Pruned),
      make_mo_trial(9, {5, 5}),  // Dominated by everything.
  };
  const auto p = hpt::reports::get_pareto_info(trials, {Direction::Minimize, Direction::Minimize});
  CHECK(p.values.size() == 6);
  CHECK(p.index == std::vector<int>{0, 1, 2, 3, 4, 9});
  CHECK(p.on_front == std::vector<bool>{true, true, false, true, true, false});
  CHECK(front_numbers(p, trials) == std::vector<int>{3, 1, 4, 0});
  CHECK(p.n_excluded == 3);
  CHECK(p.note.find("3 COMPLETE trials") != std::string::npos);
  CHECK(p.labels == std::vector<std::string>{"objective 0 (minimize)", "objective 1 (minimize)"});
}

// A trial violating its constraints is never on the front, even where it would dominate.
TEST_CASE("Pareto front of a constrained study", "[pareto_info][constraints]") {
  std::vector<hpt::FrozenTrial> trials = {make_mo_trial(0, {1, 1}), make_mo_trial(1, {2, 3}),
                                          make_mo_trial(2, {3, 2})};
  trials[0].system_attrs["constraints"] = hpt::Json::array({0.1});
  trials[1].system_attrs["constraints"] = hpt::Json::array({-0.1});
  const auto p = hpt::reports::get_pareto_info(trials, {Direction::Minimize, Direction::Minimize});
  CHECK(p.on_front == std::vector<bool>{false, true, true});
  CHECK(p.feasible == std::vector<bool>{false, true, true});
}

// Minimise the first, maximise the second: (1, 2) dominates (1, 1) and (2, 3) dominates (3, 3);
// swapping both directions makes the other two the front.
TEST_CASE("Pareto front with minimise and maximise mixed", "[pareto_info]") {
  const std::vector<hpt::FrozenTrial> trials = {make_mo_trial(0, {1, 1}), make_mo_trial(1, {1, 2}),
                                                make_mo_trial(2, {2, 3}), make_mo_trial(3, {3, 3})};
  const auto p = hpt::reports::get_pareto_info(trials, {Direction::Minimize, Direction::Maximize});
  CHECK(front_numbers(p, trials) == std::vector<int>{1, 2});
  CHECK(p.labels[1] == "objective 1 (maximize)");
  const auto q = hpt::reports::get_pareto_info(trials, {Direction::Maximize, Direction::Minimize});
  CHECK(front_numbers(q, trials) == std::vector<int>{0, 3});
  CHECK(q.note.empty());
}

// Three objectives (min, min, max): a trial better in one objective stays on the front, one
// no better anywhere does not.
TEST_CASE("Pareto front of three objectives", "[pareto_info]") {
  const std::vector<hpt::FrozenTrial> trials = {
      make_mo_trial(0, {1, 1, 1}), make_mo_trial(1, {2, 2, 2}), make_mo_trial(2, {2, 2, 0}),
      make_mo_trial(3, {0, 3, 0}), make_mo_trial(4, {1, 1, 1})};
  const auto p = hpt::reports::get_pareto_info(
      trials, {Direction::Minimize, Direction::Minimize, Direction::Maximize});
  CHECK(p.on_front == std::vector<bool>{true, true, false, true, true});
  CHECK(front_numbers(p, trials) == std::vector<int>{3, 0, 4, 1});
  CHECK(p.labels.size() == 3);
}

// No usable trial, or a NOT_SET direction: no points and a note saying why.
TEST_CASE("Pareto info of empty studies and NOT_SET directions", "[pareto_info]") {
  const auto none = hpt::reports::get_pareto_info({}, {Direction::Minimize, Direction::Maximize});
  CHECK(none.values.empty());
  CHECK(none.note.find("Not enough trials") != std::string::npos);
  const auto fail = hpt::reports::get_pareto_info({make_mo_trial(0, {1, 1}, TrialState::Fail)},
                                                  {Direction::Minimize, Direction::Maximize});
  CHECK(fail.values.empty());
  const auto unset = hpt::reports::get_pareto_info({make_mo_trial(0, {1, 1})},
                                                   {Direction::NotSet, Direction::Maximize});
  CHECK(unset.values.empty());
  CHECK(unset.note.find("NOT_SET") != std::string::npos);
}

// objective_trials puts objective k's value in value (none where a trial lacks it) and keeps
// the order; a single-objective trial's value is objective 0.
TEST_CASE("objective_trials", "[pareto_info]") {
  std::vector<hpt::FrozenTrial> trials = {make_mo_trial(0, {1, 2}), make_mo_trial(1, {3}),
                                          hpt::test::make_trial(2, TrialState::Complete, 7.0)};
  const auto first = hpt::reports::objective_trials(trials, 0);
  const auto second = hpt::reports::objective_trials(trials, 1);
  REQUIRE(first.size() == 3);
  CHECK(*first[0].value == 1);
  CHECK(*first[1].value == 3);
  CHECK(*first[2].value == 7);
  CHECK(*second[0].value == 2);
  CHECK_FALSE(second[1].value);
  CHECK_FALSE(second[2].value);
  CHECK(second[2].number == 2);
  CHECK(hpt::reports::objective_label(2, Direction::Maximize) == "objective 2 (maximize)");
}

// Per-objective importances: objective 0 is driven by lr, objective 1 by layers (mo_study).
TEST_CASE("per-objective importances", "[pareto_info]") {
  const auto trials = hpt::test::mo_study(60);
  const auto imp =
      hpt::reports::get_study_importances(trials, {Direction::Minimize, Direction::Minimize});
  REQUIRE(imp.objectives.size() == 2);
  REQUIRE_FALSE(imp.objectives[0].importances.empty());
  REQUIRE_FALSE(imp.objectives[1].importances.empty());
  CHECK(imp.objectives[0].importances[0].first == "lr");
  CHECK(imp.objectives[1].importances[0].first == "layers");
  CHECK(imp.value.importances == imp.objectives[0].importances);
  CHECK(imp.duration.importances[0].first == "layers");
  // A single-objective study gets no per-objective list.
  CHECK(hpt::reports::get_study_importances(hpt::test::mixed_study(30), {Direction::Minimize})
            .objectives.empty());
}
