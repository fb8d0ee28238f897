#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include <fmt/format.h>
#include <sched.h>
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/training.hpp"
#include "torchscript_models.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

namespace {

std::string fresh_cache(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("hpt-cache-" + name + std::to_string(::getpid()));
  fs::remove_all(dir);
  ::setenv("HPT_CACHE_DIR", dir.c_str(), 1);
  return dir.string();
}

ImageSet random_set(int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  return {torch::randint(0, 256, {n, 16, 16, 1}).to(torch::kUInt8),
          torch::arange(n, torch::kInt64).remainder(2)};
}

}  // namespace

// ensure_cached writes once (miss), then reports hits without calling write again.
TEST_CASE("ensure_cached writes once", "[cache]") {
  const std::string root = fresh_cache("ensure");
  CHECK(cache_root() == root);
  int calls = 0;
  auto write = [&](const std::string& tmp) {
    ++calls;
    std::ofstream(tmp) << "data";
  };
  const std::string path = root + "/x/file.bin";
  CHECK_FALSE(ensure_cached(path, write));
  CHECK(ensure_cached(path, write));
  CHECK(calls == 1);
  // A failing writer leaves neither the file nor a temporary behind.
  CHECK_THROWS(ensure_cached(root + "/x/bad.bin", [](const std::string& tmp) {
    std::ofstream(tmp) << "partial";
    throw std::runtime_error("boom");
  }));
  CHECK_FALSE(fs::exists(root + "/x/bad.bin"));
  for (const auto& entry : fs::directory_iterator(root + "/x")) {
    CHECK(entry.path().string().find(".tmp.") == std::string::npos);
  }
  CHECK(digest("a") != digest("b"));
}

// Two classes of random images: 6 train, 4 validation, 4 test.
Dataset small_dataset(const std::string& fingerprint) {
  Dataset ds;
  ds.class_names = {"a", "b"};
  ds.train = random_set(6, 1);
  ds.val = random_set(4, 2);
  ds.test = random_set(4, 3);
  ds.fingerprint = fingerprint;
  return ds;
}

// Frozen features are reused for the same dataset + extractor and recomputed when either
// the dataset fingerprint or the extractor identity changes.
TEST_CASE("feature cache hit and invalidation", "[cache]") {
  fresh_cache("features");
  Dataset ds = small_dataset("fp1");
  torch::manual_seed(0);
  FeatureExtractor ex(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec(), "cnn-a");
  std::ostringstream log;
  bool hit = true;
  auto first = cached_features(ds, ex, &hit, log);
  CHECK_FALSE(hit);
  CHECK((first[0].sizes() == torch::IntArrayRef{6, 32}));
  CHECK(torch::allclose(first[1], ex.extract(ds.val.images)));
  auto second = cached_features(ds, ex, &hit, log);
  CHECK(hit);
  CHECK(torch::equal(first[2], second[2]));
  ds.fingerprint = "fp2";
  cached_features(ds, ex, &hit, log);
  CHECK_FALSE(hit);
  FeatureExtractor other(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec(), "cnn-b");
  cached_features(ds, other, &hit, log);
  CHECK_FALSE(hit);
  cached_features(ds, other, &hit, log);
  CHECK(hit);
}

// A file's digest changes with its contents.
TEST_CASE("file digest", "[cache]") {
  const std::string root = fresh_cache("digest");
  fs::create_directories(root);
  std::ofstream(root + "/m.pt") << "one";
  const std::string a = file_digest(root + "/m.pt");
  std::ofstream(root + "/m.pt") << "two";
  CHECK(file_digest(root + "/m.pt") != a);
  CHECK_THROWS_WITH(file_digest(root + "/missing.pt"), Catch::Contains("missing.pt"));
}

// Two threads (separate lock descriptors, as two workers have) racing on an empty cache:
// the writer runs once, the other waits and gets a hit, and only the complete file remains.
TEST_CASE("concurrent ensure_cached computes once", "[cache]") {
  const std::string root = fresh_cache("race");
  const std::string path = root + "/cnn/model.pt";
  std::atomic<int> calls{0};
  auto write = [&](const std::string& tmp) {
    ++calls;
    std::ofstream out(tmp);
    out << "first half ";
    out.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    out << "second half";
  };
  bool hit_a = false;
  bool hit_b = false;
  std::thread a([&] { hit_a = ensure_cached(path, write); });
  std::thread b([&] { hit_b = ensure_cached(path, write); });
  a.join();
  b.join();
  CHECK(calls == 1);
  CHECK(hit_a != hit_b);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "first half second half");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root + "/cnn")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK((names == std::vector<std::string>{"model.pt", "model.pt.lock"}));
}

// A frozen TorchScript extractor's features are cached under a key that follows the file:
// overwriting the .pt file with other weights recomputes them.
TEST_CASE("torchscript feature cache follows the file", "[cache][torchscript]") {
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  const std::string root = fresh_cache("ts-features");
  fs::create_directories(root);
  Dataset ds;
  ds.class_names = {"a", "b"};
  ds.train = random_set(6, 1);
  ds.val = random_set(4, 2);
  ds.test = random_set(4, 3);
  ds.fingerprint = "fp";
  const std::string model = root + "/model.pt";
  fs::copy_file(models + "/cnn_a.pt", model);
  std::ostringstream log;
  bool hit = true;
  auto ex_a = FeatureExtractor::torchscript(model, 16);
  auto first = cached_features(ds, ex_a, &hit, log);
  CHECK_FALSE(hit);
  CHECK((first[0].sizes() == torch::IntArrayRef{6, 64}));
  CHECK(torch::allclose(first[2], ex_a.extract(ds.test.images)));
  cached_features(ds, ex_a, &hit, log);
  CHECK(hit);
  fs::copy_file(models + "/cnn_b.pt", model, fs::copy_options::overwrite_existing);
  auto ex_b = FeatureExtractor::torchscript(model, 16);
  CHECK(ex_b.identity() != ex_a.identity());
  auto second = cached_features(ds, ex_b, &hit, log);
  CHECK_FALSE(hit);
  CHECK_FALSE(torch::allclose(first[0], second[0]));
  CHECK(std::distance(fs::directory_iterator(root + "/features"), fs::directory_iterator()) ==
        4);  // Two feature files and their lock files.
}

// A feature-cache build uses every core the process may run on (the study's other workers wait
// on its lock) and gives the trial its own thread count back afterwards.
TEST_CASE("feature cache build uses all cores, then restores the trial's threads", "[cache]") {
  fresh_cache("threads");
  Dataset ds = small_dataset("fp-threads");
  FeatureExtractor ex(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec(), "cnn-threads");
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(::sched_getaffinity(0, sizeof(set), &set) == 0);
  const int cores = CPU_COUNT(&set);
  const int before = torch::get_num_threads();
  torch::set_num_threads(1);
  std::ostringstream log;
  bool hit = true;
  cached_features(ds, ex, &hit, log);
  CHECK_FALSE(hit);
  CHECK_THAT(log.str(), Catch::Contains(fmt::format("computed on {} threads", std::max(cores, 1))));
  CHECK(torch::get_num_threads() == 1);
  torch::set_num_threads(before);
}
