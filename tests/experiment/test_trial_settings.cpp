#include <catch2/catch.hpp>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/schema/config_error.hpp"
#include "trial_settings_cases.hpp"

using hpt::trainer::merge_settings;
using nlohmann::json;

// params override fixed; dotted keys nest; FF units accept categorical strings.
TEST_CASE("fixed and params merge", "[experiment][settings]") {
  const json fixed = {{"dropout", 0.1}, {"dataset", {{"format", "idx"}, {"path", "/d"}}}};
  auto m = merge_settings(
      fixed,
      {{"dropout", 0.3}, {"dataset.image_size", 32}, {"intermediate_ff_block_units", "512-256"}},
      "HPT_PARAMS");
  CHECK(m["dropout"] == 0.3);
  CHECK(m["dataset"]["image_size"] == 32);
  CHECK(m["dataset"]["path"] == "/d");
  CHECK((m["intermediate_ff_block_units"] == json({512, 256})));
  CHECK(merge_settings(fixed, {{"intermediate_ff_block_units", "none"}},
                       "P")["intermediate_ff_block_units"]
            .empty());
  CHECK(merge_settings(json::object(), {{"dataset.path", "/x"}}, "P") ==
        json({{"dataset", {{"path", "/x"}}}}));
}

// The shared cases (trial_settings_cases.hpp): accepted ones read as the expected config,
// refused ones fail with their message; the engine's test runs the same cases.
TEST_CASE("shared merge cases", "[experiment][settings]") {
  for (const auto& k : hpt::test::k_settings_cases) {
    INFO(k.param << " = " << k.value);
    const auto merged = [&] {
      return merge_settings(json({{"dataset", {{"format", "idx"}, {"path", "/d"}}}}),
                            json({{k.param, json::parse(k.value)}}), "P");
    };
    if (k.error.empty()) {
      const auto c = hpt::trainer::experiment_from_json(merged(), "P");
      CHECK(hpt::trainer::to_json(c)[k.check_key].dump() == k.check_value);
    } else {
      CHECK_THROWS_WITH(hpt::trainer::experiment_from_json(merged(), "P"),
                        Catch::Contains(k.error));
    }
  }
}

// Refused merges: a dotted name into a non-section, an unreadable or out-of-range units string.
TEST_CASE("merge refuses what it cannot place", "[experiment][settings]") {
  const json fixed = {{"epochs", 3}};
  CHECK_THROWS_WITH(merge_settings(fixed, {{"epochs.x", 1}}, "HPT_PARAMS"),
                    "HPT_PARAMS: epochs.x: 'epochs' is 3, not a section of settings");
  CHECK_THROWS_WITH(merge_settings(fixed, {{"intermediate_ff_block_units", "big"}}, "HPT_PARAMS"),
                    "HPT_PARAMS: intermediate_ff_block_units: expected e.g. \"512-256\", got "
                    "\"big\"");
  CHECK_THROWS_AS(
      merge_settings(fixed, {{"intermediate_ff_block_units", "99999999999999999999-1"}}, "P"),
      hpt::ConfigError);
}

// Names a search space may use: top-level keys and section keys; others get a hint.
TEST_CASE("setting names", "[experiment][settings]") {
  CHECK(hpt::trainer::setting_problem("epochs").empty());
  CHECK(hpt::trainer::setting_problem("dataset.image_size").empty());
  CHECK(hpt::trainer::setting_problem("lerning_rate") ==
        "'lerning_rate' is not a setting of the built-in trainer (did you mean 'learning_rate'?)");
  CHECK_THAT(hpt::trainer::setting_problem("dataset.imag_size"),
             Catch::Contains("did you mean 'dataset.image_size'"));
  CHECK_FALSE(hpt::trainer::setting_problem("epochs.x").empty());
  // What a trial is judged by is the study's, not a trial's.
  CHECK(hpt::trainer::setting_problem("constraints") ==
        "'constraints' defines what the study optimises and cannot be searched; set it in fixed");
  CHECK_THAT(hpt::trainer::setting_problem("objectives"),
             Catch::StartsWith("'objectives' defines"));
  const json fixed = {{"epochs", 3}, {"dataset", {{"image_size", 32}}}};
  CHECK(hpt::trainer::sets_setting(fixed, "epochs"));
  CHECK(hpt::trainer::sets_setting(fixed, "dataset.image_size"));
  CHECK_FALSE(hpt::trainer::sets_setting(fixed, "dataset.path"));
  CHECK_FALSE(hpt::trainer::sets_setting(fixed, "epochs.x"));
}
