#include <catch2/catch.hpp>
#include <fstream>

#include "hpt/engine/dataset_check.hpp"
#include "hpt/schema/config_error.hpp"
#include "support/temp_dir.hpp"

namespace {

// A built-in trainer study (no objective) over a dataset that need not exist: check_trainer_dataset
// only hands the fixed settings to the trainer script.
hpt::StudyConfig builtin(const std::string& space) {
  hpt::StudyConfig c;
  c.file = "cfg.yaml";
  c.fixed = hpt::Json{{"dataset", {{"format", "folder"}, {"path", "/data"}}}};
  c.search_space = {{space, hpt::CategoricalDistribution{{1, 2}}}};
  return c;
}

}  // namespace

// The trainer's refusal becomes one line naming the config and the setting under fixed; its
// environment holds the study's fixed settings; nothing is run when trials may load other data.
TEST_CASE("check_trainer_dataset", "[dataset_check]") {
  hpt::test::TempDir dir("datacheck");
  const std::string seen = dir.file("seen");
  CHECK_NOTHROW(hpt::check_trainer_dataset(
      builtin("embedding_dim"),
      dir.script("ok", "[ \"$1\" = check-data ] && printf '%s' \"$HPT_FIXED\" > " + seen)));
  std::ifstream in(seen);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) ==
        R"({"dataset":{"format":"folder","path":"/data"}})");
  CHECK_THROWS_WITH(
      hpt::check_trainer_dataset(
          builtin("embedding_dim"),
          dir.script("bad",
                     "echo 'loading' >&2; echo 'hpt: error: HPT_FIXED: dataset.path: cannot "
                     "decode image /data/a/1.png: not PNG data' >&2; exit 1")),
      "cfg.yaml: fixed.dataset.path: cannot decode image /data/a/1.png: not PNG data");
  CHECK_THROWS_WITH(
      hpt::check_trainer_dataset(
          builtin("embedding_dim"),
          dir.script("default",
                     "echo 'hpt: error: dataset.val_fraction: the val split has 1 image' >&2; "
                     "exit 1")),
      "cfg.yaml: fixed.dataset.val_fraction: the val split has 1 image");
  CHECK_THROWS_AS(hpt::check_trainer_dataset(builtin("embedding_dim"), dir.file("bad")),
                  hpt::ConfigError);  // A setting's problem: exit 2, as a config mistake.
  // Not a setting (a silent exit, the cache folder) or not the dataset at all (a signal): a plain
  // error, not the config's.
  try {
    hpt::check_trainer_dataset(builtin("embedding_dim"), dir.script("silent", "exit 3"));
    FAIL("no error");
  } catch (const hpt::ConfigError&) {
    FAIL("a ConfigError");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("the built-in trainer cannot load the dataset: `") &&
                             Catch::EndsWith("exited with status 3"));
  }
  CHECK_THROWS_WITH(
      hpt::check_trainer_dataset(builtin("embedding_dim"), dir.script("killed", "kill -9 $$")),
      Catch::Contains("check-data`) was killed by signal 9 (SIGKILL)"));
  CHECK_THROWS_WITH(
      hpt::check_trainer_dataset(
          builtin("embedding_dim"),
          dir.script("cache",
                     "echo 'hpt: error: the cache folder (HPT_CACHE_DIR): not writable' "
                     ">&2; exit 1")),
      "the built-in trainer cannot load the dataset: the cache folder (HPT_CACHE_DIR): not "
      "writable");
  // A searched dataset key or extractor: each trial checks its own data; nothing is run.
  CHECK_NOTHROW(hpt::check_trainer_dataset(builtin("dataset.image_size"), dir.file("missing")));
  CHECK_NOTHROW(hpt::check_trainer_dataset(builtin("feature_extractor"), dir.file("missing")));
  hpt::StudyConfig command = builtin("embedding_dim");
  command.command = {"python3", "x.py"};
  CHECK_NOTHROW(hpt::check_trainer_dataset(command, dir.file("missing")));
  CHECK_THROWS_WITH(hpt::check_trainer_dataset(builtin("embedding_dim"), dir.file("missing")),
                    Catch::StartsWith("the built-in trainer: cannot run `"));
}
