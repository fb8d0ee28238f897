#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"
#include "hpt/tuner/multi_objective_split.hpp"
#include "hpt/tuner/nsga2_sampler.hpp"
#include "hpt/tuner/observation_split.hpp"
#include "hpt/tuner/tpe_sampler.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::Json;
using hpt::TrialState;
using hpt::test::numbers;

namespace {

const double k_inf = std::numeric_limits<double>::infinity();

// t with its constraint values stored as Optuna stores them (a JSON list; null: none).
FrozenTrial constrained(FrozenTrial t, const Json& constraints) {
  t.system_attrs[hpt::k_constraints_attr] = constraints;
  return t;
}

// COMPLETE single-objective trials 0, 1, ... with values and constraint values.
std::vector<FrozenTrial> single(const std::vector<double>& values, const std::vector<Json>& cons) {
  std::vector<FrozenTrial> out;
  for (size_t i = 0; i < values.size(); ++i) {
    out.push_back(constrained(hpt::test::complete(static_cast<int>(i), values[i]), cons[i]));
  }
  return out;
}

std::vector<FrozenTrial> multi(const std::vector<std::vector<double>>& values,
                               const std::vector<Json>& cons) {
  auto out = hpt::test::complete_with_values(values);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = constrained(out[i], cons[i]);
  }
  return out;
}

std::vector<Json> singletons(const std::vector<double>& values) {
  std::vector<Json> out;
  for (double v : values) {
    out.push_back(Json::array({v}));
  }
  return out;
}

// The two-objective reference points of tests/tuner/optuna_constraints_reference.py.
const std::vector<std::vector<double>> k_points{
    {0.01, 0.502},  {0.496, 0.134}, {0.142, 0.219}, {0.419, 0.248}, {0.084, 0.345}, {0.167, 0.879},
    {0.951, 0.039}, {0.699, 0.573}, {0.898, 0.667}, {0.548, 0.702}, {0.386, 0.694}, {0.825, 0.466},
    {0.941, 0.804}, {0.983, 0.17},  {0.521, 0.946}, {0.65, 0.861},  {0.971, 0.186}, {0.243, 0.873},
    {0.906, 0.758}, {0.347, 0.464}, {0.611, 0.496}, {0.478, 0.436}, {0.87, 0.187},  {0.688, 0.704},
    {0.925, 0.039}, {0.647, 0.638}, {0.462, 0.053}, {0.039, 0.17},  {0.795, 0.163}, {0.139, 0.353}};

}  // namespace

// What counts as constraint values: a non-empty list of numbers without NaN (Optuna writes
// null when its constraints_func failed); the violation sums the positive ones.
TEST_CASE("constraint values, violation and feasibility", "[constraints]") {
  const FrozenTrial plain = hpt::test::complete(0, 1.0);
  CHECK_FALSE(hpt::trial_constraints(plain));
  CHECK_FALSE(hpt::constraint_violation(plain));
  CHECK(hpt::is_feasible(plain));
  const FrozenTrial met = constrained(plain, Json::array({-1.0, 0.0}));
  CHECK(hpt::constraint_violation(met) == 0.0);
  CHECK(hpt::is_feasible(met));
  const FrozenTrial violated = constrained(plain, Json::array({0.25, -3.0, 0.5}));
  CHECK(hpt::constraint_violation(violated) == 0.75);
  CHECK_FALSE(hpt::is_feasible(violated));
  CHECK(hpt::constraint_violation(constrained(plain, Json::array({k_inf}))) == k_inf);
  CHECK(hpt::violation_of({-2.0, 1.5, 0.5}) == 2.0);
  for (const Json& none : {Json(nullptr), Json::array()}) {  // Optuna's failed constraints_func.
    CAPTURE(none.dump());
    CHECK_FALSE(hpt::trial_constraints(constrained(plain, none)));
    CHECK(hpt::is_feasible(constrained(plain, none)));
  }
  // Another tool's unreadable values are never feasible: such a trial is never best.
  for (const Json& unreadable : {Json("0.5"), Json(0.5), Json::array({0.1, "x"}),
                                 Json::array({std::nan("")}), Json::array({-1.0, nullptr})}) {
    CAPTURE(unreadable.dump());
    CHECK_FALSE(hpt::trial_constraints(constrained(plain, unreadable)));
    CHECK_FALSE(hpt::constraint_violation(constrained(plain, unreadable)));
    CHECK_FALSE(hpt::is_feasible(constrained(plain, unreadable)));
  }
  CHECK_FALSE(hpt::constraints_reported({plain, constrained(plain, nullptr)}));
  CHECK(hpt::constraints_reported({plain, met}));
}

// Optuna 4's best_trial / best_trials: infeasible trials are never best; none feasible, none.
TEST_CASE("best trials are feasible ones", "[constraints]") {
  const auto trials =
      single({0.1, 0.5, 0.3}, {Json::array({0.2}), Json::array({-1.0}), Json::array({0.0})});
  REQUIRE(hpt::best_trial_index(trials, Direction::Minimize));
  CHECK(*hpt::best_trial_index(trials, Direction::Minimize) == 2);
  CHECK(*hpt::best_trial_index(trials, Direction::Maximize) == 1);
  CHECK_FALSE(hpt::best_trial_index(single({0.1}, {Json::array({1.0})}), Direction::Minimize));
  // Unreadable stored constraints (another tool's NaN) never make the best trial; null does.
  const auto mixed =
      single({0.1, 0.5, 0.3}, {Json::array({std::nan("")}), Json::array({-1.0}), Json(nullptr)});
  CHECK(*hpt::best_trial_index(mixed, Direction::Minimize) == 2);
  const auto front =
      hpt::best_trials(multi({{0.1, 0.1}, {0.2, 0.2}, {0.3, 0.1}}, singletons({1.0, -1.0, -1.0})),
                       {Direction::Minimize, Direction::Minimize});
  REQUIRE(front.size() == 2);  // 0 would dominate both, but violates its constraint.
  CHECK(front[0].number == 1);
  CHECK(front[1].number == 2);
}

// Optuna's _constrained_dominates, case by case.
TEST_CASE("constrained domination", "[constraints]") {
  const std::vector<Direction> min2{Direction::Minimize, Direction::Minimize};
  const auto t = multi({{0.1, 0.1}, {0.5, 0.5}}, {nullptr, nullptr});
  auto with = [&](int i, const Json& c) { return constrained(t[i], c); };
  CHECK(hpt::constrained_dominates(t[0], t[1], min2));  // Neither has any: by values.
  CHECK_FALSE(hpt::constrained_dominates(t[1], t[0], min2));
  CHECK(hpt::constrained_dominates(with(1, Json::array({5.0})), t[0], min2));  // Has vs none.
  CHECK_FALSE(hpt::constrained_dominates(t[0], with(1, Json::array({5.0})), min2));
  CHECK(hpt::constrained_dominates(with(1, Json::array({-1.0})), with(0, Json::array({0.1})),
                                   min2));  // Feasible beats infeasible.
  CHECK(hpt::constrained_dominates(with(1, Json::array({0.1})), with(0, Json::array({0.2})),
                                   min2));  // The smaller violation.
  CHECK_FALSE(
      hpt::constrained_dominates(with(1, Json::array({0.2})), with(0, Json::array({0.2})), min2));
  CHECK(hpt::constrained_dominates(with(0, Json::array({-1.0})), with(1, Json::array({0.0})),
                                   min2));  // Both feasible: by values.
  CHECK_FALSE(
      hpt::constrained_dominates(with(1, Json::array({-1.0})), with(0, Json::array({0.0})), min2));
}

// Optuna 3.1's _split_observation_pairs with violations prints below [2, 3]
// (tests/tuner/optuna_constraints_reference.py): the best feasible trials; 14, 11 and 8 have
// better values but violate their constraints.
TEST_CASE("TPE split of a constrained study equals Optuna's", "[constraints]") {
  const std::vector<double> values{0.295, 0.531, 0.192, 0.068, 0.787, 0.656, 0.638,
                                   0.576, 0.039, 0.358, 0.946, 0.06,  0.864, 0.877,
                                   0.051, 0.652, 0.552, 0.598, 0.484, 0.283};
  const std::vector<std::vector<double>> cons{
      {-0.3, -0.04}, {-0.2, 0.19},   {-0.18, -0.46}, {-0.45, -0.54}, {0.12, -0.31},
      {-0.4, 0.23},  {-0.03, -0.52}, {-0.06, -0.44}, {0.08, -0.48},  {-0.16, 0.29},
      {0.2, -0.53},  {0.36, 0.06},   {0.12, 0.14},   {0.29, -0.47},  {0.18, 0.24},
      {0.23, -0.57}, {-0.21, -0.16}, {-0.08, -0.11}, {-0.47, 0.38},  {-0.53, -0.02}};
  std::vector<Json> json(cons.begin(), cons.end());
  const auto trials = single(values, json);
  auto split = hpt::split_observations(trials, Direction::Minimize, -1, false);
  CHECK(numbers(split.below) == std::vector<int>{2, 3});
  CHECK(split.above.size() == 18);
  // Without constraint values the same trials split by value alone.
  std::vector<FrozenTrial> plain;
  for (size_t i = 0; i < values.size(); ++i) {
    plain.push_back(hpt::test::complete(static_cast<int>(i), values[i]));
  }
  CHECK(numbers(hpt::split_observations(plain, Direction::Minimize, -1, false).below) ==
        std::vector<int>{8, 14});
}

// Fewer feasible trials than gamma(30) = 3: Optuna prints below [3, 4, 12], the one feasible
// trial and the two smallest violations; trial 20 without constraint values counts as +inf.
TEST_CASE("TPE split with fewer feasible trials than gamma equals Optuna's", "[constraints]") {
  const std::vector<double> values{0.967, 0.547, 0.973, 0.715, 0.698, 0.216, 0.976, 0.006,
                                   0.253, 0.435, 0.779, 0.198, 0.863, 0.983, 0.164, 0.597,
                                   0.009, 0.387, 0.044, 0.957, 0.436, 0.949, 0.786, 0.866,
                                   0.173, 0.075, 0.601, 0.168, 0.733, 0.408};
  std::vector<Json> cons = singletons({0.58, 0.99, 0.57, 0.16, 0.21, 0.6,  0.57, 0.69, 0.45, 0.7,
                                       0.45, 0.67, -0.5, 0.23, 0.43, 0.55, 0.74, 0.3,  0.6,  0.67,
                                       0,    0.41, 0.69, 0.24, 0.55, 0.23, 0.97, 0.48, 0.88, 0.47});
  cons[20] = nullptr;
  const auto trials = single(values, cons);
  const auto split = hpt::split_observations(trials, Direction::Minimize, -1, false);
  CHECK(numbers(split.below) == std::vector<int>{3, 4, 12});
}

// A RUNNING trial (constant liar) counts as +inf violation, a PRUNED one by its constraint
// values: feasible PRUNED trials rank by their last step as usual.
TEST_CASE("TPE split ranks pruned and running trials of a constrained study", "[constraints]") {
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < 10; ++i) {
    trials.push_back(constrained(hpt::test::complete(i, 0.5 + i), Json::array({1.0})));
  }
  trials.push_back(constrained(
      hpt::test::make_trial(10, TrialState::Pruned, std::nullopt, {}, hpt::StepValues{{3, 9.0}}),
      Json::array({-1.0})));
  trials.push_back(hpt::test::make_trial(11, TrialState::Running, std::nullopt));
  const auto split = hpt::split_observations(trials, Direction::Minimize, -1, true);
  REQUIRE(split.below.size() == 2);  // gamma(11) = 2: the feasible pruned trial, then 0.
  CHECK(numbers(split.below) == std::vector<int>{0, 10});
  CHECK(split.above.back()->number == 11);
}

// MOTPE with constraints: Optuna prints below [0, 26, 27] with weights
// [0.010366287853468062, 0.03849013074255543, 1.0]; with two feasible trials, below
// [5, 19, 21] and weights [1.0, 0.9101567437801692, 1e-12] (21 infeasible: EPS).
TEST_CASE("MOTPE split and weights of a constrained study equal Optuna's", "[constraints]") {
  const std::vector<Direction> min2{Direction::Minimize, Direction::Minimize};
  const auto cons =
      singletons({-0.22, -0.0,  0.1,   -0.43, 0.21,  -0.68, -0.32, -0.5,  -0.36, -0.26,
                  -0.2,  -0.29, -0.49, -0.48, -0.47, 0.03,  -0.28, -0.12, -0.21, -0.27,
                  0.03,  -0.14, -0.4,  0.27,  -0.48, -0.56, -0.09, -0.21, -0.52, -0.59});
  const auto trials = multi(k_points, cons);
  auto split = hpt::split_observations_multi_objective(trials, min2, -1);
  CHECK(numbers(split.below) == std::vector<int>{0, 26, 27});
  REQUIRE(split.below_weights.size() == 3);
  CHECK(split.below_weights[0] == Approx(0.010366287853468062).epsilon(1e-12));
  CHECK(split.below_weights[1] == Approx(0.03849013074255543).epsilon(1e-12));
  CHECK(split.below_weights[2] == Approx(1.0));

  std::vector<Json> mostly(k_points.size(), Json::array({0.3}));
  mostly[5] = Json::array({-0.1});
  mostly[19] = Json::array({-0.2});
  mostly[21] = Json::array({0.05});
  const auto trials_mostly = multi(k_points, mostly);
  split = hpt::split_observations_multi_objective(trials_mostly, min2, -1);
  CHECK(numbers(split.below) == std::vector<int>{5, 19, 21});
  REQUIRE(split.below_weights.size() == 3);
  CHECK(split.below_weights[0] == Approx(1.0));
  CHECK(split.below_weights[1] == Approx(0.9101567437801692).epsilon(1e-12));
  CHECK(split.below_weights[2] == 1e-12);
}

// NSGAIISampler(constraints_func=...)._select_elite_population on the reference population
// prints [5, 13, 15, 0, 7, 11, 4, 14].
TEST_CASE("NSGA-II constrained elite equals Optuna's", "[constraints]") {
  const std::vector<std::vector<double>> vals{
      {0.22, 0.87}, {0.21, 0.92}, {0.49, 0.61}, {0.77, 0.52}, {0.3, 0.19},
      {0.08, 0.74}, {0.44, 0.16}, {0.88, 0.27}, {0.41, 0.3},  {0.63, 0.58},
      {0.6, 0.27},  {0.28, 0.25}, {0.33, 0.14}, {0.17, 0.96}, {0.96, 0.19},
      {0.02, 0.2},  {0.7, 0.78},  {0.02, 0.58}, {0.0, 0.52},  {0.64, 0.99}};
  const auto trials =
      multi(vals, singletons({-0.24, 0.3,   0.37,  0.42,  -0.5,  -0.03, 0.48, -0.1, 0.31, 0.05,
                              0.27,  -0.02, -0.47, -0.41, -0.39, -0.25, 0.46, 0.13, 0.32, 0.07}));
  std::vector<const FrozenTrial*> population;
  for (const auto& t : trials) {
    population.push_back(&t);
  }
  const std::vector<Direction> min_max{Direction::Minimize, Direction::Maximize};
  CHECK(numbers(hpt::nsga2_select_elite(population, min_max, 8, true)) ==
        std::vector<int>{5, 13, 15, 0, 7, 11, 4, 14});
  CHECK(numbers(hpt::nsga2_select_elite(population, min_max, 8, false)) !=
        std::vector<int>{5, 13, 15, 0, 7, 11, 4, 14});
}

// A TPE study of a constrained problem (minimise (x-1)^2 + (y+1)^2 subject to x >= 2 and
// y <= -1.5, whose feasible optimum is 1.25 at (2, -1.5)) finds feasible trials near that
// optimum; the same study blind to its constraints spends its trials at the infeasible (1, -1).
TEST_CASE("TPE searches the feasible region of a constrained study", "[constraints]") {
  const hpt::SearchSpace space{{"x", hpt::FloatDistribution{-5, 5, false, {}}},
                               {"y", hpt::FloatDistribution{-5, 5, false, {}}}};
  auto run = [&](bool report_constraints) {
    hpt::TpeSampler sampler(hpt::TpeOptions{}, 3);
    std::vector<FrozenTrial> trials;
    for (int i = 0; i < 60; ++i) {
      hpt::SampleContext ctx(Direction::Minimize, &trials, i);
      FrozenTrial t = hpt::test::complete(i, 0.0);
      t.params = sampler.sample(space, ctx);
      const double x = t.params["x"];
      const double y = t.params["y"];
      t.value = (x - 1) * (x - 1) + (y + 1) * (y + 1);
      t.distributions = {{"x", space[0].second}, {"y", space[1].second}};
      if (report_constraints) {
        t.system_attrs[hpt::k_constraints_attr] = Json::array({2 - x, y + 1.5});
      }
      trials.push_back(t);
    }
    int feasible_late = 0;  // Among the last 30 trials.
    for (int i = 30; i < 60; ++i) {
      feasible_late += trials[i].params["x"] >= 2 && trials[i].params["y"] <= -1.5 ? 1 : 0;
    }
    return feasible_late;
  };
  const int aware = run(true);
  const int blind = run(false);
  CAPTURE(aware, blind);
  CHECK(aware >= 15);
  CHECK(aware > 2 * blind);
}

// A study's trials report one number of constraints: the first constrained trial sets it.
TEST_CASE("constraints_count_problem", "[constraints]") {
  std::vector<hpt::FrozenTrial> trials(3);
  for (int i = 0; i < 3; ++i) {
    trials[i].number = i;
  }
  CHECK(hpt::constraints_count_problem(5, trials).empty());  // None reported yet.
  trials[1].system_attrs[hpt::k_constraints_attr] = hpt::Json{-1.0, 2.0};
  trials[2].system_attrs[hpt::k_constraints_attr] = hpt::Json{1.0, 2.0};
  CHECK(hpt::constraints_count_problem(2, trials).empty());
  CHECK(hpt::constraints_count_problem(1, trials) ==
        "1 constraint value, but trial 1 of the study reported 2: each trial reports the same "
        "constraints (Optuna cannot compare trials with different numbers of them)");
  CHECK(hpt::constraints_count_problem(3, trials).rfind("3 constraint values, but trial 1", 0) ==
        0);
  // At most k_max_constraints, whatever the study holds.
  const std::vector<hpt::FrozenTrial> none(1);
  CHECK(hpt::constraints_count_problem(hpt::k_max_constraints, none).empty());
  CHECK(hpt::constraints_count_problem(hpt::k_max_constraints + 1, none) ==
        "1001 constraint values; at most 1000");
}
