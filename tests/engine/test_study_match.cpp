#include <catch2/catch.hpp>

#include "hpt/engine/study_match.hpp"

// A study is continued only with its own directions and distributions Optuna would accept;
// the message names the study, the parameter, the stored and the declared distribution.
TEST_CASE("check_study_matches applies Optuna's rules", "[study_match]") {
  auto s = hpt::open_storage(":memory:");
  const int64_t id = s->create_study("s", hpt::Direction::Minimize);
  s->create_study("two", {hpt::Direction::Minimize, hpt::Direction::Maximize});
  const hpt::FloatDistribution lr{1e-4, 1e-1, true, std::nullopt};
  const hpt::CategoricalDistribution act{{"relu", "gelu"}};
  hpt::FrozenTrial t;
  t.state = hpt::TrialState::Complete;
  t.value = 1.0;
  t.params = {{"lr", 1e-3}, {"act", 0}};
  t.distributions = {{"lr", lr}, {"act", act}};
  s->create_trial(id, t);
  const std::vector<hpt::Direction> min{hpt::Direction::Minimize};
  // Unknown study, same space, a changed range, a new parameter: all fine.
  CHECK_NOTHROW(hpt::check_study_matches(*s, "new", min, {}));
  CHECK_NOTHROW(hpt::check_study_matches(*s, "s", min, {{"lr", lr}, {"act", act}}));
  CHECK_NOTHROW(
      hpt::check_study_matches(*s, "s", min,
                               {{"lr", hpt::FloatDistribution{1e-5, 1.0, true, std::nullopt}},
                                {"n", hpt::IntDistribution{1, 3, false, 1}}}));
  CHECK_THROWS_WITH(hpt::check_study_matches(*s, "s", {hpt::Direction::Maximize}, {}),
                    "study 's' exists with direction MINIMIZE, but the config says MAXIMIZE; use "
                    "another study name");
  CHECK_THROWS_WITH(hpt::check_study_matches(*s, "two", min, {}),
                    Catch::Contains("directions [MINIMIZE, MAXIMIZE]"));
  CHECK_THROWS_WITH(
      hpt::check_study_matches(*s, "s", min, {{"lr", hpt::IntDistribution{1, 9, false, 1}}}),
      "study 's': search_space.lr: it is stored as float but declared as int (stored by trial 0: "
      "float [0.0001, 0.1] log; the config: int [1, 9]); Optuna refuses such a change, so hpt "
      "does too: use another study name");
  CHECK_THROWS_WITH(hpt::check_study_matches(
                        *s, "s", min, {{"act", hpt::CategoricalDistribution{{"gelu", "relu"}}}}),
                    Catch::Contains("search_space.act: its categorical choices differ"));
}
