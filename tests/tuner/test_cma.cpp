#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "hpt/tuner/cma.hpp"

using hpt::Cma;

namespace {

// tests/tuner/cma_reference.py's solutions: coordinate i of solution k in generation g is the
// mean's plus 0.3 * u(g, k, i), told with f (integer arithmetic, as in the script).
double u(int g, int k, int i) {
  return static_cast<double>((g * 7919 + k * 104729 + i * 1299709) % 2001) / 1000.0 - 1.0;
}

double f(const std::vector<double>& x) {
  double s = 0.0;
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) {
    const double d = x[i] - 0.3 + 0.1 * x[(i + 1) % n];
    s += static_cast<double>((i + 1) * (i + 1)) * d * d;
  }
  return s;
}

void tell_generation(Cma& cma, int g, bool flat) {
  std::vector<std::pair<std::vector<double>, double>> solutions;
  for (int k = 0; k < cma.population_size(); ++k) {
    std::vector<double> x = cma.mean();
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] += 0.3 * u(g, k, static_cast<int>(i));
    }
    solutions.emplace_back(x, flat ? 1.0 : f(x));
  }
  cma.tell(solutions);
}

struct State {
  int generation;
  std::vector<double> mean;
  double sigma;
  std::vector<double> cov;
  bool stop;
};

void check_against(size_t n, int popsize, const std::vector<State>& expected) {
  Cma cma(std::vector<double>(n, 0.5), 1.0 / 6, std::vector<double>(n, 0.0),
          std::vector<double>(n, 1.0), popsize);
  for (const auto& e : expected) {
    tell_generation(cma, e.generation - 1, false);
    INFO("generation " << e.generation);
    CHECK(cma.generation() == e.generation);
    for (size_t i = 0; i < n; ++i) {
      CHECK(cma.mean()[i] == Approx(e.mean[i]).margin(1e-12).epsilon(1e-9));
    }
    CHECK(cma.sigma() == Approx(e.sigma).epsilon(1e-9));
    for (size_t i = 0; i < n * n; ++i) {
      CHECK(cma.covariance()[i] == Approx(e.cov[i]).margin(1e-12).epsilon(1e-9));
    }
    CHECK(cma.should_stop() == e.stop);
  }
}

}  // namespace

// The cmaes library's CMA (0.9.1) after each tell of the same solutions, printed by
// /usr/bin/python3 tests/tuner/cma_reference.py.
TEST_CASE("CMA-ES tells equal the cmaes library's", "[cma]") {
  SECTION("2 dimensions, default population (6)") {
    Cma probe({0.5, 0.5}, 1.0 / 6, {0, 0}, {1, 1});
    CHECK(probe.population_size() == 6);
    check_against(
        2, 0,
        {
            {1,
             {0.5769202633264535, 0.34167608227029994},
             0.1665940143762742,
             {0.9458770654907498, -0.07520341204328561, -0.0752034120432856, 1.0249762751079334},
             false},
            {2,
             {0.6442609611481515, 0.1737725990358443},
             0.19719484140331864,
             {0.7538204852327576, -0.3005259503822164, -0.30052595038221636, 1.4952548644220203},
             false},
            {3,
             {0.5300574779136957, 0.33051329685754216},
             0.1598104520769726,
             {0.7145516173263292, -0.24906938398986478, -0.2490693839898648, 1.1015118318274393},
             false},
            {4,
             {0.5495704265596223, 0.11478206444731512},
             0.1794360315089133,
             {0.48562123446482947, -0.1918003340252117, -0.1918003340252117, 1.530604301834805},
             false},
            {5,
             {0.38824467869128204, 0.22440049763512843},
             0.1988148231915132,
             {0.7161001035115175, -0.2364595560726933, -0.23645955607269323, 1.1003507543817357},
             false},
            {6,
             {0.19824667999871315, 0.3053466799987131},
             0.25060203310027646,
             {1.1548878412072299, -0.39305503900672806, -0.3930550390067281, 0.8420618913403595},
             false},
        });
  }
  SECTION("3 dimensions, population 10") {
    check_against(3, 10,
                  {
                      {1,
                       {0.212839241855463, 0.530839241855463, 0.24853924185546306},
                       0.24053229702218554,
                       {1.277034366239821, 0.14749284592434167, 0.13770972713329005,
                        0.14749284592434164, 0.7801347581084414, 0.18208149043146807,
                        0.13770972713329005, 0.1820814904314681, 1.139588933784251},
                       false},
                      {2,
                       {0.276633834645929, 0.3788129409492934, 0.3480338346459291},
                       0.237826556683096,
                       {0.9952500268226975, 0.10707625245055033, 0.22231236880459035,
                        0.10707625245055033, 0.9005632303017216, 0.09885338834261047,
                        0.2223123688045903, 0.09885338834261044, 0.9233380153242876},
                       false},
                      {3,
                       {0.2570383037583136, 0.305929600495214, 0.3641383037583137},
                       0.22157140586192686,
                       {0.7690853765802803, 0.09773475863532023, 0.11428830775617567,
                        0.09773475863532018, 1.041437225357383, 0.05448288742576703,
                        0.11428830775617567, 0.054482887425767075, 0.6443979040016192},
                       false},
                      {4,
                       {0.11171675958463931, 0.4121289500181754, 0.25451675958463943},
                       0.22840731077681112,
                       {0.7316040735177205, 0.052365375769637686, -0.0013398397001307852,
                        0.05236537576963766, 1.082379521846894, 0.03868265003828133,
                        -0.0013398397001307865, 0.038682650038281335, 0.4642495866437031},
                       false},
                      {5,
                       {0.1482912746959451, 0.1664034651294811, 0.32679127469594527},
                       0.22605358472445874,
                       {0.5780022814156095, 0.170709687463555, -0.13753740736201228,
                        0.170709687463555, 1.3708126159968914, 0.06046060691025202,
                        -0.13753740736201223, 0.06046060691025202, 0.35963420036454835},
                       false},
                      {6,
                       {0.02853405583742101, 0.3493328382918214, 0.2427340558374212},
                       0.24665221838059903,
                       {0.645059728887812, 0.11853237188763172, -0.1289971912276087,
                        0.11853237188763172, 1.4516549650695718, 0.05623346807633481,
                        -0.1289971912276087, 0.056233468076334815, 0.32774510925798844},
                       false},
                  });
  }
}

// cma_reference.py: "first stop: flat 21, f 0": a flat objective stops once its value history
// spans more than funhist_term (20) generations, the quadratic not within 40.
TEST_CASE("CMA-ES should_stop on a flat objective as the cmaes library", "[cma]") {
  for (bool flat : {true, false}) {
    Cma cma({0.5, 0.5}, 1.0 / 6, {0, 0}, {1, 1});
    int first = 0;
    for (int g = 0; g < 40 && first == 0; ++g) {
      tell_generation(cma, g, flat);
      if (cma.should_stop()) {
        first = g + 1;
      }
    }
    CHECK(first == (flat ? 21 : 0));
  }
}

TEST_CASE("CMA-ES ask stays inside the bounds and follows the distribution", "[cma]") {
  hpt::Rng rng(7);
  Cma cma({0.9, 0.1, 0.5}, 0.5, {0, 0, 0}, {1, 1, 1}, 0, 30);
  std::vector<double> sum(3, 0.0);
  for (int k = 0; k < 4000; ++k) {
    const auto x = cma.ask(rng);
    for (size_t i = 0; i < 3; ++i) {
      REQUIRE(x[i] >= 0.0);
      REQUIRE(x[i] <= 1.0);
      sum[i] += x[i];
    }
  }
  // Near a bound the feasible draws lean inward; the middle coordinate centres on its mean.
  CHECK(sum[0] / 4000 < 0.9);
  CHECK(sum[1] / 4000 > 0.1);
  CHECK(sum[2] / 4000 == Approx(0.5).margin(0.02));
  hpt::Rng a(3);
  hpt::Rng b(3);
  CHECK(cma.ask(a) == cma.ask(b));  // The caller's Rng is its only randomness.
}

TEST_CASE("CMA-ES minimises a rotated quadratic", "[cma]") {
  hpt::Rng rng(1);
  Cma cma(std::vector<double>(4, 0.5), 1.0 / 6, std::vector<double>(4, 0.0),
          std::vector<double>(4, 1.0));
  double best = INFINITY;
  for (int g = 0; g < 120; ++g) {
    std::vector<std::pair<std::vector<double>, double>> solutions;
    for (int k = 0; k < cma.population_size(); ++k) {
      auto x = cma.ask(rng);
      const double v = f(x);
      best = std::min(best, v);
      solutions.emplace_back(std::move(x), v);
    }
    cma.tell(solutions);
  }
  CHECK(best < 1e-10);
}

TEST_CASE("CMA-ES refuses what it cannot run", "[cma]") {
  CHECK_THROWS_WITH(Cma({0.5, 0.5}, 0.0, {0, 0}, {1, 1}), Catch::Contains("sigma"));
  CHECK_THROWS_WITH(Cma({0.5, 0.5}, 0.1, {0}, {1, 1}), Catch::Contains("one entry per dimension"));
  CHECK_THROWS_WITH(Cma({0.5, 0.5}, 0.1, {0, 0}, {1, 1}, 1), Catch::Contains("at least 2"));
  Cma cma({0.5, 0.5}, 0.1, {0, 0}, {1, 1});
  CHECK_THROWS_WITH(cma.tell({{{0.5, 0.5}, 1.0}}), Catch::Contains("needs 6 solutions"));
}

TEST_CASE("CMA-ES ranks a NaN value last", "[cma]") {
  // The same generation told with its worst value as NaN or as +inf moves the mean alike.
  Cma with_nan({0.5, 0.5}, 1.0 / 6, {0, 0}, {1, 1});
  Cma with_inf({0.5, 0.5}, 1.0 / 6, {0, 0}, {1, 1});
  std::vector<std::pair<std::vector<double>, double>> a;
  std::vector<std::pair<std::vector<double>, double>> b;
  for (int k = 0; k < 6; ++k) {
    std::vector<double> x{0.5 + 0.3 * u(0, k, 0), 0.5 + 0.3 * u(0, k, 1)};
    a.emplace_back(x, k == 2 ? NAN : f(x));
    b.emplace_back(x, k == 2 ? INFINITY : f(x));
  }
  with_nan.tell(a);
  with_inf.tell(b);
  CHECK(with_nan.mean() == with_inf.mean());
}

// A step size so small that the update overflows (y = 0.3 / 1e-300): the generation is counted,
// the distribution kept, and ask still answers inside the bounds.
TEST_CASE("CMA-ES keeps its distribution when an update would overflow", "[cma]") {
  Cma cma({0.5, 0.5}, 1e-300, {0, 0}, {1, 1});
  tell_generation(cma, 0, false);
  CHECK(cma.generation() == 1);
  CHECK(cma.mean() == std::vector<double>{0.5, 0.5});
  CHECK(cma.sigma() == 1e-300);
  hpt::Rng rng(5);
  const auto x = cma.ask(rng);
  CHECK(std::isfinite(x[0]));
  CHECK(x[0] == Approx(0.5));
}
