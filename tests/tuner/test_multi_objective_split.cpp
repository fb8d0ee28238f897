#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/multi_objective_split.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FrozenTrial;
using hpt::TrialState;
using hpt::test::numbers;

// 30 points, two minimised objectives (with a duplicate): the Pareto front has 6 members and
// gamma(30) = 3, so all three below come from hypervolume subset selection. Optuna 3.1's
// _split_observation_pairs and _calculate_weights_below_for_multi_objective print below
// [8, 6, 28] and weights [1, 0.34061978878681204, 0.1986960348527265]
// (tests/tuner/optuna_multi_objective_reference.py).
TEST_CASE("MOTPE split and weights equal Optuna's on two objectives", "[motpe]") {
  const auto trials = hpt::test::complete_with_values(
      {{0.076, 0.78},  {0.438, 0.723}, {0.978, 0.538}, {0.501, 0.072}, {0.268, 0.5},
       {0.501, 0.072}, {0.381, 0.066}, {0.288, 0.91},  {0.213, 0.452}, {0.931, 0.025},
       {0.601, 0.95},  {0.23, 0.548},  {0.909, 0.133}, {0.523, 0.75},  {0.669, 0.468},
       {0.205, 0.491}, {0.372, 0.477}, {0.366, 0.838}, {0.769, 0.314}, {0.573, 0.276},
       {0.453, 0.353}, {0.657, 0.37},  {0.459, 0.719}, {0.413, 0.906}, {0.18, 0.741},
       {0.422, 0.426}, {0.634, 0.523}, {0.415, 0.001}, {0.092, 0.709}, {0.524, 0.696}});
  const auto split = hpt::split_observations_multi_objective(
      trials, {Direction::Minimize, Direction::Minimize}, -1);
  CHECK(split.n_finished == 30);
  CHECK(numbers(split.below) == std::vector<int>{8, 6, 28});
  REQUIRE(split.below_weights.size() == 3);
  CHECK(split.below_weights[0] == Approx(1.0));
  CHECK(split.below_weights[1] == Approx(0.34061978878681204).epsilon(1e-12));
  CHECK(split.below_weights[2] == Approx(0.1986960348527265).epsilon(1e-12));
  CHECK(split.above.size() == 27);
  CHECK(split.above.front()->number == 0);
  CHECK(split.above.back()->number == 29);
}

// Three objectives, the second maximised (values negated here so that the losses equal
// Optuna's 60-point reference set): below [14, 0, 5, 8, 35, 18] and its weights.
TEST_CASE("MOTPE split and weights equal Optuna's on three objectives", "[motpe]") {
  const std::vector<std::vector<double>> pts3{
      {0.18, 0.019, 0.463},  {0.725, 0.42, 0.485},  {0.013, 0.487, 0.942}, {0.851, 0.73, 0.109},
      {0.894, 0.857, 0.165}, {0.632, 0.02, 0.117},  {0.316, 0.158, 0.759}, {0.818, 0.345, 0.319},
      {0.112, 0.084, 0.713}, {0.6, 0.056, 0.48},    {0.402, 0.848, 0.718}, {0.602, 0.552, 0.949},
      {0.987, 0.338, 0.24},  {0.796, 0.064, 0.365}, {0.07, 0.319, 0.07},   {0.29, 0.79, 0.905},
      {0.793, 0.562, 0.616}, {0.361, 0.169, 0.436}, {0.733, 0.063, 0.021}, {0.771, 0.3, 0.701},
      {0.735, 0.933, 0.4},   {0.358, 0.807, 0.764}, {0.653, 0.811, 0.642}, {0.957, 0.334, 0.738},
      {0.95, 0.334, 0.612},  {0.366, 0.462, 0.075}, {0.019, 0.76, 0.453},  {0.623, 0.74, 0.419},
      {0.368, 0.169, 0.794}, {0.833, 0.734, 0.875}, {0.648, 0.696, 0.193}, {0.768, 0.334, 0.438},
      {0.319, 0.568, 0.659}, {0.576, 0.318, 0.218}, {0.845, 0.302, 0.438}, {0.091, 0.301, 0.086},
      {0.344, 0.709, 0.974}, {0.625, 0.269, 0.657}, {0.627, 0.826, 0.534}, {0.911, 0.416, 0.286},
      {0.519, 0.922, 0.724}, {0.494, 0.497, 0.649}, {0.448, 0.551, 0.971}, {0.932, 0.841, 0.127},
      {0.557, 0.366, 0.912}, {0.314, 0.931, 0.238}, {0.42, 0.96, 0.595},   {0.932, 0.539, 0.228},
      {0.713, 0.522, 0.505}, {0.136, 0.145, 0.93},  {0.956, 0.966, 0.358}, {0.046, 0.554, 0.736},
      {0.648, 0.053, 0.233}, {0.706, 0.055, 0.846}, {0.989, 0.248, 0.054}, {0.98, 0.767, 0.454},
      {0.478, 0.916, 0.356}, {0.053, 0.614, 0.313}, {0.682, 0.948, 0.361}, {0.247, 0.053, 0.832}};
  std::vector<std::vector<double>> values = pts3;
  for (auto& v : values) {
    v[1] = -v[1];
  }
  const auto trials = hpt::test::complete_with_values(values);
  const auto split = hpt::split_observations_multi_objective(
      trials, {Direction::Minimize, Direction::Maximize, Direction::Minimize}, -1);
  CHECK(numbers(split.below) == std::vector<int>{14, 0, 5, 8, 35, 18});
  const std::vector<double> expected{0.02369965581101525, 1.0,
                                     0.3207351806867851,  0.03092892060501575,
                                     0.12214658102460257, 0.05512261056045828};
  REQUIRE(split.below_weights.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(split.below_weights[i] == Approx(expected[i]).epsilon(1e-9));
  }
}

// As Optuna: only COMPLETE trials with one non-NaN value per objective count (PRUNED,
// RUNNING, FAIL, wrong arity and the excluded trial are neither below nor above); a single
// below trial weighs 1.
TEST_CASE("MOTPE split uses only complete multi-objective trials", "[motpe]") {
  auto trials =
      hpt::test::complete_with_values({{1, 2}, {2, 1}, {0.5, 0.5}, {3, 3}, {NAN, 1}, {1}, {9, 9}});
  trials[3].state = TrialState::Running;
  trials.push_back(trials[0]);
  trials.back().number = 7;
  trials.back().state = TrialState::Pruned;
  const auto split = hpt::split_observations_multi_objective(
      trials, {Direction::Minimize, Direction::Minimize}, 6);
  CHECK(split.n_finished == 3);
  CHECK(numbers(split.below) == std::vector<int>{2});
  CHECK(split.below_weights == std::vector<double>{1.0});
  CHECK(numbers(split.above) == std::vector<int>{0, 1});
  const auto none =
      hpt::split_observations_multi_objective({}, {Direction::Minimize, Direction::Minimize}, -1);
  CHECK(none.below.empty());
  CHECK(none.below_weights.empty());
}

// Infinite objective values (a worker may report Infinity) never give NaN weights: the
// below set is weighed equally where Optuna's hypervolume arithmetic is undefined.
TEST_CASE("MOTPE weights stay finite with infinite values", "[motpe]") {
  std::vector<std::vector<double>> values;
  for (int i = 0; i < 40; ++i) {
    values.push_back({i % 3 == 0 ? INFINITY : i * 0.1, i % 5 == 0 ? -INFINITY : 4 - i * 0.1});
  }
  const auto trials = hpt::test::complete_with_values(values);
  const auto split = hpt::split_observations_multi_objective(
      trials, {Direction::Minimize, Direction::Minimize}, -1);
  REQUIRE(split.below.size() == 4);
  for (double w : split.below_weights) {
    CHECK(std::isfinite(w));
    CHECK(w > 0);
    CHECK(w <= 1);
  }
}
