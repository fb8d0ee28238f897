#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "hpt/engine/best_experiment.hpp"
#include "hpt/experiment/experiment_config.hpp"
#include "hpt/experiment/trial_settings.hpp"
#include "hpt/schema/yaml_document.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

const Json k_fixed = {{"dataset", {{"format", "idx"}, {"path", "/data/fashion"}}},
                      {"epochs", 7},
                      {"pretrain_epochs", 1}};

// A study of one COMPLETE trial (embedding_dim, dropout searched) whose last run recorded
// settings; the trial's log is dir/0.log when dir is given.
struct Study {
  std::unique_ptr<Storage> storage;
  StudyInfo info;
  FrozenTrial trial;
};

Study make_study(const std::string& db, const std::string& name, const Json& settings,
                 const std::string& log_dir = "") {
  Study s;
  s.storage = open_storage(db);
  const int64_t id = s.storage->create_study(name, Direction::Maximize);
  if (!settings.is_null()) {
    s.storage->set_study_system_attr(id, k_run_settings_attr, settings);
  }
  FrozenTrial t;
  t.state = TrialState::Complete;
  t.value = 0.93;
  t.distributions = {{"embedding_dim", CategoricalDistribution{{32, 64}}},
                     {"dropout", FloatDistribution{0.0, 0.5, false, std::nullopt}}};
  t.params = {{"embedding_dim", 0}, {"dropout", 0.25}};
  if (!log_dir.empty()) {
    t.system_attrs[k_log_attr] = log_dir + "/0.log";
  }
  s.storage->create_trial(id, t);
  s.info = *s.storage->find_study(name);
  s.trial = s.storage->get_all_trials(id).at(0);
  return s;
}

Json builtin_settings() { return {{"fixed", k_fixed}, {"command", Json::array()}}; }

// The config hpt train reads from text.
Json trained_config(const std::string& text) {
  return trainer::to_json(trainer::parse_experiment(parse_yaml(text, "best.yaml"), "best.yaml"));
}

// The config the worker runs trial with.
Json worker_config(const FrozenTrial& trial) {
  return trainer::to_json(trainer::experiment_from_json(
      trainer::merge_settings(k_fixed, trial.external_params(), "t"), "t"));
}

}  // namespace

TEST_CASE("best_experiment_yaml merges the study's fixed settings with the trial's params") {
  hpt::test::TempDir dir("best-exp");
  auto s = make_study(dir.file("s.db"), "s", builtin_settings());
  const std::string text = best_experiment_yaml(*s.storage, s.info, s.trial, {});
  INFO(text);
  CHECK(text.rfind("# trial 0 of study \"s\" (value 0.93)\n", 0) == 0);
  CHECK(text.find("its model.json is gone") != std::string::npos);
  CHECK(trained_config(text) == worker_config(s.trial));
  // Only what differs from the defaults is written: no key at its default value.
  CHECK(text.find("embedding_dim: 32\n") != std::string::npos);
  CHECK(text.find("dropout: 0.25\n") != std::string::npos);
  CHECK(text.find("learning_rate") == std::string::npos);
  CHECK(text.find("val_fraction") == std::string::npos);
}

TEST_CASE("best_experiment_yaml takes the config the trial's model was trained with") {
  hpt::test::TempDir dir("best-exp");
  const std::string trials = dir.file("s_trials");
  std::filesystem::create_directories(trials + "/0");
  std::ofstream(trials + "/0.log") << "log\n";
  Json model_config = worker_config(make_study(dir.file("x.db"), "x", builtin_settings()).trial);
  model_config["epochs"] = 11;  // The study's fixed settings changed since this trial ran.
  std::ofstream(trials + "/0/model.json") << Json{{"config", model_config}}.dump();
  auto s = make_study(dir.file("s.db"), "s", builtin_settings(), trials);
  const std::string text = best_experiment_yaml(*s.storage, s.info, s.trial, {dir.path()});
  INFO(text);
  CHECK(text.find("# the config its model was trained with: \"" + trials + "/0/model.json\"") !=
        std::string::npos);
  CHECK(trained_config(text) == model_config);

  SECTION("an unreadable model.json: the merge, saying why") {
    std::ofstream(trials + "/0/model.json") << "{not json";
    const std::string merged = best_experiment_yaml(*s.storage, s.info, s.trial, {dir.path()});
    CHECK(merged.find("its model.json is unreadable") != std::string::npos);
    CHECK(trained_config(merged) == worker_config(s.trial));
  }
  SECTION("a model.json nested 100,000 deep, or holding bytes that are not UTF-8") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    for (const std::string& text : {"{\"config\": " + deep + "}",
                                    std::string("{\"config\": {\"experiment_name\": \"\xff\"}}")}) {
      std::ofstream(trials + "/0/model.json") << text;
      const std::string merged = best_experiment_yaml(*s.storage, s.info, s.trial, {dir.path()});
      CHECK(merged.find("its model.json is unreadable") != std::string::npos);
      CHECK(trained_config(merged) == worker_config(s.trial));
    }
  }
}

TEST_CASE("best_experiment_yaml refuses what it cannot give, and keeps hostile names in comments") {
  hpt::test::TempDir dir("best-exp");
  SECTION("a command objective") {
    auto s = make_study(dir.file("s.db"), "s",
                        {{"fixed", Json::object()}, {"command", Json::array({"python3", "o.py"})}});
    CHECK_THROWS_WITH(best_experiment_yaml(*s.storage, s.info, s.trial, {}),
                      Catch::Contains("runs a command objective, not the built-in trainer"));
  }
  SECTION("no settings and no model") {
    auto s = make_study(dir.file("s.db"), "s", Json());
    CHECK_THROWS_WITH(best_experiment_yaml(*s.storage, s.info, s.trial, {}),
                      Catch::Contains("records no fixed settings"));
  }
  SECTION("a study name that is not UTF-8") {
    auto s = make_study(dir.file("s.db"), "bad\xffname", builtin_settings());
    const std::string text = best_experiment_yaml(*s.storage, s.info, s.trial, {});
    CHECK(text.find("bad\ufffdname") != std::string::npos);
    CHECK(trained_config(text) == worker_config(s.trial));
  }
  SECTION("a study name with a line break") {
    auto s = make_study(dir.file("s.db"), "s\nepochs: 99", builtin_settings());
    const std::string text = best_experiment_yaml(*s.storage, s.info, s.trial, {});
    CHECK(trained_config(text) == worker_config(s.trial));
    CHECK(text.find("\nepochs: 99") == std::string::npos);
  }
}
