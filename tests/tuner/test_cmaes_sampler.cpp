#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/tuner/cmaes_sampler.hpp"
#include "hpt/tuner/sampler.hpp"
#include "trial_builders.hpp"

using hpt::CategoricalDistribution;
using hpt::CmaEsSampler;
using hpt::Direction;
using hpt::FloatDistribution;
using hpt::FrozenTrial;
using hpt::IntDistribution;
using hpt::Json;
using hpt::SampleContext;
using hpt::SearchSpace;
using hpt::TrialState;

namespace {

const SearchSpace k_space = hpt::test::mixed_space();

const auto objective = hpt::test::mixed_objective;

using hpt::test::run;

std::unique_ptr<hpt::Sampler> cmaes(const Json& options = Json::object(), uint64_t seed = 1,
                                    const SearchSpace& space = k_space) {
  return hpt::make_sampler("cmaes", options, seed, space);
}

const auto best = hpt::test::lowest_value;

}  // namespace

TEST_CASE("cmaes finds the minimum of a mixed space", "[cmaes]") {
  auto sampler = cmaes();
  const auto trials = run(*sampler, 150, k_space, objective);
  // Random search's best of 150 is about 0.3 here (seed 1 of hpt's random sampler: 0.27).
  auto random = hpt::make_sampler("random", Json(), 1, k_space);
  CHECK(best(run(*random, 150, k_space, objective)) > 0.05);
  CHECK(best(trials) < 0.01);
  for (const auto& t : trials) {
    REQUIRE(hpt::contains(k_space[2].second, t.params.at("units")));  // On the int grid.
    REQUIRE((t.params.at("opt") == 0 || t.params.at("opt") == 1));
  }
}

TEST_CASE("cmaes maximises a study whose direction is MAXIMIZE", "[cmaes]") {
  auto sampler = cmaes();
  const auto trials = run(
      *sampler, 150, k_space, [](const auto& p) { return -objective(p); }, Direction::Maximize);
  double top = -INFINITY;
  for (const auto& t : trials) {
    top = std::max(top, *t.value);
  }
  CHECK(top > -0.01);
}

// Trial 0 is the independent sampler's (n_startup_trials 1); then generations of popsize
// (4 + ⌊3 ln 3⌋ = 7 for x, lr, units) trials, each told once all its trials finished.
TEST_CASE("cmaes generations follow Optuna's cma:generation", "[cmaes]") {
  auto sampler = cmaes();
  const auto trials = run(*sampler, 30, k_space, objective);
  CHECK(trials[0].system_attrs.empty());
  for (int i = 1; i < 30; ++i) {
    INFO("trial " << i);
    REQUIRE(trials[i].system_attrs.count("cma:generation") == 1);
    CHECK(trials[i].system_attrs.at("cma:generation") == (i - 1) / 7);
  }
  // With n_startup_trials 5, trials 0-4 are independent.
  auto later = cmaes(Json{{"n_startup_trials", 5}});
  const auto t5 = run(*later, 7, k_space, objective);
  CHECK(t5[4].system_attrs.empty());
  CHECK(t5[5].system_attrs.at("cma:generation") == 0);
}

// A resumed study (a new sampler over the stored trials) samples what the running one samples;
// so does a sampler whose memo of told generations no longer holds.
TEST_CASE("cmaes is a function of the trials (resume, memo)", "[cmaes]") {
  auto running = cmaes();
  auto trials = run(*running, 40, k_space, objective);
  auto resumed = cmaes();
  SampleContext ctx(Direction::Minimize, &trials, 40);
  const auto a = running->sample(k_space, ctx);
  CHECK(resumed->sample(k_space, ctx) == a);
  // Another history on the same sampler object: the memo is dropped, not reused.
  auto other = trials;
  for (auto& t : other) {
    *t.value = -*t.value;
  }
  SampleContext other_ctx(Direction::Minimize, &other, 40);
  CHECK(running->sample(k_space, other_ctx) == cmaes()->sample(k_space, other_ctx));
  CHECK(running->sample(k_space, other_ctx) != a);
}

// Generation 0 is told with its first population_size trials to finish, not the lowest numbers:
// a trial that finished later (another worker's) does not change a generation already told.
TEST_CASE("cmaes tells each generation with its first finished trials", "[cmaes]") {
  auto sampler = cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}});
  SearchSpace space{k_space[0], k_space[1]};
  auto f = [](const auto& p) { return p.at("x") * p.at("x"); };
  auto trials = run(*sampler, 5, space, f);  // Generation 0: trials 0-3; trial 4 of generation 1.
  REQUIRE(trials[4].system_attrs.at("cma:generation") == 1);
  // Trial 5, also of generation 0 (asked before the tell), finishes last (t = 100 s) with a value
  // that would move the mean a lot: generation 0 is still trials 0-3.
  FrozenTrial late = trials[0];
  late.number = 5;
  late.params = {{"x", 4.9}, {"lr", 0.05}};
  late.value = -100;
  late.system_attrs = {{"cma:generation", 0}};
  late.datetime_complete = hpt::Clock::time_point(std::chrono::seconds(100));
  auto with_late = trials;
  with_late.push_back(late);
  SampleContext ctx(Direction::Minimize, &trials, 6);
  SampleContext late_ctx(Direction::Minimize, &with_late, 6);
  CHECK(cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space)->sample(space, ctx) ==
        cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space)->sample(space, late_ctx));
  // Had it finished first, generation 0 would be told with it.
  with_late.back().datetime_complete = hpt::Clock::time_point(std::chrono::milliseconds(500));
  CHECK(cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space)->sample(space, ctx) !=
        cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space)->sample(space, late_ctx));
}

TEST_CASE("cmaes counts PRUNED trials only with consider_pruned_trials", "[cmaes]") {
  SearchSpace space{k_space[0], k_space[1]};
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < 3; ++i) {
    FrozenTrial t;
    t.number = i;
    t.state = TrialState::Pruned;
    t.params = {{"x", 0.1 * i}, {"lr", 1e-3}};
    t.intermediate_values[0] = 5.0;
    t.intermediate_values[3] = 1.0 + i;
    trials.push_back(t);
  }
  std::map<std::string, Json> attrs;
  SampleContext ctx(Direction::Minimize, &trials, 3, {}, &attrs);
  cmaes(Json{{"n_startup_trials", 3}}, 1, space)->sample(space, ctx);
  CHECK(attrs.empty());  // Three PRUNED trials are not three finished ones.
  cmaes(Json{{"n_startup_trials", 3}, {"consider_pruned_trials", true}}, 1, space)
      ->sample(space, ctx);
  CHECK(attrs.at("cma:generation") == 0);
}

// As Optuna: CMA-ES needs two float/int parameters that vary; with fewer, every parameter comes
// from the independent sampler (here tpe, which then finds the categorical's best choice).
TEST_CASE("cmaes leaves one-dimensional spaces to its independent sampler", "[cmaes]") {
  SearchSpace space{{"x", FloatDistribution{-5, 5, false, {}}},
                    {"fixed", IntDistribution{3, 3, false, 1}},
                    {"c", CategoricalDistribution{{"a", "b", "c", "d"}}}};
  auto sampler =
      cmaes(Json{{"independent_sampler", {{"type", "tpe"}, {"n_startup_trials", 5}}}}, 1, space);
  const auto trials = run(*sampler, 40, space, [](const auto& p) {
    return p.at("x") * p.at("x") + (p.at("c") == 2 ? 0 : 10);
  });
  int picked = 0;
  for (const auto& t : trials) {
    CHECK(t.system_attrs.empty());
    picked += t.params.at("c") == 2 ? 1 : 0;
  }
  CHECK(picked > 20);  // Random would pick 'c' about 10 times in 40.
}

// restart_strategy ipop: a flat objective stops the first optimiser after 21 generations
// (cma_reference.py), and the next one runs under cma:restart_1:generation with twice the
// population.
TEST_CASE("cmaes restarts with a doubled population under ipop", "[cmaes]") {
  SearchSpace space{k_space[0], k_space[1]};
  auto sampler = cmaes(Json{{"restart_strategy", "ipop"}, {"n_startup_trials", 0}}, 1, space);
  const int popsize = 6;  // 4 + ⌊3 ln 2⌋
  const auto trials =
      run(*sampler, 21 * popsize + 2 * popsize + 1, space, [](const auto&) { return 1.0; });
  CHECK(trials[21 * popsize - 1].system_attrs.at("cma:restart_0:generation") == 20);
  CHECK(trials[21 * popsize - 1].system_attrs.at("cma:n_restarts") == 0);
  const auto& restarted = trials[21 * popsize + 2 * popsize];
  CHECK(restarted.system_attrs.at("cma:restart_1:generation") == 1);
  CHECK(restarted.system_attrs.at("cma:n_restarts") == 1);
  CHECK(trials[21 * popsize].system_attrs.count("cma:generation") == 0);
}

TEST_CASE("cmaes x0 and sigma0 set the first generation's distribution", "[cmaes]") {
  SearchSpace space{k_space[0], k_space[1]};
  auto sampler =
      cmaes(Json{{"x0", {{"x", 4.0}}}, {"sigma0", 0.01}, {"n_startup_trials", 0}}, 1, space);
  std::vector<FrozenTrial> none;
  for (int i = 0; i < 20; ++i) {
    SampleContext ctx(Direction::Minimize, &none, i);
    const auto p = sampler->sample(space, ctx);
    CHECK(p.at("x") == Approx(4.0).margin(0.5));                // 0.01 of the range is 0.1.
    CHECK(std::log10(p.at("lr")) == Approx(-3.0).margin(0.2));  // The middle of log10 [-5, -1].
  }
}

TEST_CASE("cmaes refuses a multi-objective study", "[cmaes]") {
  std::vector<FrozenTrial> none;
  SampleContext ctx(Direction::Minimize, &none, 0, {Direction::Minimize, Direction::Maximize});
  CHECK_THROWS_WITH(cmaes()->sample(k_space, ctx), Catch::Contains("optimises one objective"));
}

// Options are read as Optuna names them, each mistake in one line.
TEST_CASE("cmaes options", "[cmaes]") {
  const auto o = hpt::cmaes_options_from_json(Json{{"x0", {{"x", 2}, {"units", 64}}},
                                                   {"sigma0", 0.3},
                                                   {"n_startup_trials", 4},
                                                   {"independent_sampler", "tpe"},
                                                   {"consider_pruned_trials", true},
                                                   {"restart_strategy", "ipop"},
                                                   {"popsize", 12},
                                                   {"inc_popsize", 3}},
                                              k_space);
  CHECK(o.x0 == std::map<std::string, double>{{"x", 2}, {"units", 64}});
  CHECK(o.sigma0 == 0.3);
  CHECK(o.n_startup_trials == 4);
  CHECK(o.independent.type == "tpe");
  CHECK(o.consider_pruned_trials);
  CHECK(o.ipop);
  CHECK(o.popsize == 12);
  CHECK(o.inc_popsize == 3);
  auto error = [](const Json& j) {
    try {
      hpt::cmaes_options_from_json(j, k_space);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error(Json{{"sigma", 0.3}}) ==
        "unknown cmaes sampler option 'sigma' (did you mean 'sigma0'?)");
  CHECK(error(Json{{"x0", {{"xx", 1}}}}) ==
        "cmaes sampler option 'x0': unknown parameter 'xx' (did you mean 'x'?)");
  CHECK(error(Json{{"x0", {{"opt", "adam"}}}}) ==
        "cmaes sampler option 'x0': 'opt' is categorical; x0 sets float and int parameters "
        "(categoricals come from the independent sampler)");
  CHECK(error(Json{{"x0", {{"x", 7}}}}) ==
        "cmaes sampler option 'x0': 'x' must be a number in [-5, 5], but got 7");
  CHECK(error(Json{{"x0", {{"x", "1"}}}}) ==
        "cmaes sampler option 'x0': 'x' must be a number in [-5, 5], but got \"1\"");
  CHECK(error(Json{{"x0", 3}}) ==
        "cmaes sampler option 'x0' must be a mapping of parameter names to values, but got 3");
  CHECK(error(Json{{"sigma0", 0}}).find("sigma0") != std::string::npos);
  CHECK(error(Json{{"sigma0", 1e-200}}) ==
        "cmaes sampler option 'sigma0' must be a number in [1e-10, 1], but got 1e-200");
  CHECK(error(Json{{"sigma0", 2}}) ==
        "cmaes sampler option 'sigma0' must be a number in [1e-10, 1], but got 2");
  CHECK(error(Json{{"inc_popsize", 3}}) ==
        "cmaes sampler option 'inc_popsize' applies at restarts: give restart_strategy: ipop too");
  CHECK(error(Json{{"independent_sampler", {{"type", "random"}, {"seed", 3}}}}) ==
        "cmaes sampler option 'independent_sampler': unknown random sampler option 'seed'");
  // x0 within the range as written, though a step makes the last grid point 0.9.
  const SearchSpace stepped{{"s", FloatDistribution{0, 1, false, 0.3}},
                            {"t", FloatDistribution{0, 1, false, {}}}};
  CHECK(hpt::cmaes_options_from_json(Json{{"x0", {{"s", 0.9}}}}, stepped).x0.at("s") == 0.9);
  CHECK(hpt::cmaes_options_from_json(Json{{"x0", {{"s", 1}}}}, stepped).x0.at("s") == 1);
  CHECK(error(Json{{"popsize", 1}}).find("popsize") != std::string::npos);
  CHECK(error(Json{{"popsize", 4294967298.0}}).find("popsize") != std::string::npos);
  CHECK(error(Json{{"restart_strategy", "bipop"}}) ==
        "cmaes sampler option 'restart_strategy' must be ipop or null, but got \"bipop\" (hpt "
        "does not offer bipop)");
  CHECK(error(Json{{"with_margin", true}}) ==
        "cmaes sampler option 'with_margin' is Optuna's, but hpt does not offer it");
  CHECK(error(Json{{"independent_sampler", "grid"}}) ==
        "cmaes sampler option 'independent_sampler': 'grid' cannot be one; expected random or "
        "tpe");
  CHECK(error(Json{{"independent_sampler", {{"type", "tpe"}, {"n_startup_trial", 3}}}}) ==
        "cmaes sampler option 'independent_sampler': unknown tpe sampler option "
        "'n_startup_trial' (did you mean 'n_startup_trials'?)");
}

// Generations written by hand or by other tools: 3.0 counts as 3 (Python's 3 == 3.0), a restart
// spelt "restart_01" is no restart Optuna writes, and nothing odd stops the sampler.
TEST_CASE("cmaes reads generation attributes as Optuna does", "[cmaes]") {
  SearchSpace space{k_space[0], k_space[1]};
  auto trials = run(*cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space), 4, space,
                    [](const auto& p) { return p.at("x"); });
  for (auto& t : trials) {
    t.system_attrs["cma:generation"] = 0.0;
  }
  std::map<std::string, Json> attrs;
  SampleContext ctx(Direction::Minimize, &trials, 4, {}, &attrs);
  cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}}, 1, space)->sample(space, ctx);
  CHECK(attrs.at("cma:generation") == 1);  // Generation 0 was told.
  for (auto& t : trials) {
    t.system_attrs = {{"cma:restart_00:generation", 0}};
  }
  attrs.clear();
  cmaes(Json{{"popsize", 4}, {"n_startup_trials", 0}, {"restart_strategy", "ipop"}}, 1, space)
      ->sample(space, ctx);
  CHECK(attrs.at("cma:restart_0:generation") == 0);  // Not told: no trial of restart 0.
}

// 300 generations of one point drive the step size towards 0; the samples stay finite and inside
// (they used to become NaN, stored as NULL parameters).
TEST_CASE("cmaes samples stay inside the space after a collapsed history", "[cmaes]") {
  SearchSpace space{{"a", FloatDistribution{1, 2, false, {}}},
                    {"b", IntDistribution{0, 9, false, 1}}};
  std::vector<FrozenTrial> trials;
  for (int g = 0; g < 300; ++g) {
    for (int k = 0; k < 6; ++k) {
      FrozenTrial t;
      t.number = static_cast<int>(trials.size());
      t.state = TrialState::Complete;
      t.value = 1.0;
      t.params = {{"a", 1.5}, {"b", 4}};
      t.system_attrs = {{"cma:generation", g}};
      trials.push_back(t);
    }
  }
  auto sampler = cmaes(Json{{"n_startup_trials", 0}}, 1, space);
  for (int i = 0; i < 20; ++i) {
    SampleContext ctx(Direction::Minimize, &trials, static_cast<int>(trials.size()) + i);
    const auto p = sampler->sample(space, ctx);
    REQUIRE(hpt::contains(space[0].second, p.at("a")));
    REQUIRE(hpt::contains(space[1].second, p.at("b")));
  }
}

TEST_CASE("cmaes warns when fewer than two float or int parameters vary", "[cmaes]") {
  CHECK(cmaes()->space_warning(k_space).empty());
  const SearchSpace one{k_space[0], {"fixed", IntDistribution{2, 2, false, 1}}, k_space[3]};
  CHECK(cmaes(Json::object(), 1, one)->space_warning(one) ==
        "the cmaes sampler samples two or more float or int parameters that vary, and this space "
        "has 1: its random sampler samples every parameter");
}
