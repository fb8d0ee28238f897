#pragma once
// The embedding model: a feature extractor (built-in CNN or TorchScript file) followed by
// the report's head (flatten -> FF blocks -> Linear(embedding_dim) -> L2 normalise).

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hpt::trainer {

struct FFBlockOptions {
  FFBlockOptions(int64_t in_features, int64_t units) : in_features_(in_features), units_(units) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, units);
  TORCH_ARG(double, dropout) = 0.0;
};

// Linear -> BatchNorm1d -> ReLU -> Dropout (the report's FFBlock).
class FFBlockImpl : public torch::nn::Module {
 public:
  explicit FFBlockImpl(const FFBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear m_linear{nullptr};
  torch::nn::BatchNorm1d m_norm{nullptr};
  torch::nn::Dropout m_dropout{nullptr};
};
TORCH_MODULE(FFBlock);

struct EmbeddingHeadOptions {
  EmbeddingHeadOptions(int64_t in_features, int64_t embedding_dim)
      : in_features_(in_features), embedding_dim_(embedding_dim) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, embedding_dim);
  TORCH_ARG(std::vector<int64_t>, units) = {};  // One FF block per entry.
  TORCH_ARG(double, dropout) = 0.0;
};

// flatten -> FF blocks -> Linear(embedding_dim) -> L2 normalisation along dim 1.
class EmbeddingHeadImpl : public torch::nn::Module {
 public:
  explicit EmbeddingHeadImpl(const EmbeddingHeadOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  const EmbeddingHeadOptions& options() const { return m_options; }

 private:
  EmbeddingHeadOptions m_options;
  torch::nn::Sequential m_blocks;
  torch::nn::Linear m_out{nullptr};
};
TORCH_MODULE(EmbeddingHead);

struct BuiltinCnnOptions {
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, width) = 16;  // Stage channels: width, 2w, 4w, 8w.
  // How many of the last stages have a second convolution (cheap: their maps are small).
  TORCH_ARG(int64_t, double_conv_stages) = 2;
  // Features: the last stage's global average pool followed by its global max pool (16w
  // numbers), or the average pool alone (8w).
  TORCH_ARG(bool, avg_max) = true;
  // An ensemble of this many CNNs (each as above, initialised in turn): the features are each
  // member's, L2-normalised and concatenated. 1: one CNN, its features as they are.
  TORCH_ARG(int64_t, members) = 1;
  // The defaults are builtin-cnn-v4's; models saved before it had (0, false). On Fashion-MNIST
  // (bench/trainer/pretrain_recipes.py, raw features) they lift test pair AUC from 0.980 to
  // 0.989 for ~1.5x the pretraining time.
};

// Four conv3x3-BN-ReLU stages (max-pool after the first three) and global pooling: a small
// CPU-friendly extractor for any image side >= 16 px.
class BuiltinCnnImpl : public torch::nn::Module {
 public:
  explicit BuiltinCnnImpl(const BuiltinCnnOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, H, W] -> [N, feature_dim()].
  // Each member's own features, [N, member_dim()] each (pretraining gives each its own loss).
  std::vector<torch::Tensor> member_features(const torch::Tensor& x);
  int64_t member_dim() const { return (m_options.avg_max() ? 16 : 8) * m_options.width(); }
  int64_t feature_dim() const { return m_options.members() * member_dim(); }
  const BuiltinCnnOptions& options() const { return m_options; }

 private:
  BuiltinCnnOptions m_options;
  // Member 0 is registered as "body" (a one-member CNN's weights are builtin-cnn-v4's), the
  // others as "body1", "body2", ...
  std::vector<torch::nn::Sequential> m_bodies;
};
TORCH_MODULE(BuiltinCnn);

// How uint8 NHWC images become the extractor's float NCHW input.
struct InputSpec {
  int64_t channels = 1;           // Images are converted to this many channels (1 or 3).
  int64_t size = 0;               // Square side to resize to; 0 keeps the input size.
  std::vector<double> mean{0.0};  // Per channel, on [0, 1] pixel values.
  std::vector<double> std{1.0};
};
nlohmann::json to_json(const InputSpec& spec);

// Throws std::invalid_argument "<path>: <problem>" for a spec no extractor takes (a key of
// the wrong type, or an input_spec_problem).
InputSpec input_spec_from_json(const nlohmann::json& json, const std::string& path = "input");
// Why spec describes no extractor's input (channels not 1 or 3, a size beyond
// k_max_image_size, a mean or std per channel missing, not finite, or a std <= 0).
std::optional<std::string> input_spec_problem(const InputSpec& spec);

// uint8 [N, H, W, C] -> normalised float [N, spec.channels, size, size]; the composition
// normalize_input(to_unit_range(images, spec), spec).
torch::Tensor to_input(const torch::Tensor& images, const InputSpec& spec);
// uint8 [N, H, W, C] -> float [N, spec.channels, size, size] in [0, 1] (augmentation input).
torch::Tensor to_unit_range(const torch::Tensor& images, const InputSpec& spec);
// (x - mean) / std per channel.
torch::Tensor normalize_input(const torch::Tensor& x, const InputSpec& spec);

// The per-channel mean and std of uint8 NHWC images on [0, 1], as an InputSpec.
InputSpec fit_input_spec(const torch::Tensor& images);

// The input contract of a user's TorchScript extractor: forward(x) gets float NCHW,
// x = (pixel / 255 - mean[c]) / std[c], and returns [N, ...] (or a tuple whose first element
// is), flattened to features. Channels: the module's int attribute hpt_input_channels, else
// the in-channels of its first 4-D weight (a conv), else 3; grey images are repeated to 3
// channels, RGB becomes luma for 1. mean/std: List[float] attributes hpt_input_mean /
// hpt_input_std, else ImageNet's (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225), averaged
// to 0.449 / 0.226 for 1 channel. Size: int attribute hpt_input_size, else image_size (the
// dataset's side). Throws std::runtime_error naming an attribute of the wrong type or shape.
InputSpec torchscript_input_spec(const torch::jit::Module& module, int64_t image_size);

// A feature extractor: the built-in CNN or a TorchScript module. Frozen extractors run in
// eval mode without gradients; trainable ones follow train()/eval().
class FeatureExtractor {
 public:
  // Wraps a (pretrained) built-in CNN.
  FeatureExtractor(BuiltinCnn cnn, InputSpec spec, std::string identity);
  // Loads a TorchScript file onto device (whatever device it was saved from); its input
  // contract is torchscript_input_spec's. Runs feature_dim()'s probe, so that a module whose
  // output breaks forward()'s contract is refused here. Throws std::runtime_error naming the
  // file if it cannot be loaded or used; a first forward failing on the channels it was given
  // says that hpt guessed them and that hpt_input_channels sets them.
  static FeatureExtractor torchscript(const std::string& path, int64_t image_size,
                                      const torch::Device& device = torch::kCPU);

  // Moves the weights to device; channels_last also converts conv weights and every input
  // to channels-last memory format (pays on CUDA).
  void to(const torch::Device& device, bool channels_last = false);
  const torch::Device& device() const { return m_device; }

  // Normalised float input [N, C, H, W] -> flattened float32 features [N, feature_dim()].
  // A TorchScript module's output is checked on every call (metadata only, no sync): a
  // floating tensor [N, ...] with one row per image and at least one feature (float16,
  // bfloat16 and float64 become float32) with as many features as the probe batch gave;
  // anything else, or an exception inside the module, throws std::runtime_error
  // "[<origin>: ]TorchScript extractor <file>: <problem>" on one line.
  torch::Tensor forward(const torch::Tensor& input);
  // uint8 NHWC images (any device) -> features on the extractor's device, in eval mode
  // under NoGradGuard, batch by batch.
  torch::Tensor extract(const torch::Tensor& images, int64_t batch_size = 256);

  // Where the module was configured ("exp.yaml:7: feature_extractor"), to start the errors of
  // later batches with, as the errors at load are.
  void set_origin(std::string origin) { m_origin = std::move(origin); }
  void set_trainable(bool trainable);
  bool trainable() const { return m_trainable; }
  void train(bool on);
  std::vector<torch::Tensor> parameters();
  // The features an image gives. A TorchScript module's is found by a probe (once, in eval
  // mode, cheap: three images): two different seeded random images of its input size (224 px
  // when it takes any), then the first alone. Refused with std::runtime_error
  // "<label()>: <problem>" on one line: a forward failing or giving no [1, D] on one image (a
  // .squeeze()), another feature count for one image than for two, or the image's features
  // alone differing (beyond 1e-4 of their scale) from its row in the batch of two: a module
  // mixing rows (a BatchNorm using batch statistics) or random in eval mode, whose training
  // features hpt match and embed (one image at a time) could not reproduce.
  int64_t feature_dim();
  const InputSpec& input_spec() const { return m_spec; }
  // "[<origin>: ]TorchScript extractor <file>" or "[<origin>: ]the built-in CNN": how errors
  // name the extractor.
  std::string label() const;
  // Names the extractor and its weights (keys the feature cache).
  const std::string& identity() const { return m_identity; }
  bool is_builtin() const { return !m_script; }
  const std::string& script_path() const { return m_script_path; }

  // Copies of the weights and buffers (BatchNorm statistics), and their restoration.
  std::vector<torch::Tensor> snapshot();
  void restore(const std::vector<torch::Tensor>& state);

  // Writes the weights (as CPU tensors) into dir (cnn.pt or extractor.pt: a frozen
  // TorchScript module's bytes, checked against its identity's fingerprint) and returns the
  // model.json entry, whose "file" is relative to dir. The user's file is never linked (a
  // torch.jit.save over it would rewrite the model): dir gets a copy, or, given shared_dir, a
  // hard link to one copy kept there by fingerprint (a study's trials share it).
  nlohmann::json save(const std::string& dir, const std::string& shared_dir = "");
  // Rebuilds an extractor from a save() entry and its dir. A relative "file" must stay inside
  // dir (std::invalid_argument "extractor.file: …"); an absolute one (a frozen TorchScript
  // module saved before hpt copied it) must still hold the bytes its identity fingerprinted,
  // else std::runtime_error naming the file.
  static FeatureExtractor load(const nlohmann::json& entry, const std::string& dir);

 private:
  FeatureExtractor() = default;
  // The module at path, loaded onto device, with its identity; no spec yet.
  static FeatureExtractor open_script(const std::string& path, const torch::Device& device);
  // Copies the TorchScript file this extractor was loaded from to target (atomically), or
  // links target to its copy in shared_dir (made there first when missing or changed);
  // throws std::runtime_error naming the file when its bytes changed since it was loaded.
  void copy_script_file(const std::string& target, const std::string& shared_dir) const;
  // The features of a module's output for a batch of `rows` images (forward's checks).
  torch::Tensor script_features(const torch::IValue& out, int64_t rows) const;
  // feature_dim()'s probe of a TorchScript module; returns its feature count.
  int64_t probe();
  // The probe images' side, and "hpt's probe batch (S x S px)" for messages.
  int64_t probe_side() const;
  std::string probe_name() const;
  BuiltinCnn m_cnn{nullptr};
  std::shared_ptr<torch::jit::Module> m_script;
  std::string m_script_path;
  std::string m_origin;
  // How hpt guessed the input channels of a module that does not declare them
  // (script_channels), "" when it does or the spec came from a saved model.
  std::string m_channels_guess;
  InputSpec m_spec;
  std::string m_identity;
  bool m_trainable = false;
  int64_t m_feature_dim = -1;
  torch::Device m_device = torch::kCPU;
  bool m_channels_last = false;
};

// Loads module's weights from a torch::save file. Throws std::runtime_error "<path>: cannot
// load the weights: <LibTorch's first line>" for a file LibTorch cannot read (truncated, not
// a zip archive, a tensor missing), and "<path>: <name>: shape [..], expected [..]" where a
// tensor's shape differs from the module's (LibTorch replaces each tensor, whatever its shape, so a
// file from another model would load and fail later inside a matrix product). Returns the archive
// read, for the entries a file holds besides the module's (a cached CNN's checksum).
torch::serialize::InputArchive load_weights(torch::nn::Module& module, const std::string& path);

// Deep copies of a module's parameters and buffers (for restoring the best weights).
std::vector<torch::Tensor> snapshot_state(torch::nn::Module& module);
void restore_state(torch::nn::Module& module, const std::vector<torch::Tensor>& state);

}  // namespace hpt::trainer
