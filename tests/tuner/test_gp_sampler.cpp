#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/tuner/gp_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::FloatDistribution;
using hpt::FrozenTrial;
using hpt::CategoricalDistribution;
using hpt::IntDistribution;
using hpt::Json;
using hpt::SampleContext;
using hpt::SearchSpace;
using hpt::TrialState;
using hpt::test::run;

namespace {

const SearchSpace k_space = hpt::test::mixed_space();

const auto objective = hpt::test::mixed_objective;

std::unique_ptr<hpt::Sampler> gp(const Json& options = Json::object(), uint64_t seed = 1,
                                 const SearchSpace& space = k_space) {
  return hpt::make_sampler("gp", options, seed, space);
}

const auto best = hpt::test::lowest_value;

}  // namespace

// 40 trials: random search's best is about 0.3 here; the GP's, after 10 random ones, is near 0.
TEST_CASE("gp finds the minimum of a mixed space in few trials", "[gp_sampler]") {
  auto sampler = gp();
  const auto trials = run(*sampler, 40, k_space, objective);
  auto random = hpt::make_sampler("random", Json(), 1, k_space);
  CHECK(best(run(*random, 40, k_space, objective)) > 0.1);
  CHECK(best(trials) < 0.05);
  for (const auto& t : trials) {
    for (const auto& [name, dist] : k_space) {
      REQUIRE(hpt::contains(dist, t.params.at(name)));  // In range, on the int grid.
    }
  }
}

TEST_CASE("gp maximises a study whose direction is MAXIMIZE", "[gp_sampler]") {
  auto sampler = gp();
  const auto trials = run(
      *sampler, 40, k_space, [](const auto& p) { return -objective(p); }, Direction::Maximize);
  double top = -INFINITY;
  for (const auto& t : trials) {
    top = std::max(top, *t.value);
  }
  CHECK(top > -0.05);
}

// The first n_startup_trials come from the independent sampler (random by default, the same
// draws as a random sampler of that seed); a resumed study samples what the running one does.
TEST_CASE("gp starts with its independent sampler and is a function of the trials",
          "[gp_sampler]") {
  auto sampler = gp(Json{{"n_startup_trials", 4}}, 9);
  auto random = hpt::make_sampler("random", Json(), 9, k_space);
  const auto trials = run(*sampler, 6, k_space, objective);
  const auto random_trials = run(*random, 6, k_space, objective);
  for (int i = 0; i < 4; ++i) {
    CHECK(trials[i].params == random_trials[i].params);
  }
  CHECK(trials[4].params != random_trials[4].params);
  SampleContext ctx(Direction::Minimize, &trials, 6);
  CHECK(gp(Json{{"n_startup_trials", 4}}, 9)->sample(k_space, ctx) == sampler->sample(k_space, ctx));
  CHECK(gp(Json{{"n_startup_trials", 4}}, 10)->sample(k_space, ctx) !=
        sampler->sample(k_space, ctx));
}

// A trial still running at the point the GP would propose makes it propose another (Kriging
// believer): parallel workers do not all train one configuration.
TEST_CASE("gp proposes away from trials still running", "[gp_sampler]") {
  SearchSpace space{{"x", FloatDistribution{-5, 5, false, {}}},
                    {"y", FloatDistribution{-5, 5, false, {}}}};
  auto f = [](const std::map<std::string, double>& p) {
    return (p.at("x") - 1) * (p.at("x") - 1) + (p.at("y") + 2) * (p.at("y") + 2);
  };
  auto sampler = gp(Json::object(), 1, space);
  auto trials = run(*sampler, 10, space, f);  // The 10 random startup trials.
  SampleContext ctx(Direction::Minimize, &trials, 10);
  const auto first = sampler->sample(space, ctx);
  FrozenTrial running = hpt::test::make_trial(15, TrialState::Running, std::nullopt, first);
  auto with_running = trials;
  with_running.push_back(running);
  SampleContext running_ctx(Direction::Minimize, &with_running, 10);
  const auto second = sampler->sample(space, running_ctx);
  const double moved = std::hypot(second.at("x") - first.at("x"), second.at("y") - first.at("y"));
  CHECK(moved > 0.5);  // On a range of 10 x 10.
  // Trials that are not COMPLETE or RUNNING, or hold values outside the space, change nothing.
  auto with_others = trials;
  with_others.push_back(hpt::test::make_trial(16, TrialState::Pruned, 0.0, first));
  with_others.push_back(hpt::test::make_trial(17, TrialState::Fail, std::nullopt, first));
  with_others.push_back(hpt::test::complete(18, -100.0, {{"x", 7.0}, {"y", 0.0}}));
  SampleContext others_ctx(Direction::Minimize, &with_others, 10);
  CHECK(sampler->sample(space, others_ctx) == first);
}

// In a space of ints (or categoricals) the acquisition's maximum often lies on a trial still
// running: it is never proposed again while a point is left, nor, for a deterministic
// objective, a point already finished (two workers trained one configuration; a study repeated
// a local minimum 34 times in a row).
TEST_CASE("gp never proposes a running point, nor a finished one when deterministic",
          "[gp_sampler]") {
  SearchSpace space{{"a", IntDistribution{0, 10, false, 1}},
                    {"b", CategoricalDistribution{{"p", "q", "r", "s"}}}};
  auto f = [](const std::map<std::string, double>& p) {
    return (p.at("a") - 3) * (p.at("a") - 3) + (p.at("b") == 2 ? 0.0 : 1.0);
  };
  auto sampler = gp(Json{{"deterministic_objective", true}}, 1, space);
  const auto trials = run(*sampler, 40, space, f);
  std::set<std::pair<double, double>> seen;
  for (const auto& t : trials) {
    INFO("trial " << t.number);
    // 44 points: after the 10 random startup trials, none twice.
    CHECK((seen.emplace(t.params.at("a"), t.params.at("b")).second || t.number < 10));
  }
  CHECK(best(trials) == 0.0);
  // Two workers: the second sample, with the first RUNNING, is elsewhere.
  auto noisy = gp(Json::object(), 1, space);
  auto history = run(*noisy, 12, space, f);
  for (int k = 0; k < 6; ++k) {
    SampleContext ctx(Direction::Minimize, &history, 12 + 2 * k);
    const auto first = noisy->sample(space, ctx);
    auto with_running = history;
    with_running.push_back(hpt::test::make_trial(100 + k, TrialState::Running, std::nullopt, first));
    SampleContext running_ctx(Direction::Minimize, &with_running, 13 + 2 * k);
    CHECK(noisy->sample(space, running_ctx) != first);
    history.push_back(hpt::test::complete(12 + k, f(first), first));
  }
}

// With float parameters the local search starts at the best finished trial, which a
// deterministic objective excludes: the ascent read the gradient the exclusion left empty and
// crashed (SIGSEGV) on the first GP sample. It ascends the acquisition and excludes the end.
TEST_CASE("gp with a deterministic objective samples float spaces", "[gp_sampler]") {
  for (const SearchSpace& space : {k_space, SearchSpace{{"x", FloatDistribution{-3, 3, false, {}}}},
                                   SearchSpace{{"x", FloatDistribution{1e-3, 10, true, {}}},
                                               {"k", CategoricalDistribution{{"a", "b"}}}}}) {
    auto sampler = gp(Json{{"deterministic_objective", true}, {"n_startup_trials", 2}}, 1, space);
    const auto trials = run(*sampler, 16, space, [&](const auto& p) {
      double v = 0;
      for (const auto& [name, x] : p) {
        v += name == "x" ? (std::log(std::abs(x) + 1) - 0.5) * (std::log(std::abs(x) + 1) - 0.5)
                         : 0.0;
      }
      return space.size() == k_space.size() ? objective(p) : v;
    });
    REQUIRE(trials.size() == 16);
    std::set<std::map<std::string, double>> seen;
    for (const auto& t : trials) {
      CHECK(seen.insert(t.params).second);  // No finished point proposed again.
    }
  }
  auto mixed = gp(Json{{"deterministic_objective", true}}, 1, k_space);
  CHECK(best(run(*mixed, 40, k_space, objective)) < 0.05);
  // The same start without the option: a trial RUNNING at the best finished point (jobs: 2,
  // the optimum on a bound) crashed the next sample too.
  const SearchSpace bound{{"x", FloatDistribution{0, 1, false, {}}},
                          {"y", IntDistribution{0, 2, false, 1}}};
  std::vector<FrozenTrial> history = {hpt::test::complete(0, -0.6, {{"x", 0.5}, {"y", 1}}),
                                      hpt::test::complete(1, -1.2, {{"x", 1.0}, {"y", 2}}),
                                      hpt::test::complete(2, -0.1, {{"x", 0.1}, {"y", 0}})};
  history.push_back(
      hpt::test::make_trial(3, TrialState::Running, std::nullopt, {{"x", 1.0}, {"y", 2}}));
  const auto p = gp(Json{{"n_startup_trials", 2}}, 1, bound)
                     ->sample(bound, SampleContext(Direction::Minimize, &history, 4));
  CHECK(p != history.back().params);
}

// The values' scale changes nothing (standardised after dividing by the largest magnitude):
// values near DBL_MAX made the variance infinite and every standardised value 0 or NaN.
TEST_CASE("gp samples the same whatever the values' scale", "[gp_sampler]") {
  SearchSpace space{{"x", FloatDistribution{-2, 2, false, {}}},
                    {"y", FloatDistribution{-2, 2, false, {}}}};
  auto f = [](const std::map<std::string, double>& p) {
    return (p.at("x") - 0.5) * (p.at("x") - 0.5) + p.at("y") * p.at("y") - 1.0;
  };
  auto sampler = gp(Json::object(), 3, space);
  const auto trials = run(*sampler, 14, space, f);
  std::map<std::string, double> at_scale_one;
  for (const double scale : {1.0, 1e160, 1e300}) {
    auto scaled = trials;
    for (auto& t : scaled) {
      *t.value *= scale;
    }
    const auto p = gp(Json::object(), 3, space)
                       ->sample(space, SampleContext(Direction::Minimize, &scaled, 14));
    if (scale == 1.0) {
      at_scale_one = p;
      continue;
    }
    INFO("scale " << scale);
    CHECK(p.at("x") == Approx(at_scale_one.at("x")).margin(1e-6));
    CHECK(p.at("y") == Approx(at_scale_one.at("y")).margin(1e-6));
  }
}

// Infinite values are clipped to the finite extremes (Optuna's warn_and_convert_inf); a study
// whose values are all equal, or all infinite, still samples inside the space.
TEST_CASE("gp samples from degenerate histories", "[gp_sampler]") {
  SearchSpace space{{"x", FloatDistribution{0, 1, false, {}}},
                    {"n", IntDistribution{1, 1000000, true, 1}}};
  for (double fill : {3.0, double{INFINITY}, -double{INFINITY}}) {
    std::vector<FrozenTrial> trials;
    for (int i = 0; i < 12; ++i) {
      trials.push_back(hpt::test::complete(i, i == 5 ? 1.0 : fill,
                                           {{"x", i / 12.0}, {"n", std::pow(2.0, i)}}));
    }
    trials.push_back(hpt::test::complete(12, fill, {{"x", 0.5}, {"n", 77}}));
    const auto p = gp(Json::object(), 1, space)
                       ->sample(space, SampleContext(Direction::Minimize, &trials, 13));
    CHECK(hpt::contains(space[0].second, p.at("x")));
    CHECK(hpt::contains(space[1].second, p.at("n")));
  }
}

// While every value is the same (a plateau, as most of a needle-in-a-haystack space) the GP
// learns nothing: the independent sampler explores instead (the flat acquisition returned to
// the best point, 39 repeats in 100 trials, and never left the plateau in half the seeds).
TEST_CASE("gp explores with its independent sampler while every value is the same",
          "[gp_sampler]") {
  SearchSpace space{{"x", FloatDistribution{0, 1, false, {}}},
                    {"y", FloatDistribution{0, 1, false, {}}}};
  std::vector<FrozenTrial> flat;
  for (int i = 0; i < 12; ++i) {
    flat.push_back(hpt::test::complete(i, 1.0, {{"x", i / 12.0}, {"y", 0.5}}));
  }
  const SampleContext ctx(Direction::Minimize, &flat, 12);
  CHECK(gp(Json::object(), 4, space)->sample(space, ctx) ==
        hpt::make_sampler("random", Json(), 4, space)->sample(space, ctx));
  auto needle = gp(Json::object(), 4, space);
  const auto trials = run(*needle, 30, space, [](const auto& p) {
    return std::hypot(p.at("x") - 0.9, p.at("y") - 0.9) < 0.1 ? 0.0 : 1.0;
  });
  std::set<std::map<std::string, double>> seen;
  for (const auto& t : trials) {  // Until the needle is found every value is 1: no repeats.
    CHECK(seen.insert(t.params).second);
    if (*t.value == 0.0) {
      break;
    }
  }
  CHECK(seen.size() > 15);
}

TEST_CASE("gp options are checked, and one objective only", "[gp_sampler]") {
  CHECK_THROWS_WITH(gp(Json{{"n_startup_trial", 3}}),
                    Catch::Contains("unknown gp sampler option 'n_startup_trial'") &&
                        Catch::Contains("n_startup_trials"));
  CHECK_THROWS_WITH(gp(Json{{"n_startup_trials", -1}}), Catch::Contains("n_startup_trials"));
  CHECK_THROWS_WITH(gp(Json{{"deterministic_objective", "yes"}}),
                    Catch::Contains("deterministic_objective"));
  CHECK_THROWS_WITH(gp(Json{{"constraints_func", "f"}}),
                    Catch::Contains("Optuna's, but hpt does not offer it"));
  CHECK_THROWS_WITH(gp(Json{{"independent_sampler", "grid"}}),
                    Catch::Contains("independent_sampler"));
  auto sampler = gp(Json{{"independent_sampler", "tpe"}, {"deterministic_objective", true}});
  CHECK_FALSE(sampler->supports_multi_objective());
  std::vector<FrozenTrial> none;
  CHECK_THROWS_WITH(
      sampler->sample(k_space, SampleContext(Direction::Minimize, &none, 0,
                                             {Direction::Minimize, Direction::Maximize})),
      Catch::Contains("one objective"));
}
