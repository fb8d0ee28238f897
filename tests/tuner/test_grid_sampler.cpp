#include <catch2/catch.hpp>
#include <set>

#include "hpt/tuner/grid_sampler.hpp"
#include "trial_builders.hpp"

using hpt::CategoricalDistribution;
using hpt::Direction;
using hpt::FloatDistribution;
using hpt::FrozenTrial;
using hpt::GridSampler;
using hpt::IntDistribution;
using hpt::Json;
using hpt::SampleContext;
using hpt::SearchSpace;
using hpt::TrialState;

namespace {

SearchSpace small_space() {
  return {{"opt", CategoricalDistribution{{"sgd", "adam"}}},
          {"units", IntDistribution{16, 48, false, 16}}};
}

}  // namespace

// Without search_space: categorical choices x int values (2 x 3 = 6 points), and a
// continuous float needs explicit values.
TEST_CASE("grid axes default to choices and int values", "[grid]") {
  auto axes = hpt::grid_axes(small_space(), Json());
  CHECK(axes[0] == std::vector<double>{0, 1});
  CHECK(axes[1] == std::vector<double>{16, 32, 48});
  SearchSpace with_float = small_space();
  with_float.emplace_back("lr", FloatDistribution{1e-4, 1e-1, true, {}});
  CHECK_THROWS_WITH(hpt::grid_axes(with_float, Json()),
                    "grid sampler needs 'search_space' values for continuous parameter 'lr'");
  auto listed = hpt::grid_axes(with_float, Json{{"lr", {1e-3, 1e-2}}, {"opt", {"adam"}}});
  CHECK(listed[0] == std::vector<double>{1});
  CHECK(listed[2] == std::vector<double>{1e-3, 1e-2});
}

// Values outside a distribution and unknown parameter names are rejected by name.
TEST_CASE("grid search_space is validated", "[grid]") {
  CHECK_THROWS_WITH(
      hpt::grid_axes(small_space(), Json{{"units", {16, 20}}}),
      "grid sampler 'search_space' of 'units': value 20 is outside its int distribution");
  CHECK_THROWS_WITH(
      hpt::grid_axes(small_space(), Json{{"unit", {16}}}),
      "grid sampler 'search_space' names unknown parameter 'unit' (did you mean 'units'?)");
  CHECK_THROWS_AS(hpt::grid_axes(small_space(), Json{{"opt", {"rmsprop"}}}), std::invalid_argument);
}

// Sequential trials visit all 6 points once, then the grid repeats.
TEST_CASE("grid visits every point once before repeating", "[grid]") {
  GridSampler grid(small_space(), Json());
  REQUIRE(grid.size() == 6);
  std::vector<FrozenTrial> trials;
  std::set<std::map<std::string, double>> seen;
  for (int i = 0; i < 6; ++i) {
    auto p = grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, i});
    seen.insert(p);
    trials.push_back(hpt::test::complete(i, 0.0, p));
  }
  CHECK(seen.size() == 6);
  auto again = grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, 6});
  CHECK(seen.count(again) == 1);
}

// Each sampled point carries Optuna's GridSampler attributes: the grid by sorted name and the
// point's index in itertools.product over it (here "units" comes first in hpt's space).
TEST_CASE("grid writes Optuna's search_space and grid_id", "[grid]") {
  const SearchSpace space = {{"units", IntDistribution{16, 48, false, 16}},
                             {"opt", CategoricalDistribution{{"sgd", "adam"}}}};
  GridSampler grid(space, Json());
  std::vector<FrozenTrial> trials;
  std::set<int> ids;
  for (int i = 0; i < 6; ++i) {
    std::map<std::string, Json> attrs;
    auto p = grid.sample(space, SampleContext{Direction::Minimize, &trials, i, {}, &attrs});
    CHECK(attrs.at("search_space") ==
          Json::parse(R"({"opt": ["sgd", "adam"], "units": [16, 32, 48]})"));
    const int id = attrs.at("grid_id").get<int>();
    // itertools.product(["sgd", "adam"], [16, 32, 48])[id] is the point sampled.
    CHECK(p.at("opt") == id / 3);
    CHECK(p.at("units") == 16 * (id % 3 + 1));
    ids.insert(id);
    trials.push_back(hpt::test::complete(i, 0.0, p));
  }
  CHECK(ids.size() == 6);
}

// Parallel workers: points held by RUNNING trials are skipped while free ones remain;
// the order is deterministic by trial number.
TEST_CASE("grid skips points held by running trials", "[grid]") {
  GridSampler grid(small_space(), Json());
  std::vector<FrozenTrial> trials;
  trials.push_back(hpt::test::make_trial(0, TrialState::Running, {}, grid.point(0)));
  trials.push_back(hpt::test::make_trial(1, TrialState::Running, {}, grid.point(1)));
  trials.push_back(hpt::test::make_trial(2, TrialState::Fail, {}, grid.point(2)));
  auto p = grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, 0 + 6});
  CHECK(p == grid.point(3));  // 6 mod 6 = 0 held, 1 held, 2 only FAILed (after free ones) -> 3
  auto same = grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, 6});
  CHECK(same == p);
}

// A point that only FAILed is run again once no point is never-run, before a point a RUNNING
// trial holds or a done one: it ranked as done, so a grid re-ran a running point (two at once) and
// then done ones, and never ran the failed point again (helper audit).
TEST_CASE("grid runs a point that only failed again", "[grid]") {
  GridSampler grid(small_space(), Json());
  std::vector<FrozenTrial> trials;
  trials.push_back(hpt::test::make_trial(0, TrialState::Fail, {}, grid.point(4)));
  trials.push_back(hpt::test::make_trial(1, TrialState::Running, {}, grid.point(0)));
  for (size_t id : {1, 2, 3, 5}) {
    trials.push_back(
        hpt::test::make_trial(static_cast<int>(id + 1), TrialState::Complete, 0.0, grid.point(id)));
  }
  for (int number = 7; number < 13; ++number) {  // Whatever the rotation's start.
    CHECK(grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, number}) ==
          grid.point(4));
  }
  // Never-run points come first.
  trials.erase(trials.begin() + 3);  // Point 2's trial.
  CHECK(grid.sample(small_space(), SampleContext{Direction::Minimize, &trials, 10}) ==
        grid.point(2));
}

// The grid is exhausted once every point is held by a COMPLETE, PRUNED or RUNNING trial: not
// while one has only FAILed (it is run again) or waits, nor with points left.
TEST_CASE("grid is exhausted when every point has finished", "[grid]") {
  GridSampler grid(small_space(), Json());
  std::vector<FrozenTrial> trials;
  CHECK_FALSE(grid.exhausted(trials));
  for (size_t id = 0; id < 5; ++id) {
    trials.push_back(hpt::test::make_trial(static_cast<int>(id),
                                           id == 2 ? TrialState::Fail : TrialState::Complete, 0.0,
                                           grid.point(id)));
  }
  trials.push_back(hpt::test::make_trial(5, TrialState::Complete, 0.0, grid.point(1)));
  CHECK_FALSE(grid.exhausted(trials));  // Point 5 has no trial, point 2 only a FAIL.
  trials.push_back(hpt::test::make_trial(8, TrialState::Complete, 0.0, grid.point(2)));
  CHECK_FALSE(grid.exhausted(trials));
  trials.push_back(hpt::test::make_trial(6, TrialState::Waiting, {}, grid.point(5)));
  CHECK_FALSE(grid.exhausted(trials));
  trials.push_back(hpt::test::make_trial(7, TrialState::Running, {}, grid.point(5)));
  CHECK(grid.exhausted(trials));
  trials.back().state = TrialState::Pruned;
  CHECK(grid.exhausted(trials));
}

// Int values are counted without overflow: 8 values at the top of int64 (all of them, in
// bounded time), and the whole int64 range is "too many values", not a wrap-around.
TEST_CASE("grid counts int values at the int64 limits", "[grid]") {
  constexpr int64_t k_max = std::numeric_limits<int64_t>::max();
  constexpr int64_t k_min = std::numeric_limits<int64_t>::min();
  CHECK(hpt::grid_axes({{"a", IntDistribution{k_max - 7, k_max, false, 1}}}, Json())[0].size() ==
        8);
  CHECK(hpt::grid_axes({{"a", IntDistribution{k_min, k_min + 9, false, 3}}}, Json())[0].size() ==
        4);
  const int64_t top = int64_t{1} << 53;
  CHECK(hpt::grid_axes({{"a", IntDistribution{top - 7, top, false, 1}}}, Json())[0] ==
        std::vector<double>{0x1p53 - 7, 0x1p53 - 6, 0x1p53 - 5, 0x1p53 - 4, 0x1p53 - 3, 0x1p53 - 2,
                            0x1p53 - 1, 0x1p53});
  CHECK(hpt::grid_axes({{"a", IntDistribution{k_min, k_max, false, k_max}}}, Json())[0] ==
        std::vector<double>{-0x1p63, -1.0, 0x1p63});  // k_min, -1, k_max - 1 as doubles.
  for (const IntDistribution& d :
       {IntDistribution{k_min, k_max, false, 1}, IntDistribution{-top, top, false, 1}}) {
    CHECK_THROWS_WITH(hpt::grid_axes({{"a", d}}, Json()),
                      "grid sampler: parameter 'a' has too many values; list them in "
                      "'search_space'");
  }
}
