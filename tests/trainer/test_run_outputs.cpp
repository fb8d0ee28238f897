#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/run_outputs.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using hpt::trainer::run_output_problem;

namespace {

hpt::trainer::ExperimentConfig folder_config(const fs::path& data) {
  hpt::trainer::ExperimentConfig c;
  c.dataset.format = "folder";
  c.dataset.path = data.string();
  return c;
}

}  // namespace

// An output folder inside a class-folder dataset would add the run's sprite.png to the data
// the next run trains on; an IDX dataset reads its files by name, so a run may sit beside them.
TEST_CASE("run_output_problem: not inside a folder dataset", "[run_outputs]") {
  hpt::test::TempDir dir;
  fs::create_directories(dir.path() / "data" / "cat");
  auto c = folder_config(dir.path() / "data");
  CHECK(run_output_problem((dir.path() / "out").string(), c).empty());
  for (const auto& inside : {dir.path() / "data", dir.path() / "data" / "cat",
                             dir.path() / "data" / "run", dir.path() / "data" / "x" / ".." / "y"}) {
    CHECK_THAT(run_output_problem(inside.string(), c), Catch::Contains("is inside dataset.path"));
  }
  fs::create_directory_symlink(dir.path() / "data", dir.path() / "link");
  CHECK_THAT(run_output_problem((dir.path() / "link" / "cat").string(), c),
             Catch::Contains("is inside dataset.path"));
  c.dataset.format = "idx";
  CHECK(run_output_problem((dir.path() / "data" / "run").string(), c).empty());
}

// A user's TorchScript extractor kept in the output folder under a name the run writes (or
// reached through a link there) would be overwritten by the run's own head.pt / cnn.pt.
TEST_CASE("run_output_problem: never replaces the feature extractor", "[run_outputs]") {
  hpt::test::TempDir dir;
  fs::create_directories(dir.path() / "data");
  fs::create_directories(dir.path() / "out");
  auto c = folder_config(dir.path() / "data");
  c.feature_extractor = (dir.path() / "out" / "head.pt").string();
  std::ofstream(c.feature_extractor) << "model";
  CHECK_THAT(run_output_problem((dir.path() / "out").string(), c),
             Catch::Contains("would replace the feature_extractor"));
  c.feature_extractor = (dir.path() / "resnet.pt").string();
  std::ofstream(c.feature_extractor) << "model";
  CHECK(run_output_problem((dir.path() / "out").string(), c).empty());
  fs::create_symlink(c.feature_extractor, dir.path() / "out" / "cnn.pt");
  CHECK_THAT(run_output_problem((dir.path() / "out").string(), c),
             Catch::Contains("out/cnn.pt' would replace the feature_extractor"));
}

// The config the run was read from, kept in the output folder under a name the run writes
// (metadata.tsv, model.json), would be overwritten by it.
TEST_CASE("run_output_problem: never replaces the run's config", "[run_outputs]") {
  hpt::test::TempDir dir;
  fs::create_directories(dir.path() / "data");
  fs::create_directories(dir.path() / "out");
  const auto c = folder_config(dir.path() / "data");
  const std::string config = (dir.path() / "out" / "metadata.tsv").string();
  std::ofstream(config) << "dataset: {}";
  CHECK_THAT(run_output_problem((dir.path() / "out").string(), c, config),
             Catch::Contains("out/metadata.tsv' would replace the config '" + config + "'"));
  CHECK(run_output_problem((dir.path() / "out").string(), c).empty());  // No config named.
  CHECK(run_output_problem((dir.path() / "out").string(), c,
                           (dir.path() / "exp.yaml").string()).empty());
}

// A folder or FIFO where the run writes a file is found before the training, not after it.
TEST_CASE("run_output_problem: output names taken by other kinds of files", "[run_outputs]") {
  hpt::test::TempDir dir;
  fs::create_directories(dir.path() / "data");
  const auto c = folder_config(dir.path() / "data");
  const fs::path out = dir.path() / "out";
  fs::create_directories(out / "vectors.tsv");
  CHECK_THAT(run_output_problem(out.string(), c),
             Catch::Contains("vectors.tsv' exists and is not a file"));
  fs::remove(out / "vectors.tsv");
  REQUIRE(::mkfifo((out / "metrics.json").c_str(), 0600) == 0);
  CHECK_THAT(run_output_problem(out.string(), c), Catch::Contains("metrics.json"));
  fs::remove(out / "metrics.json");
  std::ofstream(out / "metrics.json") << "{}";  // An earlier run's files are replaced.
  CHECK(run_output_problem(out.string(), c).empty());
  std::ofstream(dir.path() / "a-file") << "x";
  CHECK_THAT(run_output_problem((dir.path() / "a-file").string(), c),
             Catch::Contains("not a folder"));
}

// A study's trials share one folder beside theirs, however the trial folder is spelled.
TEST_CASE("trial_shared_dir: beside the trial folders", "[run_outputs]") {
  using hpt::trainer::trial_shared_dir;
  CHECK(trial_shared_dir("/runs/study/3") == "/runs/study/.shared");
  CHECK(trial_shared_dir("/runs/study/3/") == "/runs/study/.shared");
  CHECK(trial_shared_dir("/runs/study/./3") == "/runs/study/.shared");
  CHECK(trial_shared_dir("study/3") == "study/.shared");
  CHECK(trial_shared_dir("3") == ".shared");
}
