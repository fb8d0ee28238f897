#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "hpt/tuner/gaussian_process.hpp"

using hpt::GpData;
using hpt::GpKernelParams;
using hpt::GpRegressor;

namespace {

// tests/tuner/gp_reference.py's data: 12 points of 3 parameters from integer arithmetic,
// y = sin(7 x0) + x1^2 - 0.5 x2, standardised.
GpData reference_data() {
  GpData d;
  d.is_categorical = {false, false, false};
  for (int i = 0; i < 12; ++i) {
    std::vector<double> x;
    for (int k = 0; k < 3; ++k) {
      x.push_back(static_cast<double>((i * 7919 + k * 104729) % 1009) / 1008.0);
    }
    d.y.push_back(std::sin(7 * x[0]) + x[1] * x[1] - 0.5 * x[2]);
    d.x.push_back(x);
  }
  double mean = 0;
  for (double v : d.y) {
    mean += v / 12;
  }
  double var = 0;
  for (double v : d.y) {
    var += (v - mean) * (v - mean) / 12;
  }
  for (double& v : d.y) {
    v = (v - mean) / std::sqrt(var);
  }
  return d;
}

const std::vector<double> k_raw = {0.3, -0.7, 1.1, 0.2, std::log(0.05)};

GpKernelParams params_of_raw(const std::vector<double>& raw) {
  return {{std::exp(raw[0]), std::exp(raw[1]), std::exp(raw[2])},
          std::exp(raw[3]),
          std::exp(raw[4]) + hpt::k_gp_minimum_noise};
}

}  // namespace

// Against gp_reference.py: Optuna's loss written in NumPy, and scikit-learn's Matern 5/2 GP.
TEST_CASE("gp_fit_loss and the posterior equal the references", "[gp]") {
  const GpData data = reference_data();
  CHECK(hpt::gp_fit_loss(data, k_raw, false, nullptr) == Approx(13.803111002970175).epsilon(1e-12));
  GpData categorical = data;
  categorical.is_categorical[1] = true;
  CHECK(hpt::gp_fit_loss(categorical, k_raw, false, nullptr) ==
        Approx(8.682915060025513).epsilon(1e-12));

  const GpRegressor gp(data, params_of_raw(k_raw));
  CHECK(gp.marginal_log_likelihood() == Approx(-10.188301802718152).epsilon(1e-12));
  struct Expected {
    std::vector<double> x;
    double mean, var;
  };
  for (const auto& e : std::vector<Expected>{
           {{0.1, 0.9, 0.4}, 0.18916047538873748, 0.16947518674483564},
           {{0.55, 0.5, 0.5}, -0.03538868795629391, 0.10866592243732805},
           {data.x[3], -0.9063641879769575, 0.017290608560401835}}) {
    double mean = 0;
    double var = 0;
    gp.posterior(e.x, mean, var);
    CHECK(mean == Approx(e.mean).epsilon(1e-10));
    CHECK(var == Approx(e.var).epsilon(1e-8));
  }
}

// The analytic gradients against central differences: the fit's (both noise settings, and with
// a categorical) and the posterior's along each continuous parameter.
TEST_CASE("the fit loss's and the posterior's gradients match finite differences", "[gp]") {
  GpData data = reference_data();
  for (bool categorical : {false, true}) {
    data.is_categorical[2] = categorical;
    for (bool deterministic : {false, true}) {
      std::vector<double> grad;
      hpt::gp_fit_loss(data, k_raw, deterministic, &grad);
      REQUIRE(grad.size() == 5);
      for (size_t k = 0; k < 5; ++k) {
        std::vector<double> up = k_raw;
        std::vector<double> down = k_raw;
        up[k] += 1e-6;
        down[k] -= 1e-6;
        const double numeric = (hpt::gp_fit_loss(data, up, deterministic, nullptr) -
                                hpt::gp_fit_loss(data, down, deterministic, nullptr)) /
                               2e-6;
        CHECK(grad[k] == Approx(numeric).margin(1e-5));
      }
      if (deterministic) {
        CHECK(grad[4] == 0.0);
      }
    }
  }
  const GpRegressor gp(data, params_of_raw(k_raw));
  const std::vector<double> x = {0.31, 0.77, 1.0};  // Parameter 2 categorical: no gradient.
  double mean = 0;
  double var = 0;
  std::vector<double> dmean;
  std::vector<double> dvar;
  gp.posterior(x, mean, var, &dmean, &dvar);
  for (size_t j = 0; j < 2; ++j) {
    std::vector<double> up = x;
    std::vector<double> down = x;
    up[j] += 1e-6;
    down[j] -= 1e-6;
    double mu = 0, vu = 0, md = 0, vd = 0;
    gp.posterior(up, mu, vu);
    gp.posterior(down, md, vd);
    CHECK(dmean[j] == Approx((mu - md) / 2e-6).margin(1e-6));
    CHECK(dvar[j] == Approx((vu - vd) / 2e-6).margin(1e-6));
  }
  CHECK(dmean[2] == 0.0);
  CHECK(dvar[2] == 0.0);
}

// The fit reaches the optimum SciPy's L-BFGS-B reaches on the same loss (gp_reference.py:
// -2.277249970091389), starting where Optuna starts.
TEST_CASE("fit_gp_kernel_params reaches SciPy's optimum", "[gp]") {
  const GpData data = reference_data();
  const GpKernelParams p = hpt::fit_gp_kernel_params(data, false);
  std::vector<double> raw;
  for (double ils : p.inverse_squared_lengthscales) {
    raw.push_back(std::log(ils));
  }
  raw.push_back(std::log(p.kernel_scale));
  raw.push_back(std::log(p.noise_var - hpt::k_gp_minimum_noise));
  CHECK(hpt::gp_fit_loss(data, raw, false, nullptr) == Approx(-2.277249970091389).margin(2e-3));
  // The same optimum: SciPy's raw parameters, to the precision the gtol of 1e-2 leaves.
  const std::vector<double> scipy = {-1.0988280318871733, 1.791347576185105, -1.5296500739807277,
                                     0.8931802530463185, -9.193009475893982};
  for (size_t k = 0; k < 4; ++k) {
    CHECK(raw[k] == Approx(scipy[k]).margin(0.05));
  }
  CHECK(p.noise_var < 1e-3);  // SciPy's: 1e-6 + exp(-9.19).
  // Deterministic: the noise stays at its minimum.
  CHECK(hpt::fit_gp_kernel_params(data, true).noise_var == hpt::k_gp_minimum_noise);
}

// Kriging believer: a point added at its mean keeps the mean there and shrinks the variance to
// about the noise; far points keep theirs.
TEST_CASE("believed points keep the mean and remove the variance there", "[gp]") {
  const GpData data = reference_data();
  GpRegressor gp(data, params_of_raw(k_raw));
  const std::vector<double> p = {0.9, 0.1, 0.2};
  double mean0 = 0, var0 = 0, far_mean0 = 0, far_var0 = 0;
  gp.posterior(p, mean0, var0);
  gp.posterior({0.2, 0.6, 0.9}, far_mean0, far_var0);
  gp.add_believed_points({p});
  double mean1 = 0, var1 = 0;
  gp.posterior(p, mean1, var1);
  CHECK(mean1 == Approx(mean0).epsilon(1e-6));
  CHECK(var0 > 0.01);
  CHECK(var1 < 0.06);
  CHECK(var1 < var0 / 2);
  double far_mean1 = 0, far_var1 = 0;
  gp.posterior({0.2, 0.6, 0.9}, far_mean1, far_var1);
  CHECK(far_var1 <= far_var0);
  CHECK(far_var1 > far_var0 * 0.8);
}

TEST_CASE("a covariance that is not positive definite is refused", "[gp]") {
  GpData data = reference_data();
  GpKernelParams p = params_of_raw(k_raw);
  p.noise_var = -10.0;
  CHECK_THROWS_WITH(GpRegressor(data, p), Catch::Contains("not positive definite"));
  std::vector<double> raw = k_raw;
  raw[3] = 800;  // exp(800): an infinite kernel scale.
  CHECK(std::isinf(hpt::gp_fit_loss(data, raw, false, nullptr)));
}
