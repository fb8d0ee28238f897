#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "hpt/tuner/lbfgs.hpp"

using hpt::LbfgsOptions;
using hpt::minimize_lbfgs;

namespace {

// Rosenbrock's valley in n dimensions: minimum 0 at (1, ..., 1).
double rosenbrock(const std::vector<double>& x, std::vector<double>& g) {
  double f = 0.0;
  g.assign(x.size(), 0.0);
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    const double a = x[i + 1] - x[i] * x[i];
    const double b = 1.0 - x[i];
    f += 100.0 * a * a + b * b;
    g[i] += -400.0 * a * x[i] - 2.0 * b;
    g[i + 1] += 200.0 * a;
  }
  return f;
}

}  // namespace

TEST_CASE("lbfgs finds Rosenbrock's minimum", "[lbfgs]") {
  LbfgsOptions o;
  o.gtol = 1e-8;
  o.ftol = 0.0;
  const auto r = minimize_lbfgs(rosenbrock, {-1.2, 1.0, -0.5, 0.8}, o);
  CHECK(r.converged);
  for (double v : r.x) {
    CHECK(v == Approx(1.0).margin(1e-5));
  }
  CHECK(r.f < 1e-10);
  CHECK(r.iterations > 10);  // It did move (the start is far from the valley's floor).
}

// A minimum outside the box: the solution is on its face, with the projected gradient 0 there
// and the free coordinate at its own minimum.
TEST_CASE("lbfgs stops on the box where the minimum lies outside it", "[lbfgs]") {
  auto f = [](const std::vector<double>& x, std::vector<double>& g) {
    g = {2.0 * (x[0] - 3.0), 2.0 * (x[1] - 0.25) + 0.5 * x[0]};
    return (x[0] - 3.0) * (x[0] - 3.0) + (x[1] - 0.25) * (x[1] - 0.25) + 0.5 * x[0] * x[1];
  };
  LbfgsOptions o;
  o.lower = {0.0, 0.0};
  o.upper = {1.0, 1.0};
  o.gtol = 1e-9;
  const auto r = minimize_lbfgs(f, {0.5, 0.9}, o);
  CHECK(r.converged);
  CHECK(r.x[0] == 1.0);
  CHECK(r.x[1] == Approx(0.0).margin(1e-9));  // 0.25 - 0.25 x0 = 0 at x0 = 1.
  // A start outside the box is projected into it first.
  const auto r2 = minimize_lbfgs(f, {-7.0, 4.0}, o);
  CHECK(r2.x[0] == 1.0);
  CHECK_THROWS_AS(minimize_lbfgs(f, {0.0}, o), std::invalid_argument);
}

// A non-finite value is outside the domain: the line search steps back from it instead of
// accepting it, and a non-finite start returns at once.
TEST_CASE("lbfgs steps back from non-finite values", "[lbfgs]") {
  // -log x + 2x, minimum at 0.5; NaN for x <= 0, where a long first step lands.
  auto f = [](const std::vector<double>& x, std::vector<double>& g) {
    g = {-1.0 / x[0] + 2.0};
    return x[0] <= 0 ? std::nan("") : -std::log(x[0]) + 2.0 * x[0];
  };
  LbfgsOptions o;
  o.gtol = 1e-10;
  o.ftol = 0.0;
  const auto r = minimize_lbfgs(f, {4.0}, o);
  CHECK(r.converged);
  CHECK(r.x[0] == Approx(0.5).epsilon(1e-6));
  const auto bad = minimize_lbfgs(f, {-1.0});
  CHECK(bad.iterations == 0);
  CHECK_FALSE(bad.converged);
}
