#include <limits.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/study_check.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/storage/sql_storage.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// A study of a shell command in dir's s.db with search_space (YAML) and extra study keys.
StudyConfig command_study(const hpt::test::TempDir& dir, const std::string& search_space,
                          const std::string& extra = "") {
  return parse_study_config("study: {name: s, storage: " + dir.file("s.db") + extra +
                                "}\nobjective: {command: [true]}\nsearch_space: " + search_space +
                                "\n",
                            "t.yaml");
}

}  // namespace

// A study that passes returns its trials folder, <stem>_trials/<study> beside the database,
// and makes nothing.
TEST_CASE("study check: a good study gets its trials folder", "[study_check]") {
  hpt::test::TempDir dir("check");
  const StudyConfig c = command_study(dir, "{a: [1, 2]}");
  CHECK(check_study(c, RunOptions{}) == dir.file("s_trials/s"));
  CHECK_FALSE(std::filesystem::exists(dir.file("s_trials")));
  StudyConfig elsewhere = command_study(dir, "{a: [1, 2]}", ", trials_dir: " + dir.file("runs"));
  CHECK(check_study(elsewhere, RunOptions{}) == dir.file("runs/s"));
}

// A name made in code is checked by the YAML's rule; a trials folder path too long for the
// system is refused before anything is made.
TEST_CASE("study check: study name and trials folder length", "[study_check]") {
  hpt::test::TempDir dir("check");
  StudyConfig c = command_study(dir, "{a: [1]}");
  c.name = "";
  CHECK_THROWS_WITH(check_study(c, RunOptions{}), Catch::StartsWith("study name: "));
  c.name = std::string(k_max_study_name_chars + 1, 'n');
  CHECK_THROWS_WITH(check_study(c, RunOptions{}), Catch::StartsWith("study name: "));
  StudyConfig deep = command_study(dir, "{a: [1]}");
  deep.trials_dir = dir.file(std::string(PATH_MAX, 'd'));
  CHECK_THROWS_WITH(
      check_study(deep, RunOptions{}),
      Catch::StartsWith("trials folder '") && Catch::EndsWith("...' is too long a path"));
}

// The longest HPT_PARAMS a trial can get: every parameter at its longest value (a number at
// 24 characters, a categorical's longest choice), and the parameter that makes it longest.
TEST_CASE("study check: longest_params_env", "[study_check]") {
  hpt::test::TempDir dir("check");
  const size_t prefix = std::strlen("HPT_PARAMS=");
  StudyConfig fixed_only = command_study(dir, "{a: [1]}");
  fixed_only.search_space.clear();
  const auto none = longest_params_env(fixed_only);
  CHECK(none.first == prefix + 2);  // {}
  CHECK(none.second.empty());
  const auto number = longest_params_env(command_study(dir, "{x: {type: float, low: 0, high: 1}}"));
  CHECK(number.first == prefix + std::strlen(R"({"x":-1.2345678901234567e+308})"));
  CHECK(number.second == "x");
  const auto choice = longest_params_env(command_study(
      dir, "{x: {type: int, low: 0, high: 9}, c: [\"a\", \"" + std::string(100, 'z') + "\"]}"));
  CHECK(choice.first == prefix + std::strlen(R"({"c":"","x":-1.2345678901234567e+308})") + 100);
  CHECK(choice.second == "c");
}

// What a worker gets in its environment must fit Linux's limit on one variable: the fixed
// section (HPT_FIXED) and the parameters at their longest (HPT_PARAMS), each named.
TEST_CASE("study check: the worker's environment fits", "[study_check]") {
  hpt::test::TempDir dir("check");
  StudyConfig fixed = command_study(dir, "{a: [1]}");
  fixed.fixed = Json{{"blob", std::string(140000, 'x')}};
  CHECK_THROWS_WITH(check_study(fixed, RunOptions{}),
                    "t.yaml: fixed: 140021 bytes as JSON, but workers get it in HPT_FIXED and "
                    "Linux passes at most 131071 bytes in one environment variable");
  const StudyConfig wide =
      command_study(dir, "{small: [1], a: [\"1\", \"" + std::string(140000, 'x') + "\"]}");
  CHECK_THROWS_WITH(check_study(wide, RunOptions{}),
                    "t.yaml: search_space.a: its longest value makes HPT_PARAMS 140052 bytes, but "
                    "workers get their parameters in HPT_PARAMS and Linux passes at most 131071 "
                    "bytes in one environment variable");
}

// A trials folder that cannot be made is refused naming study.trials_dir when that chose it;
// one that holds another study's trials is refused for a new study only.
TEST_CASE("study check: the trials folder", "[study_check]") {
  hpt::test::TempDir dir("check");
  std::ofstream(dir.file("blocked")) << "a file where the trials folder goes\n";
  const StudyConfig blocked =
      command_study(dir, "{a: [1]}", ", trials_dir: " + dir.file("blocked"));
  CHECK_THROWS_WITH(check_study(blocked, RunOptions{}), Catch::Contains("study.trials_dir: "));
  const StudyConfig shared = command_study(dir, "{a: [1]}", ", trials_dir: " + dir.file("runs"));
  std::filesystem::create_directories(dir.file("runs/s"));
  record_folder_study_key(dir.file("runs/s"), "0123456789abcdef0123456789abcdef");
  CHECK_THROWS_WITH(check_study(shared, RunOptions{}, true),
                    Catch::Contains("holds the trials of another study named 's'"));
  CHECK(check_study(shared, RunOptions{}, false) == dir.file("runs/s"));
}

// A built-in trainer study whose trials folder would lie inside its folder dataset (the
// database kept in the dataset's folder) is refused before any trial: every trial's files would
// become a class of images, and each trial failed on it.
TEST_CASE("study check: a trials folder inside a folder dataset is refused", "[study_check]") {
  hpt::test::TempDir dir("orch");
  std::filesystem::create_directories(dir.path() / "data" / "cat");
  const auto c = parse_study_config(
      "study: {name: s, direction: maximize, storage: " + (dir.path() / "data" / "s.db").string() +
          "}\nfixed:\n  dataset: {format: folder, path: " + (dir.path() / "data").string() +
          "}\nsearch_space:\n  margin: {type: float, low: 0.1, high: 0.5}\n",
      "t.yaml");
  auto storage = open_storage(c.storage);
  std::ostringstream out;
  RunOptions o;
  o.trials = 1;
  CHECK_THROWS_WITH(run_study(c, *storage, o, out),
                    Catch::StartsWith("the study's trials folder '") &&
                        Catch::Contains("is inside dataset.path") &&
                        Catch::Contains("study.trials_dir"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "s_trials"));
}
