#include "hpt/trainer/model.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/json_fields.hpp"
#include "hpt/io/regular_file.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/device.hpp"
#include "hpt/trainer/torch_error.hpp"

namespace hpt::trainer {

namespace F = torch::nn::functional;

namespace {

// The most bytes of a LibTorch message quoted in an error (cut at a word: shortened).
constexpr size_t k_message_bytes = 300;

}  // namespace

FFBlockImpl::FFBlockImpl(const FFBlockOptions& o) {
  m_linear = register_module("linear", torch::nn::Linear(o.in_features(), o.units()));
  m_norm = register_module("norm", torch::nn::BatchNorm1d(o.units()));
  m_dropout = register_module("dropout", torch::nn::Dropout(o.dropout()));
}

torch::Tensor FFBlockImpl::forward(const torch::Tensor& x) {
  return m_dropout(torch::relu(m_norm(m_linear(x))));
}

EmbeddingHeadImpl::EmbeddingHeadImpl(const EmbeddingHeadOptions& o) : m_options(o) {
  int64_t in = o.in_features();
  for (int64_t units : o.units()) {
    m_blocks->push_back(FFBlock(FFBlockOptions(in, units).dropout(o.dropout())));
    in = units;
  }
  register_module("blocks", m_blocks);
  m_out = register_module("out", torch::nn::Linear(in, o.embedding_dim()));
}

torch::Tensor EmbeddingHeadImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x.flatten(1);
  if (!m_blocks->is_empty()) {
    h = m_blocks->forward(h);
  }
  return F::normalize(m_out(h), F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

namespace {

// One CNN's four conv-BN-ReLU stages (a second convolution in the last double_conv_stages),
// max-pooled between them.
torch::nn::Sequential cnn_body(const BuiltinCnnOptions& o) {
  torch::nn::Sequential body;
  int64_t in = o.in_channels();
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t out = o.width() << stage;
    for (int conv = 0; conv < (o.double_conv_stages() >= 4 - stage ? 2 : 1); ++conv) {
      body->push_back(
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
      body->push_back(torch::nn::BatchNorm2d(out));
      body->push_back(torch::nn::ReLU());
      in = out;
    }
    if (stage < 3) {
      body->push_back(torch::nn::MaxPool2d(2));
    }
  }
  return body;
}

}  // namespace

BuiltinCnnImpl::BuiltinCnnImpl(const BuiltinCnnOptions& o) : m_options(o) {
  for (int64_t member = 0; member < o.members(); ++member) {
    m_bodies.push_back(register_module(
        member == 0 ? std::string("body") : fmt::format("body{}", member), cnn_body(o)));
  }
}

std::vector<torch::Tensor> BuiltinCnnImpl::member_features(const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  for (auto& body : m_bodies) {
    const torch::Tensor maps = body->forward(x);
    const torch::Tensor average = maps.mean({2, 3});
    out.push_back(m_options.avg_max() ? torch::cat({average, maps.amax({2, 3})}, 1) : average);
  }
  return out;
}

torch::Tensor BuiltinCnnImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> members = member_features(x);
  if (members.size() == 1) {
    return members[0];
  }
  for (auto& f : members) {
    f = F::normalize(f, F::NormalizeFuncOptions().dim(1));
  }
  return torch::cat(members, 1);
}

nlohmann::json to_json(const InputSpec& s) {
  return {{"channels", s.channels}, {"size", s.size}, {"mean", s.mean}, {"std", s.std}};
}

InputSpec input_spec_from_json(const nlohmann::json& j, const std::string& path) {
  const JsonFields f(j, path);
  InputSpec s;
  s.channels = f.integer("channels", 1, 3);
  s.size = f.integer("size", 0, k_max_image_size);
  s.mean = f.numbers("mean", 3);
  s.std = f.numbers("std", 3);
  if (auto problem = input_spec_problem(s)) {
    throw std::invalid_argument(path + ": " + *problem);
  }
  return s;
}

std::optional<std::string> input_spec_problem(const InputSpec& s) {
  if (s.channels != 1 && s.channels != 3) {
    return fmt::format("channels must be 1 or 3, got {}", s.channels);
  }
  if (s.size < 0 || s.size > k_max_image_size) {
    return fmt::format("size must be 0 (any) to {}, got {}", k_max_image_size, s.size);
  }
  struct List {
    const char* name;
    const std::vector<double>& values;
    bool positive;
  };
  for (const List& list : {List{"mean", s.mean, false}, List{"std", s.std, true}}) {
    if (static_cast<int64_t>(list.values.size()) != s.channels) {
      return fmt::format("{}: expected {} values (one per channel), got {}", list.name, s.channels,
                         list.values.size());
    }
    for (double v : list.values) {
      if (!std::isfinite(v) || (list.positive && !(v > 0))) {
        return fmt::format("{}: expected {} values, got {}", list.name,
                           list.positive ? "positive finite" : "finite", v);
      }
    }
  }
  return std::nullopt;
}

torch::Tensor to_input(const torch::Tensor& images, const InputSpec& spec) {
  return normalize_input(to_unit_range(images, spec), spec);
}

torch::Tensor to_unit_range(const torch::Tensor& images, const InputSpec& spec) {
  if (images.dim() != 4) {
    throw std::invalid_argument(
        fmt::format("to_input: expected uint8 [N, H, W, C] images, got {} dims", images.dim()));
  }
  torch::Tensor x = images.permute({0, 3, 1, 2}).to(torch::kFloat32).div(255.0);
  const int64_t c = x.size(1);
  if (c == 1 && spec.channels == 3) {
    x = x.expand({-1, 3, -1, -1});
  } else if (c == 3 && spec.channels == 1) {
    auto w = torch::tensor({0.299f, 0.587f, 0.114f}, x.options()).view({1, 3, 1, 1});
    x = (x * w).sum(1, true);
  } else if (c != spec.channels) {
    throw std::invalid_argument(
        fmt::format("to_input: cannot map {} channels to {}", c, spec.channels));
  }
  if (spec.size > 0 && (x.size(2) != spec.size || x.size(3) != spec.size)) {
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{spec.size, spec.size})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  return x.contiguous();
}

torch::Tensor normalize_input(const torch::Tensor& x, const InputSpec& spec) {
  const auto options = x.options().dtype(torch::kFloat32);
  auto mean = torch::tensor(std::vector<float>(spec.mean.begin(), spec.mean.end()), options)
                  .view({1, -1, 1, 1});
  auto std = torch::tensor(std::vector<float>(spec.std.begin(), spec.std.end()), options)
                 .view({1, -1, 1, 1});
  return ((x - mean) / std).contiguous();
}

InputSpec fit_input_spec(const torch::Tensor& images) {
  InputSpec s;
  s.channels = images.size(3);
  if (images.scalar_type() == torch::kUInt8 && images.device().is_cpu() && images.numel() > 1) {
    // One pass of 256-value histograms per channel (a trial does this for 47M Fashion-MNIST
    // pixels: seconds as float64 tensors, milliseconds this way); the same unbiased std.
    const torch::Tensor c = images.contiguous();
    const uint8_t* p = c.data_ptr<uint8_t>();
    const int64_t channels = s.channels;
    const int64_t pixels = c.numel() / channels;
    std::vector<std::array<int64_t, 256>> counts(static_cast<size_t>(channels));
    for (auto& h : counts) {
      h.fill(0);
    }
    s.mean.clear();
    s.std.clear();
    for (int64_t i = 0; i < pixels; ++i) {
      for (int64_t k = 0; k < channels; ++k) {
        ++counts[static_cast<size_t>(k)][p[i * channels + k]];
      }
    }
    for (const auto& h : counts) {
      double sum = 0;
      for (int v = 0; v < 256; ++v) {
        sum += static_cast<double>(h[v]) * (v / 255.0);
      }
      const double mean = sum / static_cast<double>(pixels);
      double squares = 0;
      for (int v = 0; v < 256; ++v) {
        squares += static_cast<double>(h[v]) * (v / 255.0 - mean) * (v / 255.0 - mean);
      }
      s.mean.push_back(mean);
      s.std.push_back(std::max(std::sqrt(squares / static_cast<double>(pixels - 1)), 1e-3));
    }
    return s;
  }
  auto x = images.reshape({-1, s.channels}).to(torch::kFloat64).div(255.0);
  auto mean = x.mean(0);
  auto std = x.std(0).clamp_min(1e-3);
  s.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + s.channels);
  s.std.assign(std.data_ptr<double>(), std.data_ptr<double>() + s.channels);
  return s;
}

namespace {

// A module attribute read by its declared type (IValue::to* asserts, with a PyTorch backtrace,
// on any other): throws std::runtime_error naming the attribute.
int64_t int_attribute(const torch::jit::Module& module, const char* name) {
  const torch::IValue v = module.attr(name);
  if (!v.isInt()) {
    throw std::runtime_error(fmt::format("{}: expected an int, got {}", name, v.tagKind()));
  }
  return v.toInt();
}

std::vector<double> float_list_attribute(const torch::jit::Module& module, const char* name) {
  const torch::IValue v = module.attr(name);
  std::vector<double> out;
  if (v.isList()) {
    for (const torch::IValue& x : v.toListRef()) {
      if (!x.isDouble() && !x.isInt()) {
        out.clear();
        break;
      }
      out.push_back(x.isDouble() ? x.toDouble() : static_cast<double>(x.toInt()));
    }
    if (out.size() == v.toListRef().size()) {
      return out;
    }
  }
  throw std::runtime_error(fmt::format("{}: expected a List[float], got {}", name,
                                       v.isList() ? v.type()->annotation_str() : v.tagKind()));
}

// The input channels of a module and, when it does not declare them (hpt_input_channels),
// how hpt guessed them ("read from its first 4-d weight conv.weight [8, 3, 3, 3]"; "" when
// declared).
std::pair<int64_t, std::string> script_channels(const torch::jit::Module& module) {
  if (module.hasattr("hpt_input_channels")) {
    return {int_attribute(module, "hpt_input_channels"), ""};
  }
  for (const auto& p : module.named_parameters()) {
    if (p.value.dim() == 4) {
      return {p.value.size(1), fmt::format("read from its first 4-d weight {} [{}]", p.name,
                                           fmt::join(p.value.sizes(), ", "))};
    }
  }
  return {3, "hpt's default: it has no 4-d weight to read them from"};
}

}  // namespace

InputSpec torchscript_input_spec(const torch::jit::Module& module, int64_t image_size) {
  InputSpec s;
  s.channels = script_channels(module).first;
  if (s.channels != 1 && s.channels != 3) {  // Checked here: the defaults below depend on it.
    throw std::runtime_error(fmt::format("expected 1 or 3 input channels, got {}", s.channels));
  }
  s.size = image_size;
  if (module.hasattr("hpt_input_size")) {
    s.size = int_attribute(module, "hpt_input_size");
  }
  if (s.channels == 3) {
    s.mean = {0.485, 0.456, 0.406};
    s.std = {0.229, 0.224, 0.225};
  } else {
    s.mean = {0.449};
    s.std = {0.226};
  }
  const std::pair<const char*, std::vector<double>*> lists[] = {{"hpt_input_mean", &s.mean},
                                                                {"hpt_input_std", &s.std}};
  for (const auto& [name, values] : lists) {
    if (module.hasattr(name)) {
      *values = float_list_attribute(module, name);
    }
  }
  if (auto problem = input_spec_problem(s)) {
    throw std::runtime_error("the module's hpt_input_* attributes: " + *problem);
  }
  return s;
}

FeatureExtractor::FeatureExtractor(BuiltinCnn cnn, InputSpec spec, std::string identity)
    : m_cnn(std::move(cnn)), m_spec(std::move(spec)), m_identity(std::move(identity)) {
  m_feature_dim = m_cnn->feature_dim();
  set_trainable(false);
}

FeatureExtractor FeatureExtractor::open_script(const std::string& path,
                                               const torch::Device& device) {
  FeatureExtractor e;
  e.m_device = device;
  try {
    hpt::require_regular_file(path);  // torch::jit::load would block on a FIFO.
    e.m_script = std::make_shared<torch::jit::Module>(torch::jit::load(path, device));
  } catch (const std::exception& ex) {
    throw std::runtime_error(fmt::format("cannot load TorchScript extractor {}: {}", path,
                                         shortened(torch_error_line(ex), k_message_bytes)));
  }
  e.m_script_path = path;
  e.m_identity = "torchscript:" + path + ":" + file_digest(path);
  e.set_trainable(false);
  return e;
}

FeatureExtractor FeatureExtractor::torchscript(const std::string& path, int64_t image_size,
                                               const torch::Device& device) {
  FeatureExtractor e = open_script(path, device);
  try {
    e.m_spec = torchscript_input_spec(*e.m_script, image_size);
    e.m_channels_guess = script_channels(*e.m_script).second;
  } catch (const std::exception& ex) {
    throw std::runtime_error(fmt::format("TorchScript extractor {}: {}", path, ex.what()));
  }
  e.feature_dim();  // The probe: forward() refuses an output that breaks its contract.
  return e;
}

void FeatureExtractor::to(const torch::Device& device, bool channels_last) {
  m_device = device;
  if (m_cnn) {
    m_cnn->to(device);
  } else {
    m_script->to(device);
  }
  m_channels_last = channels_last;
  if (channels_last) {
    to_channels_last(parameters());
  }
}

torch::Tensor FeatureExtractor::forward(const torch::Tensor& input) {
  const torch::Tensor x =
      m_channels_last ? input.contiguous(torch::MemoryFormat::ChannelsLast) : input;
  if (m_cnn) {
    return m_cnn->forward(x);
  }
  torch::IValue out;
  try {
    out = m_script->forward({x});
  } catch (const std::exception& e) {  // One line: the error, not TorchScript's traceback.
    throw std::runtime_error(fmt::format("{}: forward failed: {}", label(),
                                         shortened(torch_error_line(e), k_message_bytes)));
  }
  return script_features(out, x.size(0));
}

std::string FeatureExtractor::label() const {
  return (m_origin.empty() ? "" : m_origin + ": ") +
         (m_script ? "TorchScript extractor " + m_script_path : std::string("the built-in CNN"));
}

torch::Tensor FeatureExtractor::script_features(const torch::IValue& out, int64_t rows) const {
  const auto refuse = [&](const std::string& problem) {
    return std::runtime_error(
        fmt::format("{}: its output must be floating-point features [batch, ...] with one row "
                    "per image and at least one feature, got {}",
                    label(), problem));
  };
  torch::Tensor t;
  if (out.isTensor()) {
    t = out.toTensor();
  } else if (out.isTuple() && !out.toTupleRef().elements().empty() &&
             out.toTupleRef().elements()[0].isTensor()) {
    t = out.toTupleRef().elements()[0].toTensor();
  } else if (out.isTuple()) {
    const auto& elements = out.toTupleRef().elements();
    throw refuse(elements.empty()
                     ? std::string("an empty tuple")
                     : fmt::format("a tuple whose first element is {}", elements[0].tagKind()));
  } else {
    throw refuse(fmt::format("{} instead of a tensor", out.tagKind()));
  }
  const std::string shape = fmt::format("[{}]", fmt::join(t.sizes(), ", "));
  if (!t.is_floating_point()) {  // Integers, bool, complex: no conversion keeps their meaning.
    throw refuse(
        fmt::format("{} {} for a batch of {}", c10::toString(t.scalar_type()), shape, rows));
  }
  if (t.dim() < 2 || t.size(0) != rows || (rows > 0 && t.numel() == 0)) {
    throw refuse(fmt::format("shape {} for a batch of {}", shape, rows));
  }
  if (m_feature_dim >= 0 && rows > 0 && t.numel() / rows != m_feature_dim) {
    throw refuse(fmt::format("shape {} for a batch of {}, where {} gave {} features{}", shape, rows,
                             probe_name(), m_feature_dim,
                             m_spec.size > 0 ? ""
                                             : " (hpt_input_size 0 lets in images of any size, "
                                               "but its feature count depends on their size: "
                                               "declare the size it takes)"));
  }
  return t.flatten(1).to(torch::kFloat32);  // float16, bfloat16, float64: as float32.
}

torch::Tensor FeatureExtractor::extract(const torch::Tensor& images, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  train(false);
  // One pinned copy of the images; each batch then crosses the bus without blocking.
  const torch::Tensor source =
      m_device.is_cuda() && images.device().is_cpu() ? images.pin_memory() : images;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < images.size(0); i += batch_size) {
    auto batch = source.slice(0, i, std::min(i + batch_size, images.size(0)))
                     .to(m_device, /*non_blocking=*/true);
    parts.push_back(forward(to_input(batch, m_spec)));
  }
  if (parts.empty()) {
    return torch::zeros({0, feature_dim()});
  }
  return torch::cat(parts);
}

void FeatureExtractor::set_trainable(bool trainable) {
  m_trainable = trainable;
  for (auto& p : parameters()) {
    p.set_requires_grad(trainable);
  }
  train(false);
}

void FeatureExtractor::train(bool on) {
  const bool mode = on && m_trainable;  // A frozen extractor always runs in eval mode.
  if (m_cnn) {
    m_cnn->train(mode);
  } else {
    m_script->train(mode);
  }
}

std::vector<torch::Tensor> FeatureExtractor::parameters() {
  if (m_cnn) {
    return m_cnn->parameters();
  }
  std::vector<torch::Tensor> out;
  for (const auto& p : m_script->parameters()) {
    out.push_back(p);
  }
  return out;
}

int64_t FeatureExtractor::feature_dim() {
  if (m_feature_dim < 0) {
    m_feature_dim = probe();  // TorchScript: unknown until run.
  }
  return m_feature_dim;
}

namespace {

// The probe's images: two different seeded random ones (identical blank images hid a module
// that mixes the rows of a batch), side x side, and its generator's seed.
constexpr int64_t k_probe_side = 224;
constexpr uint64_t k_probe_seed = 20240601;
// How far (relative to the row's largest magnitude) an image's features alone may differ from
// the same image's in a batch: float rounding of another kernel, not another computation. On
// CUDA, cuDNN may pick another algorithm for another batch size and convolves in TF32 (about
// 1e-3 relative): a sound ResNet must pass, while a module that mixes rows or draws at random
// still differs by the features' own size.
constexpr double k_probe_tolerance = 1e-4;
constexpr double k_probe_tolerance_cuda = 1e-2;

// Whether features a equal b up to the tolerance of b's largest magnitude.
bool same_features(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  const double tolerance = b.is_cuda() ? k_probe_tolerance_cuda : k_probe_tolerance;
  return (a - b).abs().max().item<double>() <= tolerance * scale + 1e-7;
}

}  // namespace

int64_t FeatureExtractor::probe_side() const {
  return m_spec.size > 0 ? m_spec.size : k_probe_side;
}

std::string FeatureExtractor::probe_name() const {
  return fmt::format("hpt's probe batch ({} x {} px)", probe_side(), probe_side());
}

int64_t FeatureExtractor::probe() {
  torch::NoGradGuard no_grad;
  train(false);
  const int64_t side = probe_side();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(k_probe_seed);  // Not the global one.
  const torch::Tensor pixels = at::rand({2, m_spec.channels, side, side}, generator);
  const torch::Tensor x = normalize_input(pixels, m_spec).to(m_device);
  const auto fail = [&](const std::runtime_error& e, const std::string& why) {
    return std::runtime_error(std::string(e.what()) + " (" + why + ")");
  };
  torch::Tensor pair;
  try {
    pair = forward(x);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();  // "<label()>: forward failed: <LibTorch's line>".
    if (m_channels_guess.empty() || what.find("channels", label().size()) == std::string::npos) {
      if (m_script && !m_script->hasattr("hpt_input_size") &&
          what.find("channels", label().size()) == std::string::npos) {  // Not its channels.
        throw fail(e, fmt::format("on {} of {} channel{}, the size of the dataset's images or "
                                  "dataset.image_size; a module attribute hpt_input_size sets "
                                  "the size it takes",
                                  probe_name(), m_spec.channels, m_spec.channels == 1 ? "" : "s"));
      }
      throw;  // Declared, or failing on something else than its channels or size.
    }
    throw fail(e, fmt::format("on {} of {} channel{}: hpt guessed that count, {}; a module "
                              "attribute hpt_input_channels (1 or 3) sets it",
                              probe_name(), m_spec.channels, m_spec.channels == 1 ? "" : "s",
                              m_channels_guess));
  }
  const auto alone = [&](int64_t row) {
    try {
      return forward(x.slice(0, row, row + 1));
    } catch (const std::runtime_error& e) {
      throw fail(e,
                 "on one image: hpt match and embed run it one image at a time, where "
                 "training batches hold two or more; a .squeeze() that drops the batch "
                 "dimension?");
    }
  };
  const torch::Tensor one = alone(0);
  if (one.size(1) != pair.size(1)) {
    throw std::runtime_error(fmt::format(
        "{}: it gives {} features for one image but {} for each of two (hpt match and embed run "
        "it one image at a time)",
        label(), one.size(1), pair.size(1)));
  }
  // NaN features are the finite-feature checks' to name, with the split they come from.
  // Both rows: a module giving row i minus row 0 passes row 0 alone.
  if (torch::isfinite(pair).all().item<bool>() &&
      (!same_features(one[0], pair[0]) || !same_features(alone(1)[0], pair[1]))) {
    const bool random = !same_features(alone(0)[0], one[0]);
    throw std::runtime_error(fmt::format(
        "{}: {} export it after .eval()); hpt match and embed could not reproduce the features "
        "it trains on",
        label(),
        random ? "its output for the same image differs from run to run (a dropout or another "
                 "random op in training mode?"
               : "its output for one image differs from the same image in a batch of two: the "
                 "module mixes the rows of a batch (a BatchNorm in training mode?"));
  }
  return pair.size(1);
}

std::vector<torch::Tensor> FeatureExtractor::snapshot() {
  if (m_cnn) {
    return snapshot_state(*m_cnn);
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : m_script->parameters()) {
    out.push_back(p.detach().clone());
  }
  for (const auto& b : m_script->buffers()) {
    out.push_back(b.detach().clone());
  }
  return out;
}

void FeatureExtractor::restore(const std::vector<torch::Tensor>& state) {
  if (m_cnn) {
    restore_state(*m_cnn, state);
    return;
  }
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto p : m_script->parameters()) {
    p.copy_(state.at(i++));
  }
  for (auto b : m_script->buffers()) {
    b.copy_(state.at(i++));
  }
}

namespace {

// The content fingerprint in a TorchScript identity ("torchscript:<path>:<file_digest>").
std::string identity_fingerprint(const std::string& identity) {
  const size_t colon = identity.rfind(':');
  return content_fingerprint(colon == std::string::npos ? "" : identity.substr(colon + 1));
}

// Whether a relative path names something outside its folder ("../x", "a/../../x", "", ".").
bool leaves_folder(const std::string& relative) {
  const std::filesystem::path p = std::filesystem::path(relative).lexically_normal();
  return p.empty() || p == "." || *p.begin() == "..";
}

// Throws std::runtime_error naming file when its bytes are not those identity fingerprinted.
void check_fingerprint(const std::string& file, const std::string& identity) {
  const std::string now = content_fingerprint(file_digest(file));
  if (now != identity_fingerprint(identity)) {
    throw std::runtime_error(
        fmt::format("{}: the TorchScript extractor's bytes changed since the model was trained "
                    "(fingerprint {}, model.json's identity has {}); put the original file back",
                    file, now, identity_fingerprint(identity)));
  }
}

}  // namespace

void FeatureExtractor::copy_script_file(const std::string& target,
                                        const std::string& shared_dir) const {
  const std::string fingerprint = identity_fingerprint(m_identity);
  const auto copy_to = [&](const std::string& to) {
    hpt::write_stream_atomically(to, [&](std::ostream& out) {
      std::ifstream in(m_script_path, std::ios::binary);
      if (!(out << in.rdbuf())) {
        throw std::runtime_error(fmt::format("cannot copy {}", m_script_path));
      }
    });
  };
  // A hard link to hpt's own copy: no space taken per model (a study keeps a model per trial,
  // and a ResNet-50 is 100 MB). Never to the user's file: rewritten in place (torch.jit.save
  // truncates it), it would rewrite every model linked to it. A copy where links cannot be
  // made (another filesystem) or shared_dir cannot be written. Either way load() checks the
  // bytes.
  const auto link_shared = [&] {
    try {
      create_folder(shared_dir);
      const std::string kept = fmt::format("{}/{}.pt", shared_dir, fingerprint);  // By content.
      if (std::filesystem::symlink_status(kept).type() != std::filesystem::file_type::regular ||
          content_fingerprint(file_digest(kept)) != fingerprint) {
        copy_to(kept);
      }
      std::error_code ec;
      const std::string tmp = target + ".link-tmp";
      std::filesystem::remove(tmp, ec);
      std::filesystem::create_hard_link(kept, tmp, ec);
      const bool linked = !ec && (std::filesystem::rename(tmp, target, ec), !ec);
      std::filesystem::remove(tmp, ec);
      return linked;
    } catch (const std::exception&) {
      return false;  // A copy of its own instead.
    }
  };
  if (shared_dir.empty() || !link_shared()) {
    copy_to(target);
  }
  if (content_fingerprint(file_digest(target)) != fingerprint) {
    throw std::runtime_error(
        fmt::format("{}: the TorchScript extractor's bytes changed while the run used it; run "
                    "again with the file left as it is",
                    m_script_path));
  }
}

nlohmann::json FeatureExtractor::save(const std::string& dir, const std::string& shared_dir) {
  const torch::Device device = m_device;
  const bool channels_last = m_channels_last;
  to(torch::kCPU);  // Saved models load anywhere (hpt match/embed run on the CPU).
  nlohmann::json j = {{"input", to_json(m_spec)}, {"identity", m_identity}};
  if (m_cnn) {
    hpt::write_stream_atomically(dir + "/cnn.pt",
                                 [&](std::ostream& out) { torch::save(m_cnn, out); });
    j["kind"] = "builtin-cnn";
    j["in_channels"] = m_cnn->options().in_channels();
    j["width"] = m_cnn->options().width();
    j["double_conv_stages"] = m_cnn->options().double_conv_stages();
    j["pooling"] = m_cnn->options().avg_max() ? "avg+max" : "avg";
    j["members"] = m_cnn->options().members();
    j["file"] = "cnn.pt";
    j["fingerprint"] = content_fingerprint(file_digest(dir + "/cnn.pt"));
  } else {
    j["kind"] = "torchscript";
    j["source"] = m_script_path;
    // Fine-tuned weights are saved; a frozen module's file is copied: the folder stands alone.
    if (m_trainable) {
      hpt::write_stream_atomically(dir + "/extractor.pt",
                                   [&](std::ostream& out) { m_script->save(out); });
      j["fingerprint"] = content_fingerprint(file_digest(dir + "/extractor.pt"));
    } else {
      copy_script_file(dir + "/extractor.pt", shared_dir);
      j["frozen"] = true;  // extractor.pt holds the bytes the identity fingerprints.
    }
    j["file"] = "extractor.pt";
  }
  to(device, channels_last);
  return j;
}

FeatureExtractor FeatureExtractor::load(const nlohmann::json& j, const std::string& dir) {
  const JsonFields f(j, "extractor");
  const InputSpec spec = input_spec_from_json(f.object("input").json(), f.path("input"));
  const std::string kind = f.string("kind");
  std::string file = f.string("file");
  const std::string identity = f.string("identity");
  if (file.empty() || (file[0] != '/' && leaves_folder(file))) {
    throw std::invalid_argument(
        fmt::format("{}: \"{}\" leaves the model folder", f.path("file"), utf8_prefix(file, 200)));
  }
  if (kind == "builtin-cnn") {
    // Checked before anything is allocated: a hostile width would ask for terabytes.
    const int64_t channels = f.integer("in_channels", 1, 3);
    if (channels != spec.channels) {
      throw std::invalid_argument(fmt::format("{}: {} does not match {}.channels {}",
                                              f.path("in_channels"), channels, f.path("input"),
                                              spec.channels));
    }
    const std::string pooling = f.has("pooling") ? f.string("pooling") : "avg";
    if (pooling != "avg" && pooling != "avg+max") {
      throw std::invalid_argument(fmt::format("{}: expected \"avg\" or \"avg+max\", got \"{}\"",
                                              f.path("pooling"), utf8_prefix(pooling, 40)));
    }
    BuiltinCnnOptions options;
    options.in_channels(channels)
        .width(f.integer("width", k_min_builtin_cnn_width, k_max_builtin_cnn_width))
        .double_conv_stages(f.has("double_conv_stages") ? f.integer("double_conv_stages", 0, 4) : 0)
        .members(f.has("members") ? f.integer("members", 1, k_max_builtin_cnn_ensemble) : 1)
        .avg_max(pooling == "avg+max");
    // Three 2x2 max-pools: a side under 8 leaves nothing to pool (0 keeps the image's side).
    if (spec.size > 0 && spec.size < k_min_builtin_cnn_side) {
      throw std::invalid_argument(
          fmt::format("{}: the built-in CNN takes images of at least {} px, got {}",
                      f.path("input.size"), k_min_builtin_cnn_side, spec.size));
    }
    BuiltinCnn cnn(options);
    hpt::require_regular_file(dir + "/" + file);
    load_weights(*cnn, dir + "/" + file);  // A damaged file is named as such first.
    if (f.has("fingerprint")) {            // Models saved before hpt recorded one have none.
      check_saved_file(dir + "/" + file, f.string("fingerprint"));
    }
    return FeatureExtractor(cnn, spec, identity);
  }
  if (kind != "torchscript") {
    throw std::invalid_argument(
        fmt::format("{}: expected \"builtin-cnn\" or \"torchscript\", got \"{}\"", f.path("kind"),
                    utf8_prefix(kind, 40)));
  }
  // A frozen module's file is checked against its fingerprint: the copy (or link) in the
  // folder, or the absolute path that a model saved before hpt copied it names.
  const bool absolute = file[0] == '/';
  if (!absolute) {
    file = dir + "/" + file;
  }
  if (absolute || (j.contains("frozen") && j.at("frozen") == true)) {
    check_fingerprint(file, identity);
  }
  FeatureExtractor e = open_script(file, torch::kCPU);
  if (f.has("fingerprint")) {  // Fine-tuned weights of this run.
    check_saved_file(file, f.string("fingerprint"));
  }
  e.m_spec = spec;
  e.m_identity = identity;
  e.feature_dim();  // The probe, with the saved input spec.
  return e;
}

torch::serialize::InputArchive load_weights(torch::nn::Module& module, const std::string& path) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& item : module.named_parameters()) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  for (const auto& item : module.named_buffers()) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  torch::serialize::InputArchive archive;
  try {  // LibTorch's errors ("PytorchStreamReader failed ...") do not name the file.
    archive.load_from(path);
    module.load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: cannot load the weights: {}", path,
                                         shortened(torch_error_line(e), k_message_bytes)));
  }
  auto actual = module.named_parameters();
  auto buffers = module.named_buffers();
  for (const auto& [name, sizes] : expected) {
    const torch::Tensor* t = actual.find(name);
    if (t == nullptr) {
      t = buffers.find(name);
    }
    if (t != nullptr && t->sizes().vec() != sizes) {
      throw std::runtime_error(fmt::format("{}: {}: shape [{}], expected [{}]", path, name,
                                           fmt::join(t->sizes(), ", "), fmt::join(sizes, ", ")));
    }
  }
  return archive;
}

std::vector<torch::Tensor> snapshot_state(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : module.parameters()) {
    out.push_back(p.detach().clone());
  }
  for (const auto& b : module.buffers()) {
    out.push_back(b.detach().clone());
  }
  return out;
}

void restore_state(torch::nn::Module& module, const std::vector<torch::Tensor>& state) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : module.parameters()) {
    p.copy_(state.at(i++));
  }
  for (auto& b : module.buffers()) {
    b.copy_(state.at(i++));
  }
}

}  // namespace hpt::trainer
