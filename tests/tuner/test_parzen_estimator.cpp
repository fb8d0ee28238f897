#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/tuner/parzen_estimator.hpp"

using hpt::CategoricalDistribution;
using hpt::FloatDistribution;
using hpt::IntDistribution;
using hpt::make_transform;
using hpt::ParzenEstimator;
using hpt::ParzenOptions;

// Optuna's default_weights(30): linspace(1/30, 1, 5) then 25 ones (hand-computed ramp).
TEST_CASE("default weights ramp up past 25 observations", "[parzen]") {
  CHECK(hpt::default_weights(0).empty());
  CHECK(hpt::default_weights(24) == std::vector<double>(24, 1.0));
  auto w = hpt::default_weights(30);
  REQUIRE(w.size() == 30);
  CHECK(w[0] == Approx(1.0 / 30));
  CHECK(w[1] == Approx(1.0 / 30 + (1 - 1.0 / 30) / 4));
  CHECK(w[4] == Approx(1.0));
  CHECK(w[29] == 1.0);
}

// Univariate bandwidths by hand: mus {1,2,6} + prior 5 on [0,10]; neighbour distances
// {1,3,1} (endpoints rule), magic clip min 10/5 = 2, prior sigma 10 -> {2,3,2,10}.
// Optuna 3.1's _ParzenEstimator prints the same mus/sigmas/weights.
TEST_CASE("univariate float estimator: means, bandwidths, weights", "[parzen]") {
  ParzenEstimator pe({make_transform(FloatDistribution{0, 10, false, {}})}, {1, 2, 6},
                     ParzenOptions{});
  CHECK(pe.mus(0) == std::vector<double>{1, 2, 6, 5});
  CHECK(pe.sigmas(0) == std::vector<double>{2, 3, 2, 10});
  CHECK(pe.weights() == std::vector<double>{0.25, 0.25, 0.25, 0.25});
  // Optuna 3.1 (default, normalize_scale off): log sum_i w_i phi(z_i) / mass_i, without the
  // 1/s_i; printed by _ParzenEstimator(...).log_pdf({'x': [1.5, 9.0]}) and re-derived with
  // Python's math.erfc.
  auto lp = pe.log_pdf({1.5, 9.0});
  CHECK(lp[0] == Approx(-0.6440199782742749).epsilon(1e-12));
  CHECK(lp[1] == Approx(-1.264166341654077).epsilon(1e-12));
  // A true density: log sum_i w_i N(x; mu_i, s_i) / mass_i, evaluated with Python's math.erfc.
  ParzenOptions normalized;
  normalized.normalize_scale = true;
  ParzenEstimator pn({make_transform(FloatDistribution{0, 10, false, {}})}, {1, 2, 6}, normalized);
  auto ln = pn.log_pdf({1.5, 9.0});
  CHECK(ln[0] == Approx(-1.9480505692269299).epsilon(1e-12));
  CHECK(ln[1] == Approx(-3.1328070941301873).epsilon(1e-12));
}

// prior_in_bandwidth off (Optuna >= 4.6): neighbours are the observations only. By hand
// (the same steps as Optuna's compute_sigmas): sorted 0,1,2,6,10 -> {1,4,4}, magic clip
// min 10/(1 + 4 kernels) = 2 -> {2,4,4}; the prior (5, 10) is appended last.
TEST_CASE("univariate bandwidths without the prior as a neighbour", "[parzen]") {
  ParzenOptions o;
  o.prior_in_bandwidth = false;
  ParzenEstimator pe({make_transform(FloatDistribution{0, 10, false, {}})}, {6, 1, 2}, o);
  CHECK(pe.mus(0) == std::vector<double>{6, 1, 2, 5});
  CHECK(pe.sigmas(0) == std::vector<double>{4, 2, 4, 10});
  // The evaluation form (merged, sorted by mu) still matches the components.
  ParzenEstimator same({make_transform(FloatDistribution{0, 10, false, {}})}, {1, 2, 6}, o);
  CHECK(pe.log_pdf({1.5, 9.0}) == same.log_pdf({1.5, 9.0}));
  // No observations: the prior alone, as with the prior as a neighbour.
  ParzenEstimator empty({make_transform(FloatDistribution{0, 10, false, {}})}, {}, o);
  CHECK(empty.sigmas(0) == std::vector<double>{10});
}

// Log scale: observations become their logs; bounds log(1e-3), log(1).
// Optuna 3.1: mus [-4.605170185988091, -2.3025850929940455, -3.4538776394910684],
// sigmas [1.7269388197455342, 1.7269388197455342, 6.907755278982137].
TEST_CASE("log float estimator works in log space", "[parzen]") {
  auto t = make_transform(FloatDistribution{1e-3, 1.0, true, {}});
  ParzenEstimator pe({t}, {std::log(0.01), std::log(0.1)}, ParzenOptions{});
  CHECK(pe.mus(0)[0] == Approx(-4.605170185988091));
  CHECK(pe.mus(0)[2] == Approx(-3.4538776394910684));
  CHECK(pe.sigmas(0)[0] == Approx(1.7269388197455342));
  CHECK(pe.sigmas(0)[1] == Approx(1.7269388197455342));
  CHECK(pe.sigmas(0)[2] == Approx(6.907755278982137));
}

// Int with step 2 on [0,10]: bounds widened to [-1, 11]; duplicate observations are merged
// for evaluation without changing the density. Expected from Optuna 3.1:
//   _ParzenEstimator({'x': [4., 4., 8.]}, {'x': IntDistribution(0, 10, step=2)}, ...)
//   .log_pdf({'x': [4., 6.]}) -> [-1.422524643206125, -1.4926729704704367]
TEST_CASE("stepped int estimator uses interval masses", "[parzen]") {
  auto t = make_transform(IntDistribution{0, 10, false, 2});
  CHECK(t.low == -1.0);
  CHECK(t.high == 11.0);
  ParzenEstimator pe({t}, {4, 4, 8}, ParzenOptions{});
  CHECK(pe.mus(0) == std::vector<double>{4, 4, 8, 5});
  CHECK(pe.sigmas(0)[0] == Approx(2.4));
  CHECK(pe.sigmas(0)[2] == Approx(3.0));
  CHECK(pe.sigmas(0)[3] == Approx(12.0));
  auto lp = pe.log_pdf({4, 6});
  CHECK(lp[0] == Approx(-1.422524643206125).epsilon(1e-12));
  CHECK(lp[1] == Approx(-1.4926729704704367).epsilon(1e-12));
}

// Categorical rows: prior_weight/(n+1) everywhere plus 1 at the observation, normalised.
// Obs {0,2,2} over 3 choices: rows [5/7,1/7,1/7], [1/7,1/7,5/7] x2, prior [1/3]*3.
TEST_CASE("categorical estimator smooths observations with the prior", "[parzen]") {
  ParzenEstimator pe({make_transform(CategoricalDistribution{{"a", "b", "c"}})}, {0, 2, 2},
                     ParzenOptions{});
  const auto& w = pe.categorical_weights(0);
  CHECK(w[0] == Approx(5.0 / 7));
  CHECK(w[1] == Approx(1.0 / 7));
  CHECK(w[5] == Approx(5.0 / 7));
  CHECK(w[9] == Approx(1.0 / 3));
  // P(c) = 1/4 (row sums): P(a) = (5/7 + 2/7 + 1/3) / 4 = 1/3.
  auto lp = pe.log_pdf({0, 1, 2});
  CHECK(lp[0] == Approx(std::log(1.0 / 3)));
  CHECK(lp[1] == Approx(std::log((3.0 / 7 + 1.0 / 3) / 4)));
  CHECK(lp[2] == Approx(std::log((1.0 / 7 + 10.0 / 7 + 1.0 / 3) / 4)));
}

// Multivariate: Scott's rule 0.2 * 3^(-1/6) * 10 = 1.665 is clipped to 2 (magic clip).
// Joint density sum_i w_i N_x,i * cat_y,i: Optuna 3.1 prints [-1.3930466300776265,
// -2.0728270795594983] for (1.5, 1), (9, 0); with the 1/sigma (normalize_scale) it is
// [-2.5881066404286406, -4.211217345494091], evaluated independently with Python's math.erfc.
TEST_CASE("multivariate estimator shares components across parameters", "[parzen]") {
  ParzenOptions o;
  o.multivariate = true;
  std::vector<hpt::ParamTransform> ts{make_transform(FloatDistribution{0, 10, false, {}}),
                                      make_transform(CategoricalDistribution{{0, 1}})};
  ParzenEstimator pe(ts, {1, 0, 2, 1, 6, 1}, o);
  CHECK(pe.sigmas(0) == std::vector<double>{2, 2, 2, 10});
  auto lp = pe.log_pdf({1.5, 1, 9.0, 0});
  CHECK(lp[0] == Approx(-1.3930466300776265).epsilon(1e-12));
  CHECK(lp[1] == Approx(-2.0728270795594983).epsilon(1e-12));
  o.normalize_scale = true;
  auto ln = ParzenEstimator(ts, {1, 0, 2, 1, 6, 1}, o).log_pdf({1.5, 1, 9.0, 0});
  CHECK(ln[0] == Approx(-2.5881066404286406).epsilon(1e-12));
  CHECK(ln[1] == Approx(-4.211217345494091).epsilon(1e-12));
}

// No observations: only the prior (forced), which is N(mid, range) truncated.
TEST_CASE("empty estimator is the prior alone", "[parzen]") {
  ParzenOptions o;
  o.consider_prior = false;
  ParzenEstimator pe({make_transform(FloatDistribution{0, 10, false, {}})}, {}, o);
  CHECK(pe.weights() == std::vector<double>{1.0});
  CHECK(pe.mus(0) == std::vector<double>{5});
  CHECK(pe.sigmas(0) == std::vector<double>{10});
}

// Samples stay in bounds, on the grid, and concentrate near a tight cluster of observations.
TEST_CASE("sampling respects bounds and follows the mixture", "[parzen]") {
  auto t = make_transform(IntDistribution{0, 100, false, 5});
  std::vector<double> obs(30, 50.0);
  ParzenEstimator pe({t}, obs, ParzenOptions{});
  hpt::Rng rng(7);
  auto s = pe.sample(rng, 2000);
  int near = 0;
  for (double v : s) {
    REQUIRE(v >= 0);
    REQUIRE(v <= 100);
    REQUIRE(std::fmod(v, 5.0) == 0.0);
    near += std::abs(v - 50) <= 10;
  }
  // 30 of 31 weight on components with sigma >= 105/32 ~ 3.3 around 50: nearly all within 10.
  CHECK(near > 1800);
}

// Predetermined weights (multi-objective TPE) replace default_weights and are normalised
// with the prior as Optuna's predetermined_weights: {1, 0.5} + prior 1 -> {0.4, 0.2, 0.4};
// a wrong count is refused.
TEST_CASE("predetermined observation weights", "[parzen]") {
  ParzenEstimator pe({make_transform(FloatDistribution{0, 10, false, {}})}, {1, 2}, ParzenOptions{},
                     {1.0, 0.5});
  REQUIRE(pe.weights().size() == 3);
  CHECK(pe.weights()[0] == Approx(0.4));
  CHECK(pe.weights()[1] == Approx(0.2));
  CHECK(pe.weights()[2] == Approx(0.4));
  CHECK_THROWS_AS(ParzenEstimator({make_transform(FloatDistribution{0, 10, false, {}})}, {1, 2},
                                  ParzenOptions{}, {1.0}),
                  std::invalid_argument);
}
