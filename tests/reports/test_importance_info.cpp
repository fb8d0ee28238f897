#include <algorithm>
#include <catch2/catch.hpp>

#include "hpt/reports/info.hpp"
#include "study_fixtures.hpp"

// The study's objective is driven by lr, its duration by layers; x (in half of the trials)
// leaves the intersection space.
TEST_CASE("value and duration importances", "[importance_info]") {
  const auto trials = hpt::test::mixed_study(80);
  const auto v = hpt::reports::get_importance_info(trials, hpt::ImportanceTarget::Value);
  REQUIRE(v.importances.size() == 4);
  CHECK(v.importances[0].first == "lr");
  CHECK(v.target == "value");
  double sum = 0;
  for (const auto& [name, imp] : v.importances) {
    CHECK(name != "x");
    sum += imp;
  }
  CHECK(sum == Approx(1.0));
  int complete = 0;
  for (const auto& t : trials) {
    complete += t.state == hpt::TrialState::Complete;
  }
  CHECK(v.n_trials_used == complete);
  const auto d = hpt::reports::get_importance_info(trials, hpt::ImportanceTarget::Duration);
  REQUIRE_FALSE(d.importances.empty());
  CHECK(d.importances[0].first == "layers");
}

// Too few trials give a note, not an exception.
TEST_CASE("importance info on tiny studies", "[importance_info]") {
  CHECK(hpt::reports::get_importance_info({}, hpt::ImportanceTarget::Value).note ==
        "Not available: no trial is COMPLETE yet.");  // Not "no parameter is shared".
  const auto one =
      hpt::reports::get_importance_info(hpt::test::mixed_study(1), hpt::ImportanceTarget::Value);
  CHECK(one.importances.empty());
  CHECK(one.note.find("at least 2") != std::string::npos);
}

// Both importances come together, as get_importance_info gives each of them.
TEST_CASE("get_study_importances", "[importance_info]") {
  const auto trials = hpt::test::mixed_study(80);
  const auto both = hpt::reports::get_study_importances(trials);
  const auto v = hpt::reports::get_importance_info(trials, hpt::ImportanceTarget::Value);
  REQUIRE(both.value.importances.size() == v.importances.size());
  CHECK(both.value.importances[0] == v.importances[0]);
  CHECK(both.duration.target == "duration");
  REQUIRE_FALSE(both.duration.importances.empty());
  CHECK(both.duration.importances[0].first == "layers");
}

// The quick ranking puts the param driving the value (lr) first, ranks every param of COMPLETE
// trials (x included, though not shared by all), and survives empty or valueless studies.
TEST_CASE("quick_param_ranking", "[importance_info]") {
  const auto ranked = hpt::reports::quick_param_ranking(hpt::test::mixed_study(80));
  REQUIRE(ranked.size() == 5);
  CHECK(ranked[0] == "lr");
  CHECK(std::find(ranked.begin(), ranked.end(), "x") != ranked.end());
  CHECK(hpt::reports::quick_param_ranking({}).empty());
  auto flat = hpt::test::mixed_study(10);
  for (auto& t : flat) {
    t.value = 1.0;  // No variance: every score 0, order by name.
  }
  const auto by_name = hpt::reports::quick_param_ranking(flat);
  CHECK(std::is_sorted(by_name.begin(), by_name.end()));
}

// Values near DBL_MAX (the study's values times 1e300) rank and weigh the params as the
// ordinary study does: no overflowed variance reads as "does not vary" or as no ranking.
TEST_CASE("importance info of huge finite values", "[importance_info]") {
  auto huge = hpt::test::mixed_study(80);
  for (auto& t : huge) {
    if (t.value) {
      t.value = *t.value * 1e300;
    }
  }
  CHECK(hpt::reports::quick_param_ranking(huge)[0] == "lr");
  const auto v = hpt::reports::get_importance_info(huge, hpt::ImportanceTarget::Value);
  CHECK(v.note.empty());
  REQUIRE_FALSE(v.importances.empty());
  CHECK(v.importances[0].first == "lr");
}

// A categorical of more than 64 choices (fANOVA's exact marginal for it grows with the square of
// the trials: 20,000 trials of a 1,000-choice one would take about an hour; helper audit): the
// importances come from 1,000 trials evenly spaced by number, and the note says so. A study of
// fewer trials, or without such a parameter, uses them all.
TEST_CASE("importances of a study with a many-choice categorical use 1000 trials",
          "[importance_info]") {
  auto trials = hpt::test::many_choice_study(1100);
  const auto v = hpt::reports::get_importance_info(trials, hpt::ImportanceTarget::Value);
  CHECK(v.n_trials_used == 1000);
  CHECK(v.note ==
        "From 1000 of the 1100 COMPLETE trials, evenly spaced by number: pick has 65 choices, and "
        "fANOVA's time grows with the square of the trials for such a parameter.");
  REQUIRE(v.importances.size() == 2);
  CHECK(v.importances[0].first == "x");
  trials.resize(900);
  const auto all = hpt::reports::get_importance_info(trials, hpt::ImportanceTarget::Value);
  CHECK(all.n_trials_used == 900);
  CHECK(all.note.empty());
}
