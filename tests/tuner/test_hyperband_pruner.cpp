#include <catch2/catch.hpp>

#include "hpt/tuner/hyperband_pruner.hpp"
#include "pruning_simulation.hpp"
#include "trial_builders.hpp"

using hpt::Direction;
using hpt::HyperbandOptions;
using hpt::HyperbandPruner;
using hpt::Json;
using hpt::test::pruned_steps;
using hpt::test::step_range;
using Steps = std::vector<int64_t>;
using Ints = std::vector<int64_t>;

// Expected decisions, brackets and budgets below were generated once with Optuna 3.1
// (/usr/bin/python3 tests/tuner/optuna_pruner_decisions.py) on the same curves.

namespace {

Ints brackets(const HyperbandPruner& p, const std::string& study, int n) {
  Ints out;
  for (int i = 0; i < n; ++i) {
    out.push_back(p.bracket_of(study, i));
  }
  return out;
}

}  // namespace

// binascii.crc32 values.
TEST_CASE("crc32 is zlib's", "[pruner][hyperband]") {
  CHECK(hpt::crc32("hb-test_7") == 1402688520U);
  CHECK(hpt::crc32("") == 0U);
  CHECK(hpt::crc32("123456789") == 0xCBF43926U);
}

// 4 brackets (log3 27 + 1), Optuna's budgets, brackets by hash and pruning decisions.
TEST_CASE("hyperband matches Optuna with a fixed max_resource", "[pruner][hyperband]") {
  HyperbandPruner p(HyperbandOptions{1, 27, 3, 0});
  CHECK(pruned_steps(p, 40, step_range(0, 27), Direction::Minimize, "hb-test") ==
        Steps{-1, -1, 1, -1, 1, -1, -1, 1, 3, 1, 1, 1, 1, 1, 3, -1, 1, 1,  -1, 1,
              3,  3,  3, 1,  1, 9,  3,  1, 3, 1, 9, 3, 9, 3, 1, 3,  3, -1, 9,  3});
  CHECK(p.budgets() == Ints{27, 12, 6, 4});
  CHECK(brackets(p, "hb-test", 40) == Ints{3, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                           1, 1, 0, 0, 3, 0, 1, 0, 1, 0, 0, 1, 1, 0,
                                           1, 0, 1, 0, 2, 0, 0, 1, 1, 0, 2, 1});
}

// Defaults: max_resource "auto" = last step + 1 of the first COMPLETE trial (30), maximising.
TEST_CASE("hyperband defaults and auto max_resource match Optuna", "[pruner][hyperband]") {
  HyperbandPruner p(hpt::hyperband_options_from_json(Json()));
  CHECK(p.budgets().empty());
  CHECK(p.bracket_of("hb-auto", 5) == 0);  // Every trial is in bracket 0 until then.
  CHECK(pruned_steps(p, 40, step_range(0, 30), Direction::Maximize, "hb-auto") ==
        Steps{-1, -1, -1, -1, 1, -1, -1, 3, 1,  3, -1, 3, 3, 1, 1, 9, 1, 1,  -1, 9,
              -1, 1,  1,  3,  3, 27, 3,  1, 27, 1, 3,  9, 3, 9, 1, 1, 1, -1, 1,  1});
  CHECK(p.budgets() == Ints{27, 12, 6, 4});
  CHECK(brackets(p, "hb-auto", 40) == Ints{0, 2, 0, 2, 0, 0, 1, 1, 0, 1, 3, 1, 1, 0,
                                           0, 0, 0, 0, 1, 2, 1, 0, 0, 1, 1, 3, 1, 0,
                                           3, 0, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0});
}

// The sampler sees only the trials of the sampled trial's bracket (Optuna's _BracketStudy),
// and all trials while the brackets are unknown.
TEST_CASE("hyperband filters the sampler's trials by bracket", "[pruner][hyperband]") {
  HyperbandPruner p(HyperbandOptions{1, 27, 3, 0});
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < 10; ++i) {
    trials.push_back(hpt::test::complete(i, i));
  }
  const hpt::PruneContext ctx{Direction::Minimize, &trials, "hb-test"};
  CHECK_FALSE(p.sampler_trials(ctx, 10).has_value());
  p.decide(ctx, trials[0]);               // Initialises the brackets (max_resource is known).
  auto seen = p.sampler_trials(ctx, 14);  // Trial 14 is in bracket 1, with 6.
  REQUIRE(seen.has_value());
  REQUIRE(seen->size() == 1);
  CHECK(seen->front().number == 6);
  CHECK(p.sampler_trials(ctx, 3)->size() == 1);  // Bracket 2: trial 3 itself only.
  CHECK(p.sampler_trials(ctx, 1)->size() == 7);  // Bracket 0: 1, 2, 4, 5, 7, 8, 9.
}

// Options: defaults, errors naming the option, max_resource below min_resource refused.
TEST_CASE("hyperband options", "[pruner][hyperband][factory]") {
  auto o = hpt::hyperband_options_from_json(
      Json{{"min_resource", 2}, {"max_resource", 100}, {"reduction_factor", 4}});
  CHECK(o.min_resource == 2);
  CHECK(o.max_resource == 100);
  CHECK(o.reduction_factor == 4);
  CHECK_FALSE(hpt::hyperband_options_from_json(Json{{"max_resource", "auto"}}).max_resource);
  CHECK_THROWS_WITH(hpt::hyperband_options_from_json(Json{{"max_resource", 1.5}}),
                    "hyperband pruner option 'max_resource' must be an integer >= 1 or \"auto\", "
                    "but got 1.5");
  CHECK_THROWS_WITH(hpt::hyperband_options_from_json(Json{{"min_resource", "auto"}}),
                    "hyperband pruner option 'min_resource' must be an integer >= 1, but got "
                    "\"auto\"");
  CHECK_THROWS_WITH(
      hpt::hyperband_options_from_json(Json{{"min_resource", 10}, {"max_resource", 5}}),
      "hyperband pruner option 'max_resource' must be >= min_resource (10), but got 5");
  CHECK_THROWS_WITH(hpt::hyperband_options_from_json(Json{{"reduction_factor", 1}}),
                    "hyperband pruner option 'reduction_factor' must be an integer >= 2, but got "
                    "1");
  CHECK_THROWS_WITH(hpt::hyperband_options_from_json(Json{{"min_early_stopping_rate", 1}}),
                    "unknown hyperband pruner option 'min_early_stopping_rate'");
}

// Extreme ranges: 63 brackets (2^62 / 1 with eta 2) stay finite; every trial gets a bracket.
TEST_CASE("hyperband with extreme resources", "[pruner][hyperband]") {
  HyperbandPruner p(HyperbandOptions{1, int64_t{1} << 62, 2, 0});
  std::vector<hpt::FrozenTrial> trials{
      hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{0, 1.0}})};
  CHECK_FALSE(p.decide({Direction::Minimize, &trials, "x"}, trials[0]).prune);
  CHECK(p.budgets().size() == 63);
  for (int i = 0; i < 50; ++i) {
    CHECK(p.bracket_of("x", i) >= 0);
  }
}

// Steps anywhere in int64 give a decision: INT64_MAX passes each bracket's reachable rungs
// once, an "auto" max_resource from a COMPLETE trial at INT64_MAX saturates, and one from a
// negative last step (below min_resource) makes no bracket.
TEST_CASE("hyperband decides in bounded time at any int64 step", "[pruner][hyperband]") {
  constexpr int64_t k_max = std::numeric_limits<int64_t>::max();
  for (int64_t step : {k_max, std::numeric_limits<int64_t>::min(), int64_t{0}}) {
    HyperbandPruner p(HyperbandOptions{1, 100, 3, 0});
    std::vector<hpt::FrozenTrial> trials{
        hpt::test::make_trial(0, hpt::TrialState::Running, {}, {}, {{step, 0.5}})};
    const hpt::PruneDecision d = p.decide({Direction::Minimize, &trials, "p"}, trials[0]);
    CHECK_FALSE(d.prune);
    CHECK(d.system_attrs.size() <= 40);  // 3^39 < INT64_MAX < 3^40.
  }
  HyperbandPruner auto_max(HyperbandOptions{1, std::nullopt, 2, 0});
  std::vector<hpt::FrozenTrial> trials{
      hpt::test::make_trial(0, hpt::TrialState::Complete, 1.0, {}, {{k_max, 1.0}}),
      hpt::test::make_trial(1, hpt::TrialState::Running, {}, {}, {{k_max, 0.5}})};
  CHECK_FALSE(auto_max.decide({Direction::Minimize, &trials, "p"}, trials[1]).prune);
  CHECK(auto_max.budgets().size() == 64);  // As Optuna: max_resource 2^63, log2 = 63, + 1.
  HyperbandPruner below(HyperbandOptions{5, std::nullopt, 2, 0});
  std::vector<hpt::FrozenTrial> negative{
      hpt::test::make_trial(0, hpt::TrialState::Complete, 1.0, {}, {{-7, 1.0}}),
      hpt::test::make_trial(1, hpt::TrialState::Running, {}, {}, {{k_max, 0.5}})};
  CHECK_FALSE(below.decide({Direction::Minimize, &negative, "p"}, negative[1]).prune);
  CHECK(below.budgets().empty());
}
