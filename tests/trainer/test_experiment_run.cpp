#include <fmt/format.h>
#include <sys/resource.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/experiment/experiment_config.hpp"
#include "hpt/io/usable_cores.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/trainer/experiment_run.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "small_experiment.hpp"
#include "support/temp_dir.hpp"
#include "synthetic_idx.hpp"
#include "torchscript_models.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

namespace {

// A small experiment on the synthetic IDX data with a private cache, using `model` (a copy
// of cnn_a.pt inside data) as the extractor.
ExperimentConfig tiny_experiment(const std::string& data, const std::string& model) {
  ::setenv("HPT_CACHE_DIR", (data + "/cache").c_str(), 1);
  return hpt::test::small_experiment("idx", data, model);
}

// Files in dir whose name ends in ".pt" (cache entries, not their lock files).
int count_pt(const std::string& dir) {
  int n = 0;
  if (fs::exists(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      n += e.path().extension() == ".pt";
    }
  }
  return n;
}

// Each entry of dir and its bytes.
std::map<std::string, std::string> contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().filename().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

// A TorchScript module's parameters, copied.
std::vector<torch::Tensor> script_params(const std::string& path) {
  std::vector<torch::Tensor> out;
  for (const auto& p : torch::jit::load(path).parameters()) {
    out.push_back(p.detach().clone());
  }
  return out;
}

}  // namespace

// A user's frozen TorchScript extractor: features computed once into the cache (no built-in
// CNN pretraining), the saved model holds a copy of the file, and reloading it reproduces the
// test embeddings' distances below the saved threshold scale.
TEST_CASE("frozen torchscript extractor end to end", "[training][torchscript]") {
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  const std::string data = hpt::test::make_synthetic_idx("ts-frozen");
  fs::copy_file(models + "/cnn_a.pt", data + "/user.pt");
  ExperimentConfig c = tiny_experiment(data, data + "/user.pt");
  RunOptions o;
  o.run_seed = 3;
  o.out_dir = data + "/run";
  std::ostringstream log;
  o.log = &log;
  auto r = run_experiment(c, o);
  CHECK(count_pt(data + "/cache/features") == 1);
  CHECK_FALSE(fs::exists(data + "/cache/cnn"));
  CHECK_THAT(log.str(), Catch::Contains("features: computed"));
  CHECK(r.loop.epochs_run == 2);
  CHECK(r.test_roc_auc > 0.75);  // Random conv features keep the lit quadrant.
  // The raw-feature baseline is scored on the same test pairs and written next to the result.
  CHECK(r.baseline_test_roc_auc > 0.5);
  CHECK(r.baseline_test_roc_auc <= 1.0);
  CHECK_THAT(log.str(), Catch::Contains("raw extractor features") &&
                            Catch::Contains("device: cpu") && Catch::Contains("min/class"));
  std::ifstream metrics_in(o.out_dir + "/metrics.json");
  auto metrics = nlohmann::json::parse(metrics_in);
  CHECK(metrics.at("baseline_test_roc_auc").get<double>() == r.baseline_test_roc_auc);
  CHECK(metrics.at("device").get<std::string>().rfind("cpu", 0) == 0);
  CHECK(metrics.at("inference_ms").is_null());  // Not an objective: not measured (it read 0.0).
  CHECK_FALSE(r.inference_ms);
  std::ifstream in(o.out_dir + "/model.json");
  auto model_json = nlohmann::json::parse(in);
  CHECK(model_json.at("extractor").at("source") == data + "/user.pt");
  // The model folder holds a copy of the frozen module: it stands alone.
  CHECK(model_json.at("extractor").at("file") == "extractor.pt");
  CHECK(fs::file_size(o.out_dir + "/extractor.pt") == fs::file_size(data + "/user.pt"));
  CHECK(fs::hard_link_count(data + "/user.pt") == 1);  // A copy: user.pt may be re-exported.
  {  // A study's trials link to one copy in their shared folder.
    RunOptions trial = o;
    trial.shared_dir = data + "/trials/.shared";
    std::ostringstream quiet;
    trial.log = &quiet;
    for (const char* n : {"0", "1"}) {
      trial.out_dir = data + "/trials/" + n;
      run_experiment(c, trial);
    }
    CHECK(fs::equivalent(data + "/trials/0/extractor.pt", data + "/trials/1/extractor.pt"));
    CHECK(fs::hard_link_count(data + "/trials/0/extractor.pt") == 3);
    CHECK(fs::hard_link_count(data + "/user.pt") == 1);
    CHECK_NOTHROW(load_model(data + "/trials/1"));
  }
  const std::string model_dir = o.out_dir;
  CHECK_THAT(log.str(), !Catch::Contains("note: "));  // 4 x 4 batches fit the split.
  // A second run (another trial) reuses the cached features. Batches the split cannot fill as
  // asked are said once each.
  std::ostringstream log2;
  o.log = &log2;
  o.out_dir.clear();
  c.classes_per_batch = 9;
  c.images_per_class = 1000;
  run_experiment(c, o);
  CHECK_THAT(log2.str(), Catch::Contains("features: cached"));
  CHECK_THAT(log2.str(), Catch::Contains("note: classes_per_batch 9 is more than the 4 classes of "
                                         "the train split: a batch holds 4\n") &&
                             Catch::Contains("note: images_per_class 1000 is more than the 24 "
                                             "images of the train split's smallest class"));
  CHECK_THAT(log2.str(), !Catch::Contains("warmup_steps"));
  // A warm-up longer than the whole run is said (the learning rate never reaches its value).
  std::ostringstream log3;
  o.log = &log3;
  c.warmup_steps = 1000000;
  c.epochs = 2;
  run_experiment(c, o);
  CHECK_THAT(log3.str(), Catch::Contains("note: warmup_steps 1000000 is more than the run's ") &&
                             Catch::Contains("the learning rate never reaches learning_rate"));
  c.warmup_steps = 0;
  CHECK(count_pt(data + "/cache/features") == 1);
  fs::remove(data + "/user.pt");
  CHECK_NOTHROW(load_model(model_dir));
}

// device: cuda on a machine without CUDA stops before any work with the key's location.
TEST_CASE("device cuda without CUDA names the key", "[training][device]") {
  if (torch::cuda::is_available()) {
    WARN("CUDA available: the no-CUDA error is not reachable here");
    return;
  }
  const std::string data = hpt::test::make_synthetic_idx("no-cuda");
  ExperimentConfig c = tiny_experiment(data, "builtin-cnn");
  c.device = "cuda";
  c.origins["device"] = "exp.yaml:7: device";
  CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                    Catch::StartsWith("exp.yaml:7: device: cuda requested"));
  c.device = "cpu";
  c.precision = "fp16";
  CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                    Catch::StartsWith("precision: fp16 needs a CUDA device"));
}

// A dataset or TorchScript extractor that cannot be loaded is named by its key and line.
TEST_CASE("a dataset or extractor that cannot be loaded is named by its key", "[training]") {
  hpt::test::TempDir tmp("bad-dataset");
  fs::create_directories(tmp.path() / "empty_class");
  for (const char* format : {"folder", "idx", "tiny-imagenet"}) {
    INFO(format);
    const ExperimentConfig c = parse_experiment(
        YAML::Load(fmt::format("experiment_name: x\nepochs: 1\ndataset:\n  format: {}\n  "
                               "path: {}\n",
                               format, tmp.path().string())),
        "exp.yaml");
    CHECK_THROWS_WITH(
        run_experiment(c, RunOptions()),
        Catch::StartsWith("exp.yaml:5: dataset.path: ") && Catch::Contains(tmp.path().string()));
  }
  // A cache folder that cannot be one is named as such, not blamed on the dataset.
  const std::string data_dir = hpt::test::make_synthetic_idx("bad-cache");
  std::ofstream(tmp.file("cache-file")) << "x";
  const char* saved_cache = std::getenv("HPT_CACHE_DIR");
  const std::string saved = saved_cache ? saved_cache : "";
  ::setenv("HPT_CACHE_DIR", tmp.file("cache-file").c_str(), 1);
  const ExperimentConfig cached = parse_experiment(
      YAML::Load(fmt::format("dataset: {{format: idx, path: {}}}\n", data_dir)), "exp.yaml");
  CHECK_THROWS_WITH(run_experiment(cached, RunOptions()),
                    "the cache folder (HPT_CACHE_DIR, default ~/.cache/hpt): '" +
                        tmp.file("cache-file") + "' exists and is not a folder");
  saved_cache ? ::setenv("HPT_CACHE_DIR", saved.c_str(), 1) : ::unsetenv("HPT_CACHE_DIR");
  // A TorchScript extractor that is not there is named before the dataset is loaded.
  const ExperimentConfig missing = parse_experiment(
      YAML::Load(fmt::format("feature_extractor: {}\ndataset: {{format: folder, path: {}}}\n",
                             tmp.file("resnet.pt"), tmp.path().string())),
      "exp.yaml");
  CHECK_THROWS_WITH(run_experiment(missing, RunOptions()),
                    "exp.yaml:1: feature_extractor: no such file '" + tmp.file("resnet.pt") + "'");
  // One that is not TorchScript: named too, LibTorch's message without its C++ backtrace.
  const std::string data = hpt::test::make_synthetic_idx("junk-extractor");
  std::ofstream(data + "/junk.pt") << "not a zip archive";
  const ExperimentConfig junk = parse_experiment(
      YAML::Load(fmt::format("feature_extractor: {}/junk.pt\ndataset: {{format: idx, path: {}}}\n",
                             data, data)),
      "exp.yaml");
  CHECK_THROWS_WITH(run_experiment(junk, RunOptions()),
                    Catch::StartsWith("exp.yaml:1: feature_extractor: cannot load TorchScript "
                                      "extractor ") &&
                        !Catch::Contains("\n") && !Catch::Contains("Exception raised from"));
}

// trainable_extractor fine-tunes the TorchScript weights (with augmentation on): nothing is
// cached, extractor.pt differs from the user's file, and the saved model loads it.
TEST_CASE("trainable torchscript extractor with augmentation", "[training][torchscript]") {
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  const std::string data = hpt::test::make_synthetic_idx("ts-trainable");
  fs::copy_file(models + "/cnn_a.pt", data + "/user.pt");
  ExperimentConfig c = tiny_experiment(data, data + "/user.pt");
  c.trainable_extractor = true;
  c.image_augmentation = true;
  c.learning_rate = 0.01;
  RunOptions o;
  o.run_seed = 4;
  o.out_dir = data + "/run";
  auto r = run_experiment(c, o);
  CHECK(count_pt(data + "/cache/features") == 0);
  CHECK(r.loop.history.size() == 2);
  for (const auto& e : r.loop.history) {
    CHECK(std::isfinite(e.train_loss));
  }
  REQUIRE(fs::exists(o.out_dir + "/extractor.pt"));
  auto before = script_params(data + "/user.pt");
  auto after = script_params(o.out_dir + "/extractor.pt");
  REQUIRE(before.size() == after.size());
  double change = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    change += (after[i] - before[i]).abs().sum().item<double>();
  }
  CHECK(change > 1e-3);
  SavedModel saved = load_model(o.out_dir);
  auto loaded = saved.extractor.parameters();
  REQUIRE(loaded.size() == after.size());
  CHECK(torch::equal(loaded[0], after[0]));
}

// A frozen extractor with augmentation trains on features of augmented images computed on
// the fly (so augmentation changes training), while validation and test use the cache.
TEST_CASE("frozen extractor with augmentation computes training features on the fly",
          "[training][torchscript]") {
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  const std::string data = hpt::test::make_synthetic_idx("ts-augment");
  fs::copy_file(models + "/cnn_a.pt", data + "/user.pt");
  ExperimentConfig c = tiny_experiment(data, data + "/user.pt");
  RunOptions o;
  o.run_seed = 5;
  auto plain = run_experiment(c, o);
  c.image_augmentation = true;
  std::ostringstream log;
  o.log = &log;
  auto augmented = run_experiment(c, o);
  CHECK_THAT(log.str(), Catch::Contains("features: cached"));
  CHECK_THAT(log.str(), Catch::Contains("on the fly"));
  CHECK(count_pt(data + "/cache/features") == 1);
  REQUIRE(plain.loop.history.size() == 2);
  REQUIRE(augmented.loop.history.size() == 2);
  // Same seeds and batches: only the augmented inputs can make the losses differ.
  CHECK(plain.loop.history[0].train_loss != augmented.loop.history[0].train_loss);
  c.image_augmentation = false;
  o.log = nullptr;
  auto again = run_experiment(c, o);
  CHECK(again.loop.history[0].train_loss == plain.loop.history[0].train_loss);
}

// A split that cannot serve the run (empty train, a val split without a same-class pair) is
// refused right after loading, naming the split, its counts and the key: before any CNN is
// pretrained (an empty train split used to pretrain on 0 images, cache that CNN and hang).
TEST_CASE("an unusable split is refused before pretraining", "[training][split]") {
  hpt::test::TempDir tmp("split-check");
  const std::string pool = tmp.path().string();
  hpt::test::write_idx_pool(pool, "train", 4, 1);  // 4 classes x 4 images, no t10k pool.
  ExperimentConfig c = tiny_experiment(pool, "builtin-cnn");
  c.dataset.val_fraction = 0.499;
  c.dataset.test_fraction = 0.499;
  c.origins["dataset.val_fraction"] = "exp.yaml:9: dataset.val_fraction";
  CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                    Catch::StartsWith("exp.yaml:9: dataset.val_fraction: the train split has 0 "
                                      "images in 0 of 4 classes") &&
                        !Catch::Contains("\n"));
  CHECK_FALSE(fs::exists(pool + "/cache/cnn"));
  // A held-out t10k pool of one image per class: val gets 2 images of 2 classes.
  const std::string data = hpt::test::make_synthetic_idx("split-check-t10k", 4, 1);
  ExperimentConfig held_out = tiny_experiment(data, "builtin-cnn");
  CHECK_THROWS_WITH(run_experiment(held_out, RunOptions()),
                    Catch::StartsWith("dataset.path: the val split has 2 images in 2 of 4 "
                                      "classes (largest class 1)"));
  CHECK_FALSE(fs::exists(data + "/cache/cnn"));
  // Fractions given for a dataset with a held-out pool split evenly would do nothing.
  ExperimentConfig ignored = tiny_experiment(data, "builtin-cnn");
  ignored.dataset.test_fraction = 0.3;
  ignored.origins["dataset.test_fraction"] = "exp.yaml:5: dataset.test_fraction";
  CHECK_THROWS_WITH(run_experiment(ignored, RunOptions()),
                    Catch::StartsWith("exp.yaml:5: dataset.test_fraction: has no effect on this "
                                      "idx dataset: its held-out images (the t10k files)"));
}

// More threads than the cores this process may use is said in the run's log, naming the key.
TEST_CASE("threads beyond the cores are noted", "[training][threads]") {
  hpt::test::TempDir tmp("threads-note");
  const int cores = hpt::usable_cores();
  const ExperimentConfig c = parse_experiment(
      YAML::Load(fmt::format("dataset: {{format: folder, path: {}}}\nthreads: {}\n",
                             tmp.path().string(), cores + 1)),
      "exp.yaml");
  std::ostringstream log;
  RunOptions options;
  options.log = &log;
  CHECK_THROWS(run_experiment(c, options));  // An empty folder: no classes.
  CHECK_THAT(log.str(),
             Catch::Contains(fmt::format("warning: exp.yaml:2: threads: {} threads on {} "
                                         "cores: they spin against each other",
                                         cores + 1, cores)));
  ExperimentConfig fits = c;
  fits.threads = cores;
  std::ostringstream quiet;
  options.log = &quiet;
  CHECK_THROWS(run_experiment(fits, options));
  CHECK_THAT(quiet.str(), !Catch::Contains("threads on"));
}

// An extractor whose features are all NaN or all inf stops the run with one line naming its
// key, its file and the split (roc_auc used to loop forever on NaN distances).
TEST_CASE("non-finite features stop the run", "[training][nan]") {
  const std::string data = hpt::test::make_synthetic_idx("nan-features");
  for (const char* value : {"nan", "inf"}) {
    INFO(value);
    torch::jit::Module m("Broken");
    m.define(fmt::format(
        "def forward(self, x):\n  return torch.full([x.size(0), 8], float('{}'))\n", value));
    const std::string path = data + "/" + value + ".pt";
    m.save(path);
    ExperimentConfig c = tiny_experiment(data, path);
    c.origins["feature_extractor"] = "exp.yaml:2: feature_extractor";
    CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                      "exp.yaml:2: feature_extractor: the features the TorchScript module " + path +
                          " gives for the train split are not finite (NaN or inf): its "
                          "forward() is broken for these images; no metrics reported");
    c.trainable_extractor = true;  // No cached features: the test features are checked.
    CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                      Catch::Contains("gives for the test split are not finite"));
  }
}

namespace {

// Saves a TorchScript module whose features are each channel's mean at path; returns path.
std::string mean_module(const std::string& path) {
  torch::jit::Module m("Mean");
  m.define("def forward(self, x):\n  return x.float().mean([2, 3])\n");
  m.save(path);
  return path;
}

}  // namespace

// A head too large for memory with its gradients and Adam's state is refused in one line
// naming the key, before it is made (eight blocks of 16384 units took 34 GB: the allocator's
// error, or the kernel's kill without a word).
TEST_CASE("a head too large for memory is refused by its key", "[training]") {
  const std::string data = hpt::test::make_synthetic_idx("huge-head");
  const std::string path = mean_module(data + "/mean.pt");
  ExperimentConfig c = tiny_experiment(data, path);
  c.intermediate_ff_block_units = std::vector<int64_t>(40, 16384);  // More than any machine has.
  c.origins["intermediate_ff_block_units"] = "exp.yaml:4: intermediate_ff_block_units";
  CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                    Catch::StartsWith("exp.yaml:4: intermediate_ff_block_units: a head of 1.05e+10 "
                                      "parameters") &&
                        Catch::Contains("takes 167.5 GB with its gradients and Adam's state, more "
                                        "than"));
}

// check_experiment_dataset (hpt-train check-data, before a study's first trial) probes a
// user's TorchScript extractor too: a file that is not one is named by its key, once, instead
// of failing every trial in turn until max_failures.
TEST_CASE("check_experiment_dataset probes a TorchScript extractor", "[training][torchscript]") {
  const std::string data = hpt::test::make_synthetic_idx("check-extractor");
  std::ofstream(data + "/not_ts.pt") << "not a TorchScript archive";
  ExperimentConfig c = tiny_experiment(data, data + "/not_ts.pt");
  c.origins["feature_extractor"] = "HPT_FIXED: feature_extractor";
  std::ostringstream log;
  CHECK_THROWS_WITH(check_experiment_dataset(c, log),
                    Catch::StartsWith("HPT_FIXED: feature_extractor: "));
  CHECK_THROWS_AS(check_experiment_dataset(c, log), hpt::ConfigError);  // Exit 2, as a missing one.
  CHECK_NOTHROW(
      check_experiment_dataset(tiny_experiment(data, mean_module(data + "/mean.pt")), log));
}

// Finite features too large for float32's sums of squares (1e20) stop the run the same way:
// every embedding became 0, each pair "same", AUC 0.5 and exit 0.
TEST_CASE("features too large for float32 stop the run", "[training][nan]") {
  const std::string data = hpt::test::make_synthetic_idx("huge-features");
  torch::jit::Module m("Huge");
  m.define("def forward(self, x):\n  return x.float().mean([2, 3]) * 1e20 + 1e20\n");
  const std::string path = data + "/huge.pt";
  m.save(path);
  ExperimentConfig c = tiny_experiment(data, path);
  c.origins["feature_extractor"] = "exp.yaml:2: feature_extractor";
  CHECK_THROWS_WITH(run_experiment(c, RunOptions()),
                    Catch::StartsWith("exp.yaml:2: feature_extractor: the TorchScript module " +
                                      path + " gives features as large as ") &&
                        Catch::Contains("for the train split, past what float32 arithmetic "
                                        "squares without overflow"));
}

// An extractor that passes the probe (2 images) but breaks its contract on a later, larger
// batch is named like one refused at load: by its key, on one line.
TEST_CASE("an extractor going bad on a later batch is named by its key",
          "[training][torchscript]") {
  const std::string data = hpt::test::make_synthetic_idx("late-bad-extractor");
  const char* outputs[] = {"torch.zeros([1])", "torch.zeros([x.size(0), 16])"};
  const char* problems[] = {"got shape [1] for a batch of",
                            "where hpt's probe batch (16 x 16 px) gave 8 features"};
  for (int i = 0; i < 2; ++i) {
    INFO(outputs[i]);
    torch::jit::Module m("LateBad");
    m.define(
        fmt::format("def forward(self, x):\n  if x.size(0) > 2:\n    return {}\n  return "
                    "torch.zeros([x.size(0), "
                    "8])\n",
                    outputs[i]));
    const std::string path = data + "/late" + std::to_string(i) + ".pt";
    m.save(path);
    ExperimentConfig c = tiny_experiment(data, path);
    c.origins["feature_extractor"] = "exp.yaml:4: feature_extractor";
    CHECK_THROWS_WITH(
        run_experiment(c, RunOptions()),
        Catch::StartsWith("exp.yaml:4: feature_extractor: TorchScript extractor " + path + ": ") &&
            Catch::Contains(problems[i]) && !Catch::Contains("\n"));
  }
}

// A save that fails part-way over an earlier run's folder (a full disk or the file-size limit
// after head.pt was written) leaves that run whole and loadable with no temporary folder left;
// the next run replaces it as a whole and keeps the user's own files there. The new head.pt
// used to sit beside the earlier model.json, and hpt embed used the mix.
TEST_CASE("a save failing part-way keeps the earlier run whole", "[training][save]") {
  const std::string data = hpt::test::make_synthetic_idx("save-set");
  torch::jit::Module pool("Pool");
  pool.define("def forward(self, x):\n  return torch.adaptive_avg_pool2d(x, [4, 4]).flatten(1)\n");
  pool.save(data + "/pool.pt");
  ExperimentConfig c = tiny_experiment(data, data + "/pool.pt");
  RunOptions o;
  o.run_seed = 3;
  o.out_dir = data + "/run";
  run_experiment(c, o);
  std::ofstream(o.out_dir + "/notes.txt") << "mine";
  const auto first = contents(o.out_dir);

  // The second run may write head.pt and model.json, not the larger files after them.
  const rlim_t limit = std::max(first.at("head.pt").size(), first.at("model.json").size()) + 256;
  REQUIRE(first.at("model_report.html").size() > limit);
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // A write past it fails: EFBIG.
  o.run_seed = 4;
  c.learning_rate *= 3;
  o.on_epoch = [&](const EpochReport&) {
    const rlimit lowered{limit, old_limit.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  };
  CHECK_THROWS_WITH(run_experiment(c, o), Catch::Contains("File too large"));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  CHECK(contents(o.out_dir) == first);
  const auto first_model = nlohmann::json::parse(first.at("model.json"));
  CHECK(load_model(o.out_dir).threshold == first_model.at("threshold").get<double>());

  o.on_epoch = nullptr;
  run_experiment(c, o);
  const auto second = contents(o.out_dir);
  CHECK(second.at("notes.txt") == "mine");
  CHECK(second.at("head.pt") != first.at("head.pt"));
  CHECK(second.at("metrics.json") != first.at("metrics.json"));
  CHECK(second.size() == first.size());  // The same files, no temporary folder.
  CHECK_NOTHROW(load_model(o.out_dir));
}
