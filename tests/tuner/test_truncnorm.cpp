#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/truncnorm.hpp"

namespace tn = hpt::truncnorm;

// Expected values: Python's math.erfc / math.log, e.g. 0.5*math.erfc(1/math.sqrt(2)) for Phi(-1);
// log Phi(-30) from the asymptotic formula -450 - log(30) - log(sqrt(2 pi)) + log(1 - 1/900 +
// 3/810000 - 15/729e6).
TEST_CASE("ndtr and log_ndtr match reference values in both tails", "[truncnorm]") {
  CHECK(tn::ndtr(0.0) == 0.5);
  CHECK(tn::ndtr(-1.0) == Approx(0.15865525393145707).epsilon(1e-14));
  CHECK(tn::ndtr(2.0) == Approx(0.9772498680518208).epsilon(1e-14));
  CHECK(tn::log_ndtr(-10.0) == Approx(-53.23128515051246).epsilon(1e-12));
  CHECK(tn::log_ndtr(-30.0) == Approx(-454.3212439565018).epsilon(1e-12));
  CHECK(tn::log_ndtr(8.0) == Approx(-6.220960574271819e-16).epsilon(1e-9));
}

// ndtri inverts ndtr to near machine precision across the range; ndtri_exp handles deep tails.
TEST_CASE("ndtri and ndtri_exp invert the normal CDF", "[truncnorm]") {
  for (double p : {1e-300, 1e-20, 1e-5, 0.02, 0.3, 0.5, 0.7, 0.98, 1 - 1e-10}) {
    CHECK(tn::ndtr(tn::ndtri(p)) == Approx(p).epsilon(1e-12));
  }
  for (double x : {-60.0, -38.5, -5.0, 0.3, 6.0}) {
    CHECK(tn::ndtri_exp(tn::log_ndtr(x)) == Approx(x).epsilon(1e-9));
  }
}

// log_gauss_mass = log(Phi(b) - Phi(a)) in left, right and central cases (Python math.erfc).
TEST_CASE("log_gauss_mass is accurate in every case", "[truncnorm]") {
  CHECK(tn::log_gauss_mass(-1.0, 1.0) == Approx(std::log(0.6826894921370859)).epsilon(1e-14));
  CHECK(tn::log_gauss_mass(-3.0, -2.0) == Approx(std::log(0.021400233916549122)).epsilon(1e-12));
  CHECK(tn::log_gauss_mass(2.0, 3.0) == Approx(std::log(0.021400233916549122)).epsilon(1e-12));
  CHECK(tn::log_gauss_mass(-41.0, -40.0) == Approx(tn::log_ndtr(-40.0)).epsilon(1e-12));
  CHECK(tn::log_gauss_mass(1.0, 1.0) == -INFINITY);
}

// Quantiles stay inside [a, b] and invert the truncated CDF.
TEST_CASE("ppf inverts the truncated normal CDF", "[truncnorm]") {
  for (auto [a, b] : {std::pair{-1.0, 2.0}, {0.5, 4.0}, {-50.0, -45.0}, {30.0, 31.0}}) {
    for (double q : {0.0, 0.1, 0.5, 0.9, 1.0}) {
      double x = tn::ppf(q, a, b);
      REQUIRE(x >= a);
      REQUIRE(x <= b);
      if (q > 0.0 && q < 1.0) {
        double mass = std::exp(tn::log_gauss_mass(a, x) - tn::log_gauss_mass(a, b));
        CHECK(mass == Approx(q).epsilon(1e-8));
      }
    }
  }
}

// logpdf is the normal density scaled by 1/(sigma * mass) and -inf outside the bounds.
TEST_CASE("logpdf normalises by scale and mass", "[truncnorm]") {
  // N(1, 2) truncated to [-1, 5]: a = -1, b = 2; at x = 2, z = 0.5.
  double expected = -0.125 - 0.5 * std::log(2 * M_PI) - std::log(2.0) -
                    std::log(0.9772498680518208 - 0.15865525393145707);
  CHECK(tn::logpdf(2.0, -1.0, 2.0, 1.0, 2.0) == Approx(expected).epsilon(1e-12));
  CHECK(tn::logpdf(6.0, -1.0, 2.0, 1.0, 2.0) == -INFINITY);
}
