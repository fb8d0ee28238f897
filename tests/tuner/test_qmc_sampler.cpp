#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/tuner/qmc_sampler.hpp"
#include "hpt/tuner/qmc_sequence.hpp"
#include "hpt/tuner/random_sampler.hpp"
#include "trial_builders.hpp"

using hpt::CategoricalDistribution;
using hpt::Direction;
using hpt::FloatDistribution;
using hpt::FrozenTrial;
using hpt::IntDistribution;
using hpt::Json;
using hpt::SampleContext;
using hpt::SearchSpace;

namespace {

// The mixed space with a single-valued int before the categorical (QMC leaves it alone).
SearchSpace qmc_space() {
  SearchSpace s = hpt::test::mixed_space();
  s.insert(s.begin() + 3, {"one", IntDistribution{3, 3, false, 1}});
  return s;
}
const SearchSpace k_space = qmc_space();

std::map<std::string, double> sample(hpt::Sampler& s, const SearchSpace& space, int number) {
  std::vector<FrozenTrial> none;
  return s.sample(space, SampleContext(Direction::Minimize, &none, number));
}

// The largest gap between a box's share of the points and its volume, over the boxes [0, a) x
// [0, b) on a 16 x 16 grid: a proxy for star discrepancy.
double discrepancy(const std::vector<std::pair<double, double>>& points) {
  double worst = 0;
  for (int i = 1; i <= 16; ++i) {
    for (int j = 1; j <= 16; ++j) {
      const double a = i / 16.0;
      const double b = j / 16.0;
      double inside = 0;
      for (const auto& [x, y] : points) {
        inside += x < a && y < b ? 1 : 0;
      }
      worst = std::max(worst, std::abs(inside / points.size() - a * b));
    }
  }
  return worst;
}

}  // namespace

// Trial n's float/int parameters are point n of the sequence over their transformed ranges: x on
// [-5, 5], lr on log [1e-5, 1e-1], units on [8, 264) rounded to its grid.
TEST_CASE("qmc samples point n of the Sobol' sequence for trial n", "[qmc]") {
  auto sampler = hpt::make_sampler("qmc", Json::object(), 1, k_space);
  const hpt::SobolSequence sobol(3);
  for (int n = 0; n < 64; ++n) {
    const auto p = sample(*sampler, k_space, n);
    const auto u = sobol.point(n);
    INFO("trial " << n);
    CHECK(p.at("x") == Approx(-5 + 10 * u[0]));
    CHECK(std::log(p.at("lr")) ==
          Approx(std::log(1e-5) + (std::log(1e-1) - std::log(1e-5)) * u[1]));
    CHECK(p.at("units") ==
          std::clamp(16 * std::round((8 + 256 * u[2] - 16) / 16) + 16, 16.0, 256.0));
    CHECK(p.at("one") == 3);
    CHECK((p.at("opt") == 0 || p.at("opt") == 1));
  }
  CHECK(sample(*sampler, k_space, 1).at("x") == 0.0);  // Sobol' point 1 is the centre.
}

TEST_CASE("qmc points cover the space more evenly than random ones", "[qmc]") {
  const SearchSpace square{{"a", FloatDistribution{0, 1, false, {}}},
                           {"b", FloatDistribution{0, 1, false, {}}}};
  for (const char* type : {"sobol", "halton"}) {
    for (bool scramble : {false, true}) {
      auto qmc =
          hpt::make_sampler("qmc", Json{{"qmc_type", type}, {"scramble", scramble}}, 7, square);
      hpt::RandomSampler random(7);
      std::vector<std::pair<double, double>> q;
      std::vector<std::pair<double, double>> r;
      for (int n = 0; n < 256; ++n) {
        const auto a = sample(*qmc, square, n);
        const auto b = sample(random, square, n);
        q.emplace_back(a.at("a"), a.at("b"));
        r.emplace_back(b.at("a"), b.at("b"));
      }
      INFO(type << (scramble ? " scrambled" : ""));
      CHECK(discrepancy(q) < 0.02);
      CHECK(discrepancy(r) > 2 * discrepancy(q));
    }
  }
}

// Unscrambled, the points are Optuna's: trial n raises Optuna's counter of points drawn to n,
// so that Optuna continuing the study draws the next ones. A scrambled sequence is hpt's own:
// no counter.
TEST_CASE("qmc raises Optuna's last sample id", "[qmc]") {
  std::vector<FrozenTrial> none;
  std::map<std::string, int64_t> counters;
  auto sobol = hpt::make_sampler("qmc", Json::object(), 1, k_space);
  sobol->sample(k_space, SampleContext(Direction::Minimize, &none, 7, {}, nullptr, &counters));
  CHECK(counters == std::map<std::string, int64_t>{{"sobol (scramble=False)'s last sample id", 7}});
  counters.clear();
  auto halton = hpt::make_sampler("qmc", Json{{"qmc_type", "halton"}}, 1, k_space);
  halton->sample(k_space, SampleContext(Direction::Minimize, &none, 3, {}, nullptr, &counters));
  CHECK(counters.at("halton (scramble=False)'s last sample id") == 3);
  counters.clear();
  auto scrambled = hpt::make_sampler("qmc", Json{{"scramble", true}}, 1, k_space);
  scrambled->sample(k_space, SampleContext(Direction::Minimize, &none, 3, {}, nullptr, &counters));
  CHECK(counters.empty());
}

// The same seed gives the same scrambled points (a resumed study, another host); another seed
// or no scrambling other ones.
TEST_CASE("qmc scrambling follows the seed", "[qmc]") {
  auto a = hpt::make_sampler("qmc", Json{{"scramble", true}}, 1, k_space);
  auto b = hpt::make_sampler("qmc", Json{{"scramble", true}}, 1, k_space);
  auto c = hpt::make_sampler("qmc", Json{{"scramble", true}}, 2, k_space);
  auto plain = hpt::make_sampler("qmc", Json(), 1, k_space);
  CHECK(sample(*a, k_space, 9) == sample(*b, k_space, 9));
  CHECK(sample(*a, k_space, 9).at("x") != sample(*c, k_space, 9).at("x"));
  CHECK(sample(*a, k_space, 9).at("x") != sample(*plain, k_space, 9).at("x"));
}

TEST_CASE("qmc options and spaces", "[qmc]") {
  auto error = [](const Json& j, const SearchSpace& space = k_space) {
    try {
      hpt::make_sampler("qmc", j, 1, space);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error(Json{{"qmc_type", "sobel"}}) ==
        "qmc sampler option 'qmc_type' must be sobol or halton, but got sobel (did you mean "
        "'sobol'?)");
  CHECK(error(Json{{"scramble", "yes"}}).find("scramble") != std::string::npos);
  CHECK(error(Json{{"seed", 1}}) == "unknown qmc sampler option 'seed'");
  CHECK(error(Json{{"qmc_type", nullptr}}) ==
        "qmc sampler option 'qmc_type' must be sobol or halton, but got null");
  auto sobol = hpt::make_sampler("qmc", Json(), 1, k_space);
  CHECK_THROWS_WITH(sample(*sobol, k_space, 1 << 30),
                    "trial 1073741824 is past the 2^30 points of the Sobol' sequence (it would "
                    "start again); use qmc_type: halton");
  CHECK(error(Json{{"independent_sampler", "grid"}}) ==
        "qmc sampler option 'independent_sampler': 'grid' cannot be one; expected random or tpe");
  SearchSpace wide;
  for (int i = 0; i < 129; ++i) {
    wide.emplace_back("p" + std::to_string(i), FloatDistribution{0, 1, false, {}});
  }
  CHECK(error(Json(), wide) ==
        "qmc sampler: a Sobol' sequence here serves at most 128 float/int parameters, and the "
        "space has 129; give qmc_type: halton");
  auto halton = hpt::make_sampler("qmc", Json{{"qmc_type", "halton"}}, 1, wide);
  const auto p = sample(*halton, wide, 5);
  CHECK(p.size() == 129);
  const SearchSpace only_choices{{"c", CategoricalDistribution{{1, 2, 3}}}};
  auto q = hpt::make_sampler("qmc", Json(), 1, only_choices);
  CHECK(q->space_warning(only_choices) ==
        "the qmc sampler samples float and int parameters that vary, and this space has none: "
        "its random sampler samples every parameter");
  CHECK(q->space_warning(k_space).empty());
  CHECK(sample(*q, only_choices, 0).size() == 1);
}
