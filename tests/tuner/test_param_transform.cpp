#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/param_transform.hpp"

using hpt::CategoricalDistribution;
using hpt::FloatDistribution;
using hpt::IntDistribution;
using hpt::make_transform;
using Kind = hpt::ParamTransform::Kind;

// Bounds as Optuna's _calculate_parzen_bounds: log, half-step widening, int log.
TEST_CASE("transforms widen discrete bounds and take logs", "[transform]") {
  auto f = make_transform(FloatDistribution{0.1, 1.0, false, 0.2});  // grid 0.1..0.9
  CHECK(f.kind == Kind::Discrete);
  CHECK(f.low == Approx(0.0));
  CHECK(f.dist_high == Approx(0.9));
  CHECK(f.high == Approx(1.0));
  auto il = make_transform(IntDistribution{1, 100, true, 1});
  CHECK(il.kind == Kind::Continuous);
  CHECK(il.low == Approx(std::log(0.5)));
  CHECK(il.high == Approx(std::log(100.5)));
  auto c = make_transform(CategoricalDistribution{{"a", "b"}});
  CHECK(c.kind == Kind::Categorical);
  CHECK(c.n_choices == 2);
  CHECK_THROWS_AS(make_transform(FloatDistribution{1.0, 0.0, false, {}}), std::invalid_argument);
}

// from_transformed snaps to the grid and clips to the distribution.
TEST_CASE("from_transformed rounds and clips", "[transform]") {
  auto i = make_transform(IntDistribution{0, 10, false, 2});
  CHECK(hpt::from_transformed(i, 3.2) == 4.0);
  CHECK(hpt::from_transformed(i, 10.9) == 10.0);
  CHECK(hpt::from_transformed(i, -0.9) == 0.0);
  auto il = make_transform(IntDistribution{1, 100, true, 1});
  CHECK(hpt::from_transformed(il, std::log(0.6)) == 1.0);
  CHECK(hpt::from_transformed(il, std::log(7.4)) == 7.0);
  auto fl = make_transform(FloatDistribution{1e-3, 1.0, true, {}});
  CHECK(hpt::from_transformed(fl, std::log(0.05)) == Approx(0.05));
  CHECK(hpt::from_transformed(fl, 0.1) == 1.0);
}

// uniform01 is in [0, 1) and sample_uniform always lands inside the distribution.
TEST_CASE("uniform draws stay in their distributions", "[transform]") {
  hpt::Rng rng(3);
  std::vector<hpt::Distribution> ds{
      FloatDistribution{-1, 1, false, {}}, FloatDistribution{0.1, 1.0, false, 0.2},
      IntDistribution{1, 1000, true, 1}, IntDistribution{0, 9, false, 3},
      CategoricalDistribution{{1, 2, 3}}};
  for (const auto& d : ds) {
    auto t = make_transform(d);
    for (int k = 0; k < 500; ++k) {
      double u = hpt::uniform01(rng);
      REQUIRE(u >= 0.0);
      REQUIRE(u < 1.0);
      REQUIRE(hpt::contains(d, hpt::sample_uniform(t, rng)));
    }
  }
}

// A stepped float's last grid point never lies past high, even when low + n * step rounds up
// (0.1 + 3 * 0.2 = 0.7000000000000001 > 0.7): every draw is in the distribution.
TEST_CASE("the last grid point of a stepped float is not past high", "[transform]") {
  const FloatDistribution d{0.1, 0.7, false, 0.2};
  const auto t = make_transform(d);
  CHECK(t.dist_high <= 0.7);
  CHECK(hpt::contains(d, hpt::from_transformed(t, t.high)));
  hpt::Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    CHECK(hpt::contains(d, hpt::sample_uniform(t, rng)));
  }
}

// An int grid over more than 2^53 (bounds just inside ±2^53): every value is exactly on the
// step, as Optuna's IntDistribution checks it; rounding in doubles put a quarter of them off.
TEST_CASE("wide int grids stay on their step", "[transform]") {
  const int64_t low = -9007199254740991;
  const int64_t high = 9007199254740991;
  const auto t = hpt::make_transform(hpt::IntDistribution{low, high, false, 3});
  hpt::Rng rng(1);
  for (int i = 0; i < 1000; ++i) {
    const double v = hpt::sample_uniform(t, rng);
    const auto n = static_cast<int64_t>(v);
    REQUIRE(static_cast<double>(n) == v);
    REQUIRE((n - low) % 3 == 0);
    REQUIRE(n >= low);
    REQUIRE(n <= high);
  }
  CHECK(hpt::from_transformed(t, 1e300) == static_cast<double>(low + (high - low) / 3 * 3));
  CHECK(hpt::from_transformed(t, -1e300) == static_cast<double>(low));
}

// An odd span over 2^53 (the review's case): the grid's last point is high itself, never past it.
TEST_CASE("a wide int grid's last point is its high", "[transform]") {
  const int64_t low = -(int64_t{1} << 53) + 4;
  const int64_t high = (int64_t{1} << 53) - 1;
  const auto t = hpt::make_transform(hpt::IntDistribution{low, high, false, 1});
  CHECK(hpt::from_transformed(t, t.dist_high) == static_cast<double>(high));
  CHECK(hpt::from_transformed(t, t.high) == static_cast<double>(high));
  CHECK(hpt::from_unit(t, 1.0) == static_cast<double>(high));
  CHECK(hpt::from_unit(t, 0.0) == static_cast<double>(low));
  CHECK(hpt::to_unit(t, static_cast<double>(low)) == Approx(0.0).margin(1e-12));
}
