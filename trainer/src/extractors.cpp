#include "hpt/trainer/extractors.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <random>

#include "hpt/io/usable_cores.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/training.hpp"
#include "run_support.hpp"

namespace hpt::trainer {

namespace {

// A one-off cache build (built-in CNN pretraining, frozen features) runs while the study's
// other workers wait on its lock, so it uses every core this process may run on, whatever
// `threads` allots each trial; the trial's setting comes back afterwards.
class AllCoresWhileBuilding {
 public:
  AllCoresWhileBuilding() : m_before(torch::get_num_threads()) {
    if (const int cores = usable_cores(); cores > m_before) {
      torch::set_num_threads(cores);
    }
  }
  ~AllCoresWhileBuilding() { torch::set_num_threads(m_before); }
  AllCoresWhileBuilding(const AllCoresWhileBuilding&) = delete;
  AllCoresWhileBuilding& operator=(const AllCoresWhileBuilding&) = delete;

 private:
  int m_before;
};

// CosFace's scale and margin (Wang et al. 2018; scale 16 suits 10 to 200 classes).
constexpr double k_cosface_scale = 16.0;
constexpr double k_cosface_margin = 0.2;

// The cosine of each feature row with each class weight row: [N, classes].
torch::Tensor cosine_logits(const torch::Tensor& features, const torch::Tensor& weight) {
  namespace F = torch::nn::functional;
  return F::linear(F::normalize(features, F::NormalizeFuncOptions().dim(1)),
                   F::normalize(weight, F::NormalizeFuncOptions().dim(1)));
}

// Pretrains a fresh built-in CNN on dataset's training images with a CosFace classifier
// (cosine logits with an additive margin): its features are compared by angle, as the
// L2-normalised embeddings are (bench/trainer/pretrain_recipes.py: raw-feature test pair AUC
// 0.9805 against 0.9782 for a softmax classifier). An ensemble's members each have their own
// classifier, so they train as independent CNNs on the same batches. Logs each epoch; the
// CNN is returned on the CPU.
BuiltinCnn pretrain_cnn(const Dataset& dataset, const ExperimentConfig& config,
                        const BuiltinCnnOptions& options, const InputSpec& spec,
                        const torch::Device& device, std::ostream& log) {
  const AllCoresWhileBuilding all_cores;
  const auto t0 = Clock::now();
  const auto& train = dataset.train;
  // LibTorch initialises modules from its process-wide generator: seeding it here is safe
  // because each worker is its own process and trains one model at a time.
  torch::manual_seed(seed_for(config.seed, "pretrain-init"));
  BuiltinCnn cnn(options);
  std::vector<torch::Tensor> classifiers;
  std::vector<torch::Tensor> params = cnn->parameters();
  for (int64_t member = 0; member < options.members(); ++member) {
    torch::nn::Linear classifier(
        torch::nn::LinearOptions(cnn->member_dim(),
                                 static_cast<int64_t>(dataset.class_names.size()))
            .bias(false));
    classifiers.push_back(classifier->weight.to(device).detach().requires_grad_());
    params.push_back(classifiers.back());
  }
  cnn->to(device);
  const torch::Tensor images = to_device(train.images, device);
  const torch::Tensor labels = to_device(train.labels, device);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(2e-3));
  LoopOptions schedule;  // Cosine decay to 0 over all pretraining steps.
  schedule.learning_rate = 2e-3;
  schedule.lr_schedule = "cosine";
  std::mt19937_64 rng(seed_for(config.seed, "pretrain-batches"));
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  const int64_t batch = pretrain_batch_size(images.size(-1) * images.size(-2));
  const int64_t steps_per_epoch = (train.size() + batch - 1) / batch;
  int64_t t = 0;
  for (int64_t epoch = 1; epoch <= config.pretrain_epochs; ++epoch) {
    cnn->train();
    std::shuffle(order.begin(), order.end(), rng);
    auto loss_sum = torch::zeros({}, torch::TensorOptions(device).dtype(torch::kFloat64));
    auto correct = torch::zeros({}, torch::TensorOptions(device).dtype(torch::kInt64));
    int64_t steps = 0;
    for (size_t i = 0; i < order.size(); i += batch) {
      auto idx = to_device(
          torch::tensor(std::vector<int64_t>(order.begin() + i,
                                             order.begin() + std::min(order.size(), i + batch)),
                        torch::kInt64),
          device);
      auto y = labels.index_select(0, idx);
      const auto features = cnn->member_features(to_input(images.index_select(0, idx), spec));
      torch::Tensor loss;
      for (size_t member = 0; member < features.size(); ++member) {
        auto cosines = cosine_logits(features[member], classifiers[member]);
        auto member_loss = torch::nn::functional::cross_entropy(
            k_cosface_scale * (cosines - k_cosface_margin * torch::one_hot(y, cosines.size(1))), y);
        loss = member == 0 ? member_loss : loss + member_loss;
        correct += cosines.argmax(1).eq(y).sum();
      }
      const double lr = scheduled_lr(schedule, t++, config.pretrain_epochs * steps_per_epoch);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      // On the device: one sync an epoch.
      loss_sum += loss.detach() / static_cast<double>(features.size());
      ++steps;
    }
    log << fmt::format("pretrain epoch {}/{}: loss {:.4f}, train accuracy {:.4f} ({:.1f} s)\n",
                       epoch, config.pretrain_epochs,
                       loss_sum.item<double>() / std::max<int64_t>(steps, 1),
                       correct.item<double>() / std::max<int64_t>(train.size(), 1) /
                           static_cast<double>(options.members()),
                       seconds_since(t0));
  }
  cnn->to(torch::kCPU);  // The cache loads anywhere.
  return cnn;
}

// The Adler-32 (the decoded-image cache's checksum) of the bytes of CPU tensors, in order, as
// a one-element int64 tensor: saved with a cache entry's tensors and checked when they are read,
// since torch::load takes flipped bytes in tensor data without a word.
torch::Tensor tensors_checksum(const std::vector<torch::Tensor>& tensors) {
  uLong sum = adler32(0, nullptr, 0);
  for (const auto& t : tensors) {
    const torch::Tensor c = t.contiguous();
    sum = adler32_z(sum, static_cast<const Bytef*>(c.data_ptr()), c.nbytes());
  }
  return torch::tensor({static_cast<int64_t>(sum)}, torch::kInt64);
}

// tensors_checksum of a module's parameters and buffers, in order: saved with a cached CNN
// and checked when it is read (torch::load takes changed weights without a word).
torch::Tensor weights_checksum(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (const auto& t : module.parameters()) {
    tensors.push_back(t.detach().to(torch::kCPU));
  }
  for (const auto& t : module.buffers()) {
    tensors.push_back(t.detach().to(torch::kCPU));
  }
  return tensors_checksum(tensors);
}

}  // namespace

FeatureExtractor builtin_extractor(const Dataset& dataset, const ExperimentConfig& config,
                                   std::ostream& log, const torch::Device& device) {
  const auto& train = dataset.train;
  const BuiltinCnnOptions options = BuiltinCnnOptions()
                                        .in_channels(train.images.size(3))
                                        .width(config.builtin_cnn_width)
                                        .members(config.builtin_cnn_ensemble);
  InputSpec spec = fit_input_spec(train.images);
  if (train.images.size(1) == train.images.size(2)) {
    spec.size = train.images.size(1);  // New images (hpt match/embed) get the training size.
  }
  const std::string key = digest(
      fmt::format("builtin-cnn-v5|{}|c{}|w{}|e{}|s{}{}", dataset.fingerprint, options.in_channels(),
                  options.width(), config.pretrain_epochs, config.seed,
                  options.members() > 1 ? fmt::format("|m{}", options.members()) : std::string()));
  const std::string path = cache_root() + "/cnn/" + key + ".pt";
  BuiltinCnn cnn(options);
  const bool hit = ensure_cached(
      path, [&] { cnn = pretrain_cnn(dataset, config, options, spec, device, log); },
      [&](std::ostream& out) {  // v5: the weights and their weights_checksum.
        torch::serialize::OutputArchive archive;
        cnn->save(archive);
        archive.write("hpt_checksum", weights_checksum(*cnn));
        archive.save_to(out);
      },
      [&](const std::string& file) {
        auto archive = load_weights(*cnn, file);
        torch::Tensor stored;
        if (!archive.try_read("hpt_checksum", stored) ||
            !torch::equal(stored, weights_checksum(*cnn))) {
          throw std::runtime_error("checksum mismatch: the weights were changed on disk");
        }
      },
      log);
  log << fmt::format("built-in CNN: {} ({})\n", hit ? "cached" : "pretrained and cached", path);
  FeatureExtractor extractor(cnn, spec, "builtin-cnn:" + key);
  extractor.to(device);
  return extractor;
}

std::string frozen_features_problem(int64_t images, int64_t features, uint64_t memory_bytes) {
  const double bytes = static_cast<double>(images) * static_cast<double>(features) * 4.0;
  if (image_memory_problem(bytes, memory_bytes).empty()) {  // The one memory rule.
    return "";
  }
  return fmt::format(
      "it gives {} features an image, and the frozen features of the dataset's {} images would "
      "take {:.0f} bytes ({:.1f} GB: {} x {} x 4), more than {}; pool its output to fewer "
      "features, or use fewer images",
      features, images, bytes, bytes / 1e9, images, features,
      memory_text(memory_bytes == 0 ? usable_memory_bytes() : memory_bytes));
}

std::array<torch::Tensor, 3> cached_features(const Dataset& dataset, FeatureExtractor& extractor,
                                             bool* hit, std::ostream& log, uint64_t memory_bytes) {
  const int64_t images = dataset.train.size() + dataset.val.size() + dataset.test.size();
  if (const std::string problem =
          frozen_features_problem(images, extractor.feature_dim(), memory_bytes);
      !problem.empty()) {  // Before it fills memory: LibTorch's failed allocation names nothing.
    throw std::runtime_error(extractor.label() + ": " + problem);
  }
  // v2: three splits of features and their tensors_checksum.
  const std::string key =
      digest(fmt::format("features-v2|{}|{}|{}", dataset.fingerprint, extractor.identity(),
                         to_json(extractor.input_spec()).dump()));
  const std::string path = cache_root() + "/features/" + key + ".pt";
  const auto t0 = Clock::now();
  int build_threads = 0;
  std::vector<torch::Tensor> f;
  const bool was_hit = ensure_cached(
      path,
      [&] {
        const AllCoresWhileBuilding all_cores;
        build_threads = torch::get_num_threads();
        f.clear();  // What a refused entry's read left.
        for (const ImageSet* set : {&dataset.train, &dataset.val, &dataset.test}) {
          f.push_back(extractor.extract(set->images).to(torch::kCPU));
        }
      },
      [&](std::ostream& out) {
        std::vector<torch::Tensor> entry = f;  // The tensors themselves are shared, not copied.
        entry.push_back(tensors_checksum(f));
        torch::save(entry, out);
      },
      [&](const std::string& file) {
        f.clear();
        torch::load(f, file);
        // A file that loads but is not this entry's (three splits, a row per image, their
        // checksum) is as broken.
        const ImageSet* sets[] = {&dataset.train, &dataset.val, &dataset.test};
        for (size_t i = 0; i < 3; ++i) {
          if (f.size() != 4 || f[i].dim() != 2 || f[i].size(0) != sets[i]->size()) {
            throw std::runtime_error("not three splits of features [images, features]");
          }
        }
        const torch::Tensor stored = f.back();
        f.pop_back();
        if (stored.numel() != 1 || !torch::equal(stored, tensors_checksum(f))) {
          throw std::runtime_error("checksum mismatch: the features were changed on disk");
        }
      },
      log);
  for (auto& t : f) {
    t = to_device(t, extractor.device());  // One batched copy per split.
  }
  if (hit) {
    *hit = was_hit;
  }
  log << fmt::format("features: {} [{} x {}] in {:.1f} s ({})\n",
                     was_hit ? "cached" : fmt::format("computed on {} threads", build_threads),
                     f.at(0).size(0), f.at(0).size(1), seconds_since(t0), path);
  return {f.at(0), f.at(1), f.at(2)};
}

int64_t pretrain_batch_size(int64_t pixels) {
  return std::clamp<int64_t>(128 * 64 * 64 / std::max<int64_t>(pixels, 1), 8, 128);
}

}  // namespace hpt::trainer
