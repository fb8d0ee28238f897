#include <fmt/format.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "fresh_cache.hpp"
#include "hpt/trainer/extractors.hpp"
#include "hpt/trainer/metrics.hpp"
#include "hpt/trainer/training.hpp"
#include "torchscript_models.hpp"

using namespace hpt::trainer;
using hpt::test::fresh_cache;
namespace fs = std::filesystem;

namespace {

ImageSet random_set(int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  return {torch::randint(0, 256, {n, 16, 16, 1}).to(torch::kUInt8),
          torch::arange(n, torch::kInt64).remainder(2)};
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

// Three classes of 16x16 noise under faint stripes: horizontal, vertical or diagonal, at a
// random phase. An untrained CNN barely tells them apart; n images per class.
ImageSet stripe_set(int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  auto labels = torch::arange(3 * n, torch::kInt64).remainder(3);
  auto rows = torch::arange(16).view({1, 16, 1});
  auto cols = torch::arange(16).view({1, 1, 16});
  auto phase = torch::randint(0, 4, {3 * n, 1, 1});
  auto c = labels.view({-1, 1, 1});
  auto coordinate = torch::where(
      c == 0, rows.expand({3 * n, 16, 16}),
      torch::where(c == 1, cols.expand({3 * n, 16, 16}), (rows + cols).expand({3 * n, 16, 16})));
  auto stripes = (coordinate + phase).remainder(4).lt(2).to(torch::kInt64) * 70;
  auto images = torch::randint(0, 200, {3 * n, 16, 16}) + stripes;
  return {images.unsqueeze(3).to(torch::kUInt8), labels};
}

// Test pair ROC AUC of an extractor's raw L2-normalised features.
double raw_auc(FeatureExtractor& extractor, const ImageSet& test) {
  std::vector<int64_t> labels(test.labels.data_ptr<int64_t>(),
                              test.labels.data_ptr<int64_t>() + test.labels.numel());
  return pair_roc_auc(extractor.extract(test.images), make_pairs(labels, 400, 7), true);
}

// Flips a bit of the exponent of the first float of `first_values` (its first 16 bytes) in each
// .pt entry of folder, the entry's size kept (a damaged disk, an edit in place); returns how
// many entries it changed.
int flip_first_value(const std::string& folder, const torch::Tensor& first_values) {
  const torch::Tensor t = first_values.detach().to(torch::kCPU).contiguous();
  const std::string values(static_cast<const char*>(t.data_ptr()), 16);
  int flipped = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".pt") {
      continue;
    }
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)), {});
    const size_t at = bytes.find(values);
    REQUIRE(at != std::string::npos);
    file.seekp(static_cast<std::streamoff>(at + 3));
    file.put(static_cast<char>(bytes[at + 3] ^ 0x40));
    ++flipped;
  }
  return flipped;
}

}  // namespace

// Pretraining (CosFace classification) makes features that tell the classes apart by angle,
// far better than the same CNN untrained; the pretrained CNN is cached by dataset, epochs and
// seed, and a second call loads the same weights.
TEST_CASE("built-in extractor pretraining separates classes and is cached", "[cache][pretrain]") {
  fresh_cache("pretrain");
  Dataset ds;
  ds.class_names = {"a", "b", "c"};
  ds.train = stripe_set(200, 1);
  ds.val = stripe_set(4, 2);
  ds.test = stripe_set(20, 3);
  ds.fingerprint = "stripes";
  ExperimentConfig config;
  config.pretrain_epochs = 0;
  std::ostringstream log;
  FeatureExtractor untrained = builtin_extractor(ds, config, log);
  config.pretrain_epochs = 6;
  FeatureExtractor pretrained = builtin_extractor(ds, config, log);
  CHECK(log.str().find("pretrain epoch 6/6") != std::string::npos);
  const double before = raw_auc(untrained, ds.test);
  const double after = raw_auc(pretrained, ds.test);
  INFO("untrained " << before << ", pretrained " << after);
  CHECK(after > 0.97);
  CHECK(after > before + 0.05);
  std::ostringstream again;
  FeatureExtractor cached = builtin_extractor(ds, config, again);
  CHECK(again.str().find("pretrain epoch") == std::string::npos);
  CHECK(again.str().find("built-in CNN: cached") != std::string::npos);
  CHECK(torch::equal(cached.extract(ds.test.images), pretrained.extract(ds.test.images)));
  config.seed = 1;  // Another seed: another cache entry, other weights.
  FeatureExtractor reseeded = builtin_extractor(ds, config, again);
  CHECK(again.str().find("pretrain epoch 6/6") != std::string::npos);
  CHECK_FALSE(torch::equal(reseeded.extract(ds.test.images), pretrained.extract(ds.test.images)));
  // builtin_cnn_width sets the CNN (16 x width features) and its cache entry.
  CHECK(pretrained.feature_dim() == 16 * 16);
  config.builtin_cnn_width = 8;
  std::ostringstream narrow_log;
  FeatureExtractor narrow = builtin_extractor(ds, config, narrow_log);
  CHECK(narrow.feature_dim() == 16 * 8);
  CHECK(narrow_log.str().find("pretrain epoch 6/6") != std::string::npos);
  // builtin_cnn_ensemble: two CNNs pretrained side by side (their own cache entry), both
  // separating the classes; the first member is not the single CNN of the same seed's entry
  // reused, it is pretrained again with its partner.
  config.builtin_cnn_ensemble = 2;
  std::ostringstream pair_log;
  FeatureExtractor pair = builtin_extractor(ds, config, pair_log);
  CHECK(pair_log.str().find("pretrain epoch 6/6") != std::string::npos);
  CHECK(pair.feature_dim() == 2 * 16 * 8);
  const double pair_auc = raw_auc(pair, ds.test);
  INFO("ensemble " << pair_auc);
  CHECK(pair_auc > 0.97);
  std::ostringstream pair_again;
  builtin_extractor(ds, config, pair_again);
  CHECK(pair_again.str().find("built-in CNN: cached") != std::string::npos);
}

// Pretraining batches shrink with the image: 128 up to 64 x 64 (Fashion-MNIST, Tiny ImageNet
// as before), 32 at 128 x 128, 8 at 2048 x 2048 (128 of those were killed for memory).
TEST_CASE("pretraining batches shrink with the images", "[pretrain]") {
  using hpt::trainer::pretrain_batch_size;
  CHECK(pretrain_batch_size(28 * 28) == 128);
  CHECK(pretrain_batch_size(64 * 64) == 128);
  CHECK(pretrain_batch_size(128 * 128) == 32);
  CHECK(pretrain_batch_size(2048 * 2048) == 8);
  CHECK(pretrain_batch_size(0) == 128);
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
  CHECK((first[0].sizes() == torch::IntArrayRef{6, 64}));
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

// A cached features or CNN file cut short (a crash, a full disk) is a warning naming it, and
// is rebuilt: the run goes on, and later runs hit the new entry.
TEST_CASE("truncated cache entries are rebuilt", "[cache]") {
  const std::string root = fresh_cache("truncated");
  Dataset ds = small_dataset("fp-truncated");
  ExperimentConfig config;
  config.pretrain_epochs = 0;
  config.builtin_cnn_width = 4;
  std::ostringstream log;
  FeatureExtractor ex = builtin_extractor(ds, config, log);
  bool hit = true;
  const auto first = cached_features(ds, ex, &hit, log);
  REQUIRE_FALSE(hit);
  for (const char* folder : {"/features", "/cnn"}) {
    for (const auto& entry : fs::directory_iterator(root + folder)) {
      if (entry.path().extension() == ".pt") {
        fs::resize_file(entry.path(), 100);
      }
    }
  }
  std::ostringstream again;
  FeatureExtractor rebuilt = builtin_extractor(ds, config, again);
  const auto second = cached_features(ds, rebuilt, &hit, again);
  CHECK_FALSE(hit);
  CHECK(torch::allclose(first[1], second[1]));
  for (const char* folder : {"/features/", "/cnn/"}) {
    INFO(again.str());
    CHECK_THAT(again.str(), Catch::Contains("warning: unreadable cache file " + root + folder));
  }
  CHECK_THAT(again.str(), Catch::Contains("): removed, rebuilding it\n"));
  cached_features(ds, rebuilt, &hit, again);
  CHECK(hit);
}

// Features changed on disk without a size change (a flipped byte in tensor data, which
// torch::load reads without a word) fail the checksum saved with them: a warning naming the
// file, rebuilt, as the decoded-image cache does (the run used them: AUC 0.54, exit 0).
TEST_CASE("feature cache entries changed in place are rebuilt", "[cache]") {
  const std::string root = fresh_cache("flipped");
  Dataset ds = small_dataset("fp-flipped");
  torch::manual_seed(0);
  FeatureExtractor ex(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec(), "cnn-flip");
  std::ostringstream log;
  bool hit = true;
  const auto first = cached_features(ds, ex, &hit, log);
  REQUIRE_FALSE(hit);
  REQUIRE(flip_first_value(root + "/features", first[0]) == 1);  // The first feature.
  std::ostringstream again;
  const auto second = cached_features(ds, ex, &hit, again);
  CHECK_FALSE(hit);
  CHECK(torch::equal(first[0], second[0]));
  CHECK_THAT(again.str(),
             Catch::Contains("warning: unreadable cache file " + root + "/features/") &&
                 Catch::Contains("checksum mismatch"));
  cached_features(ds, ex, &hit, again);
  CHECK(hit);
}

// A pretrained CNN's cache entry changed in place (its size kept) fails its checksum: a warning
// naming the file, and it is pretrained again. It was used without a word, and the model saved
// with its metrics was the changed one (helper audit).
TEST_CASE("built-in CNN cache entries changed in place are rebuilt", "[cache][pretrain]") {
  const std::string root = fresh_cache("cnn-flipped");
  Dataset ds;
  ds.class_names = {"a", "b", "c"};
  ds.train = stripe_set(60, 1);
  ds.val = stripe_set(4, 2);
  ds.test = stripe_set(6, 3);
  ds.fingerprint = "stripes-flipped";
  ExperimentConfig config;
  config.pretrain_epochs = 1;
  config.builtin_cnn_width = 4;
  std::ostringstream log;
  FeatureExtractor first = builtin_extractor(ds, config, log);
  REQUIRE(flip_first_value(root + "/cnn", first.parameters().front()) == 1);  // A weight.
  std::ostringstream again;
  FeatureExtractor second = builtin_extractor(ds, config, again);
  CHECK_THAT(again.str(), Catch::Contains("warning: unreadable cache file " + root + "/cnn/") &&
                              Catch::Contains("checksum mismatch") &&
                              Catch::Contains("pretrain epoch 1/1"));
  CHECK(torch::equal(second.extract(ds.test.images), first.extract(ds.test.images)));
  std::ostringstream third;
  builtin_extractor(ds, config, third);
  CHECK_THAT(third.str(), Catch::Contains("built-in CNN: cached"));
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

// Frozen features that would not fit in memory (images x features x 4 bytes, by the decoded
// images' rule) are refused before any is computed or cached, naming the extractor's key, the
// feature count, the images and the bytes; a user's module of 2^20 features died in LibTorch's
// allocator ("can't allocate memory", naming nothing) or was killed.
TEST_CASE("frozen features beyond memory are refused before they are computed", "[cache]") {
  const std::string root = fresh_cache("features-memory");
  const Dataset ds = small_dataset("fp-memory");  // 14 images.
  FeatureExtractor ex(BuiltinCnn(BuiltinCnnOptions().width(4)), InputSpec(), "cnn-memory");
  ex.set_origin("exp.yaml:3: feature_extractor");
  std::ostringstream log;
  constexpr uint64_t k_bytes = 14 * 64 * 4;
  CHECK_THROWS_WITH(
      cached_features(ds, ex, nullptr, log, k_bytes - 1),
      "exp.yaml:3: feature_extractor: the built-in CNN: it gives 64 features an image, and the "
      "frozen features of the dataset's 14 images would take 3584 bytes (0.0 GB: 14 x 64 x 4), "
      "more than this machine's 0.0 GB of memory; pool its output to fewer features, or use "
      "fewer images");
  CHECK_FALSE(fs::exists(root + "/features"));  // Nothing computed, nothing cached.
  bool hit = true;
  CHECK(cached_features(ds, ex, &hit, log, k_bytes)[0].size(1) == 64);  // Exactly fits.
  CHECK_FALSE(hit);
  CHECK(frozen_features_problem(1000000, int64_t{1} << 20, uint64_t{64} << 30) ==
        "it gives 1048576 features an image, and the frozen features of the dataset's 1000000 "
        "images would take 4194304000000 bytes (4194.3 GB: 1000000 x 1048576 x 4), more than "
        "this machine's 68.7 GB of memory; pool its output to fewer features, or use fewer "
        "images");
}
