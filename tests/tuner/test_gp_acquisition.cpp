#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "hpt/tuner/gp_acquisition.hpp"

using hpt::GpData;
using hpt::GpDimension;
using hpt::GpKernelParams;
using hpt::GpRegressor;
using hpt::LogEi;

namespace {

// A GP over (continuous, 40-point grid, 3-way categorical) fitted to a bumpy function of 14
// points from integer arithmetic.
struct Mixed {
  std::vector<GpDimension> space;
  GpData data;
  Mixed() {
    space.resize(3);
    for (int i = 0; i < 40; ++i) {
      space[1].grid.push_back((i + 0.5) / 40.0);
    }
    space[2] = {true, {0, 1, 2}};
    data.is_categorical = {false, false, true};
    for (int i = 0; i < 14; ++i) {
      const double a = ((i * 7919) % 1009) / 1008.0;
      const double b = space[1].grid[static_cast<size_t>((i * 104729) % 40)];
      const double c = static_cast<double>(i % 3);
      data.x.push_back({a, b, c});
      data.y.push_back(std::sin(9 * a) * std::cos(5 * b) + (c == 1 ? 0.4 : 0.0) - a * a);
    }
  }
};

}  // namespace

// Against mpmath (gp_reference.py): log(z Phi(z) + phi(z)) and its derivative Phi(z) / ei(z),
// on both sides of the switch to the asymptotic form at z = -25.
TEST_CASE("standard_log_ei equals mpmath's", "[gp]") {
  struct Row {
    double z, log_ei, dz;
  };
  for (const Row& r : std::vector<Row>{
           {-40.0, -808.29856835661996, 40.049906657648518},
           {-30.0, -457.724653760598, 30.066446154162419},
           {-25.5, -332.52588446220498, 25.578073358175352},
           {-24.5, -307.44625385773019, 24.581229341151867},
           {-5.0, -16.74430116266099, 5.3618162412880885},
           {0.0, -0.91893853320467274, 1.2533141373155003},
           {3.0, 1.0987396653277078, 0.33284096845179524},
           {10.0, 2.3025850929940457, 0.1}}) {
    double dz = 0;
    CHECK(hpt::standard_log_ei(r.z, &dz) == Approx(r.log_ei).epsilon(1e-12));
    CHECK(dz == Approx(r.dz).epsilon(1e-9));
  }
}

TEST_CASE("LogEi's gradient matches finite differences", "[gp]") {
  Mixed m;
  const GpRegressor gp(m.data, hpt::fit_gp_kernel_params(m.data, false));
  const LogEi acqf{gp, 0.8};
  for (const std::vector<double>& x :
       {std::vector<double>{0.3, 0.4125, 1}, {0.91, 0.0125, 0}, {0.02, 0.9875, 2}}) {
    std::vector<double> grad;
    acqf(x, &grad);
    for (size_t j = 0; j < 2; ++j) {
      std::vector<double> up = x;
      std::vector<double> down = x;
      up[j] += 1e-6;
      down[j] -= 1e-6;
      CHECK(grad[j] == Approx((acqf(up) - acqf(down)) / 2e-6).margin(1e-4).epsilon(1e-4));
    }
    CHECK(grad[2] == 0.0);
  }
}

// The maximiser beats (or ties) a brute-force search of 201 x 40 x 3 points, and returns a point
// on the grid and a valid category.
TEST_CASE("maximize_log_ei finds the acquisition's maximum over a mixed space", "[gp]") {
  Mixed m;
  const GpRegressor gp(m.data, hpt::fit_gp_kernel_params(m.data, false));
  const double best_y = *std::max_element(m.data.y.begin(), m.data.y.end());
  const LogEi acqf{gp, best_y};
  double brute = -std::numeric_limits<double>::infinity();
  for (int a = 0; a <= 200; ++a) {
    for (double b : m.space[1].grid) {
      for (double c : {0.0, 1.0, 2.0}) {
        brute = std::max(brute, acqf({a / 200.0, b, c}));
      }
    }
  }
  for (uint64_t seed : {1, 2, 3}) {
    hpt::Rng rng(seed);
    const std::vector<double> x = hpt::maximize_log_ei(acqf, m.space, {m.data.x[0]}, {}, rng);
    REQUIRE(x.size() == 3);
    CHECK(x[0] >= 0.0);
    CHECK(x[0] <= 1.0);
    CHECK(std::find(m.space[1].grid.begin(), m.space[1].grid.end(), x[1]) !=
          m.space[1].grid.end());
    CHECK((x[2] == 0.0 || x[2] == 1.0 || x[2] == 2.0));
    CHECK(acqf(x) >= brute - 1e-6);
  }
}

// A GP over points all in one corner: improvement is likeliest far from them.
TEST_CASE("maximize_log_ei explores away from a crowded corner", "[gp]") {
  GpData data;
  data.is_categorical = {false, false};
  for (int i = 0; i < 10; ++i) {
    const double a = 0.02 * (i % 4);
    const double b = 0.02 * (i / 4);
    data.x.push_back({a, b});
    data.y.push_back(a - b);
  }
  const GpRegressor gp(data, GpKernelParams{{4.0, 4.0}, 1.0, 1e-4});
  const double best = *std::max_element(data.y.begin(), data.y.end());
  hpt::Rng rng(7);
  const auto x = hpt::maximize_log_ei(LogEi{gp, best}, {GpDimension{}, GpDimension{}}, {}, {}, rng);
  CHECK(x[0] + x[1] > 0.8);
}
