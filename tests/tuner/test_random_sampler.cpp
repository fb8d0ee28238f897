#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/tuner/random_sampler.hpp"

using hpt::CategoricalDistribution;
using hpt::Direction;
using hpt::FloatDistribution;
using hpt::IntDistribution;
using hpt::SampleContext;
using hpt::SearchSpace;

// Draws are uniform in the transformed space: log params have a geometric median, every
// int-step value and choice appears, everything lies in its distribution.
TEST_CASE("random sampler honours log, step, int and categorical", "[random]") {
  SearchSpace space{{"lr", FloatDistribution{1e-4, 1.0, true, {}}},
                    {"n", IntDistribution{0, 10, false, 5}},
                    {"c", CategoricalDistribution{{"a", "b", "c"}}}};
  hpt::RandomSampler sampler(9);
  std::vector<double> lrs;
  std::set<double> ns;
  std::set<double> cs;
  for (int i = 0; i < 2000; ++i) {
    auto p = sampler.sample(space, SampleContext{Direction::Minimize, nullptr, i});
    for (const auto& [name, dist] : space) {
      REQUIRE(hpt::contains(dist, p.at(name)));
    }
    lrs.push_back(p.at("lr"));
    ns.insert(p.at("n"));
    cs.insert(p.at("c"));
  }
  std::nth_element(lrs.begin(), lrs.begin() + 1000, lrs.end());
  CHECK(std::log10(lrs[1000]) == Approx(-2.0).margin(0.15));  // log-uniform median 1e-2
  CHECK(ns == std::set<double>{0, 5, 10});
  CHECK(cs == std::set<double>{0, 1, 2});
}

// Same (seed, trial number) -> same draw; another number or seed -> another draw.
TEST_CASE("random sampler is deterministic by seed and number", "[random]") {
  SearchSpace space{{"x", FloatDistribution{0, 1, false, {}}}};
  hpt::RandomSampler a(1);
  hpt::RandomSampler b(1);
  hpt::RandomSampler c(2);
  SampleContext ctx{Direction::Minimize, nullptr, 4};
  auto first = a.sample(space, ctx);
  CHECK(b.sample(space, ctx) == first);
  CHECK(c.sample(space, ctx) != first);
  CHECK(a.sample(space, SampleContext{Direction::Minimize, nullptr, 5}) != first);
}
