#include <catch2/catch.hpp>

#include "hpt/tuner/hypervolume.hpp"

using hpt::Point;

// Values printed by Optuna 3.1's WFG().compute on the same points (tests/tuner/
// optuna_multi_objective_reference.py): 2-D sweep, 3-D and 4-D recursion.
TEST_CASE("hypervolume equals Optuna's WFG", "[hypervolume]") {
  CHECK(hpt::hypervolume({{0.5, 0.5}}, {1, 1}) == Approx(0.25));
  CHECK(hpt::hypervolume({}, {1, 1}) == 0.0);
  CHECK(hpt::hypervolume({{0.2, 0.8}, {0.8, 0.2}, {0.5, 0.5}}, {1, 1}) ==
        Approx(0.16 + 0.15 + 0.06));
  const std::vector<Point> pts4{
      {0.551, 0.708, 0.291, 0.511}, {0.893, 0.896, 0.126, 0.207}, {0.051, 0.441, 0.03, 0.457},
      {0.649, 0.278, 0.676, 0.591}, {0.024, 0.559, 0.259, 0.415}, {0.284, 0.693, 0.44, 0.157},
      {0.545, 0.78, 0.306, 0.222},  {0.388, 0.936, 0.976, 0.672}, {0.903, 0.846, 0.378, 0.092},
      {0.653, 0.558, 0.362, 0.225}, {0.407, 0.469, 0.269, 0.292}, {0.458, 0.861, 0.586, 0.283}};
  CHECK(hpt::hypervolume(pts4, {1, 1, 1, 1}) == Approx(0.3585567221140001).epsilon(1e-12));
  // A dominated or duplicated point adds nothing.
  CHECK(hpt::hypervolume({{0.2, 0.8, 0.5}, {0.3, 0.9, 0.6}, {0.2, 0.8, 0.5}}, {1, 1, 1}) ==
        Approx(0.8 * 0.2 * 0.5));
}

// Greedy subset selection picks the largest box first, then the largest gain: Optuna's
// _solve_hssp picks [1, 0] on these points; contributions are what each point alone adds.
TEST_CASE("hypervolume subset and contributions", "[hypervolume]") {
  const std::vector<Point> front{{0.1, 0.9}, {0.4, 0.4}, {0.9, 0.1}, {0.45, 0.35}};
  const auto chosen = hpt::hypervolume_subset(front, 2, {1, 1});
  REQUIRE(chosen.size() == 2);
  CHECK(chosen[0] == 1);  // 0.6 * 0.6 beats 0.55 * 0.65.
  CHECK(chosen[1] == 0);
  const auto c = hpt::hypervolume_contributions({{0.2, 0.8}, {0.8, 0.2}, {0.5, 0.5}}, {1, 1});
  REQUIRE(c.size() == 3);
  CHECK(c[0] == Approx(0.3 * 0.2));
  CHECK(c[2] == Approx(0.3 * 0.3));
  const Point ref = hpt::motpe_reference_point({{-2, 0}, {1, -1}});
  CHECK(ref == Point{1.1, 1e-12});
}
