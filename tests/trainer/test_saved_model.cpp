#include <fmt/format.h>
#include <sys/stat.h>

#include <cfloat>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <tuple>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/cache.hpp"
#include "hpt/trainer/experiment_run.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "small_experiment.hpp"
#include "support/temp_dir.hpp"
#include "torchscript_models.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

namespace {

// A small untrained model: a width-4 built-in CNN on 16x16 grey images and a head with one
// FF block whose BatchNorm statistics moved away from their initial values.
struct Model {
  explicit Model(BuiltinCnnOptions cnn = BuiltinCnnOptions().width(4)) {
    torch::manual_seed(7);
    spec.channels = 1;
    spec.size = 16;
    spec.mean = {0.3};
    spec.std = {0.2};
    extractor = std::make_unique<FeatureExtractor>(BuiltinCnn(cnn), spec, "cnn-test");
    head =
        EmbeddingHead(EmbeddingHeadOptions(extractor->feature_dim(), 4).units({8}).dropout(0.25));
    head->train();
    {
      torch::NoGradGuard no_grad;
      head->forward(torch::randn({16, extractor->feature_dim()}) * 3 + 1);
    }
    head->eval();
    config.experiment_name = "tiny";
    config.embedding_dim = 4;
    config.intermediate_ff_block_units = {8};
    config.dropout = 0.25;
    config.dataset.format = "idx";
    config.dataset.path = "/data/tiny";
  }
  // Embeddings of uint8 NHWC images through the extractor and the head.
  torch::Tensor embed(const torch::Tensor& images) {
    torch::NoGradGuard no_grad;
    return head->forward(extractor->extract(images));
  }

  InputSpec spec;
  std::unique_ptr<FeatureExtractor> extractor;
  EmbeddingHead head{nullptr};
  ExperimentConfig config;
};

// m saved by save_model with threshold into the new folder dir/model; returns its path.
std::string save_into(const hpt::test::TempDir& dir, Model& m, double threshold) {
  const std::string out = dir.file("model");
  fs::create_directory(out);
  save_model(out, m.head, *m.extractor, m.config, threshold, ImageShape{16, 16});
  return out;
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

void write_png(const std::string& path, const std::vector<uint8_t>& pixels, int side,
               int channels) {
  std::ofstream(path, std::ios::binary) << encode_png(pixels.data(), side, side, channels);
}

// The rows of a vectors.tsv (the run's test embeddings).
std::vector<std::vector<double>> read_vectors(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    rows.emplace_back(std::istream_iterator<double>(fields), std::istream_iterator<double>());
  }
  return rows;
}

// A folder dataset under root: 3 classes of 10 random RGB PNG images of side x side px.
std::vector<std::string> rgb_folder_dataset(const std::string& root, int side) {
  torch::manual_seed(11);
  std::vector<std::string> files;
  for (int c = 0; c < 3; ++c) {
    fs::create_directories(fmt::format("{}/c{}", root, c));
    for (int i = 0; i < 10; ++i) {
      const auto t = torch::randint(0, 256, {side * side * 3}).to(torch::kUInt8);
      files.push_back(fmt::format("{}/c{}/{}.png", root, c, i));
      std::ofstream(files.back(), std::ios::binary)
          << encode_png(t.data_ptr<uint8_t>(), side, side, 3);
    }
  }
  return files;
}

}  // namespace

// save_model writes model.json (format, config, head options, extractor entry, threshold),
// head.pt and cnn.pt and nothing else; load_model, from wherever the folder was moved, gives
// back the config, the threshold and a head in eval mode with the same embeddings.
TEST_CASE("save_model and load_model round-trip", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  Model m;
  const std::string out = save_into(dir, m, 0.75);
  CHECK(files_in(out) == std::set<std::string>{"model.json", "head.pt", "cnn.pt"});
  const auto meta = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  CHECK(meta.at("format") == "hpt-embedding-model-v1");
  CHECK(meta.at("head") ==
        nlohmann::json{{"in_features", m.extractor->feature_dim()},
                       {"embedding_dim", 4},
                       {"units", {8}},
                       {"dropout", 0.25},
                       {"fingerprint", content_fingerprint(file_digest(out + "/head.pt"))}});
  CHECK(meta.at("extractor").at("fingerprint") ==
        content_fingerprint(file_digest(out + "/cnn.pt")));
  CHECK(meta.at("threshold") == 0.75);
  CHECK(meta.at("extractor").at("identity") == "cnn-test");

  const std::string moved = dir.file("moved");
  fs::rename(out, moved);
  SavedModel loaded = load_model(moved);
  CHECK(loaded.threshold == 0.75);
  CHECK(loaded.config.experiment_name == "tiny");
  CHECK(loaded.config.dataset.path == "/data/tiny");
  CHECK(loaded.config.intermediate_ff_block_units == std::vector<int64_t>{8});
  CHECK(loaded.head->options().units() == std::vector<int64_t>{8});
  CHECK(loaded.head->options().dropout() == 0.25);
  CHECK_FALSE(loaded.head->is_training());
  CHECK(loaded.extractor.identity() == "cnn-test");
  CHECK(loaded.extractor.input_spec().mean == m.spec.mean);
  const auto images = torch::randint(0, 256, {5, 16, 16, 1}).to(torch::kUInt8);
  torch::Tensor reloaded;
  {
    torch::NoGradGuard no_grad;
    reloaded = loaded.head->forward(loaded.extractor.extract(images));
  }
  CHECK(torch::allclose(reloaded, m.embed(images), 1e-5, 1e-6));
}

// Model files are written through a temporary and renamed (torch::save truncated the target in
// place): a symbolic link planted at head.pt or cnn.pt is replaced, its target left untouched.
TEST_CASE("save_model never writes through a planted link", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  Model m;
  const std::string out = dir.file("model");
  fs::create_directory(out);
  std::ofstream(dir.file("precious.pt")) << "a user's model";
  fs::create_symlink(dir.file("precious.pt"), out + "/head.pt");
  fs::create_symlink(dir.file("precious.pt"), out + "/cnn.pt");
  save_model(out, m.head, *m.extractor, m.config, 0.5, ImageShape{16, 16});
  std::ifstream in(dir.file("precious.pt"));
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "a user's model");
  CHECK_FALSE(fs::is_symlink(out + "/head.pt"));
  CHECK_FALSE(fs::is_symlink(out + "/cnn.pt"));
  CHECK(load_model(out).threshold == 0.5);
}

// A model saved before builtin-cnn-v4 (one convolution a stage, average pooling, and no
// "double_conv_stages" or "pooling" in model.json) loads as that CNN, with its embeddings.
TEST_CASE("load_model reads a built-in CNN saved before builtin-cnn-v4", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-v3");
  Model m(BuiltinCnnOptions().width(4).double_conv_stages(0).avg_max(false));
  const std::string out = save_into(dir, m, 0.5);
  auto meta = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  CHECK(meta.at("extractor").at("pooling") == "avg");
  CHECK(meta.at("extractor").at("double_conv_stages") == 0);
  meta["extractor"].erase("pooling");
  meta["extractor"].erase("double_conv_stages");
  std::ofstream(out + "/model.json") << meta.dump();
  SavedModel loaded = load_model(out);
  CHECK(loaded.extractor.feature_dim() == 32);
  const auto images = torch::randint(0, 256, {3, 16, 16, 1}).to(torch::kUInt8);
  torch::NoGradGuard no_grad;
  CHECK(torch::allclose(loaded.head->forward(loaded.extractor.extract(images)), m.embed(images),
                        1e-5, 1e-6));
  // The same file read as the v4 CNN does not fit: one line naming the folder.
  meta["extractor"]["double_conv_stages"] = 2;
  std::ofstream(out + "/model.json") << meta.dump();
  try {
    load_model(out);
    FAIL("a CNN of another shape loaded");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(out) == 0);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  // Average and max pooling on the v3 weights: the CNN loads, but gives twice the features
  // the head takes; refused when loading, not at the first match.
  meta["extractor"]["double_conv_stages"] = 0;
  meta["extractor"]["pooling"] = "avg+max";
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), out +
                                         "/model.json: head.in_features: the head takes 32 "
                                         "features but the "
                                         "extractor gives 64");
}

// A model.json edited by hand or by an attacker: values no hpt wrote are refused with one
// line naming the file, before anything is allocated (a width of 10^9 would ask for ~10^19
// bytes, an input size of 10^9 for 10^18 pixels an image).
TEST_CASE("load_model refuses extractor values no hpt wrote", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-hostile");
  Model m;
  const std::string out = save_into(dir, m, 0.5);
  const auto good = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  const std::vector<std::pair<nlohmann::json::json_pointer, nlohmann::json>> edits = {
      {"/extractor/width"_json_pointer, 1000000000},
      {"/extractor/width"_json_pointer, 0},
      {"/extractor/in_channels"_json_pointer, 2},
      {"/extractor/double_conv_stages"_json_pointer, -9223372036854775807LL},
      {"/extractor/pooling"_json_pointer, "median"},
      {"/extractor/input/size"_json_pointer, 1000000000},
      {"/extractor/input/channels"_json_pointer, 4},
      {"/extractor/input/std"_json_pointer, {0.0}},
      {"/extractor/input/mean"_json_pointer, {0.1, 0.2}},
  };
  for (const auto& [where, value] : edits) {
    auto meta = good;
    meta[where] = value;
    std::ofstream(out + "/model.json") << meta.dump();
    INFO(where.to_string() << " = " << value.dump());
    try {
      load_model(out);
      FAIL("loaded");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.find(out + "/model.json: ") == 0);
      CHECK(what.find('\n') == std::string::npos);
    }
  }
  std::ofstream(out + "/model.json") << good.dump();
  CHECK(load_model(out).extractor.feature_dim() == m.extractor->feature_dim());
  // A FIFO planted as model.json is refused, not opened (that would block forever).
  std::filesystem::remove(out + "/model.json");
  REQUIRE(::mkfifo((out + "/model.json").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(load_model(out), out + "/model.json: not a regular file (a FIFO)");
  std::filesystem::remove(out + "/model.json");
  std::ofstream(out + "/model.json") << good.dump();
  for (const char* weights : {"head.pt", "cnn.pt"}) {  // Nor the weights LibTorch would open.
    const std::string path = out + "/" + weights;
    std::filesystem::rename(path, path + ".saved");
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(load_model(out), path + ": not a regular file (a FIFO)");
    std::filesystem::remove(path);
    std::filesystem::rename(path + ".saved", path);
  }
  CHECK_NOTHROW(load_model(out));
}

// embed_files decodes each file, converts it to the training channels and resizes it to the
// training size: a grey image, the same as RGB and the same at twice the size (2x2 blocks)
// embed as the pixels do; a missing file is an error naming it.
TEST_CASE("embed_files prepares images as in training", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  Model m;
  const std::string out = save_into(dir, m, 1.0);
  SavedModel model = load_model(out);

  const auto pattern = torch::randint(0, 256, {1, 16, 16, 1}).to(torch::kUInt8);
  const auto* p = pattern.data_ptr<uint8_t>();
  std::vector<uint8_t> grey(p, p + 256), rgb, big(32 * 32);
  for (uint8_t v : grey) {
    rgb.insert(rgb.end(), {v, v, v});
  }
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      big[y * 32 + x] = grey[(y / 2) * 16 + x / 2];
    }
  }
  const std::vector<std::string> files = {dir.file("grey.png"), dir.file("rgb.png"),
                                          dir.file("big.png")};
  write_png(files[0], grey, 16, 1);
  write_png(files[1], rgb, 16, 3);
  write_png(files[2], big, 32, 1);
  const auto e = embed_files(model, files);
  REQUIRE((e.sizes() == torch::IntArrayRef{3, 4}));
  const auto want = m.embed(pattern);
  for (int64_t i = 0; i < 3; ++i) {
    INFO(files[i]);
    CHECK(torch::allclose(e[i], want[0], 1e-4, 1e-5));
  }
  CHECK_THROWS_WITH(embed_files(model, {dir.file("none.png")}), Catch::Contains("none.png"));
}

// A folder without model.json, a model.json that is not JSON or lacks a key, and a missing
// head.pt are errors naming the folder or file.
TEST_CASE("load_model names what is missing", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  CHECK_THROWS_WITH(load_model(dir.file("")),
                    Catch::Contains("not a model folder (no model.json)"));
  Model m;
  const std::string out = save_into(dir, m, 0.5);
  auto meta = nlohmann::json::parse(std::ifstream(out + "/model.json"));

  std::ofstream(out + "/model.json") << "{\"format\": ";
  CHECK_THROWS_WITH(load_model(out), Catch::StartsWith(out + "/model.json: "));
  meta.erase("threshold");
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out),
                    Catch::StartsWith(out + "/model.json: ") && Catch::Contains("threshold"));
  meta["threshold"] = 0.5;
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK(load_model(out).threshold == 0.5);
  fs::remove(out + "/head.pt");
  CHECK_THROWS_WITH(load_model(out), out + "/head.pt: cannot open: No such file or directory");
  // A corrupt one: one line naming the file, LibTorch's error without its C++ backtrace.
  std::ofstream(out + "/head.pt") << "not a zip archive";
  CHECK_THROWS_WITH(load_model(out), out +
                                         "/head.pt: 17 bytes, too small for the head "
                                         "model.json declares (572 weights of 4 bytes)");
  std::ofstream(out + "/head.pt") << std::string(4096, 'x');
  CHECK_THROWS_WITH(
      load_model(out),
      Catch::StartsWith(out + "/head.pt: cannot load the weights: ") && !Catch::Contains("\n"));
}

// Another run's head.pt or cnn.pt of the same shapes, copied into a model folder, loads and
// decides otherwise: each is checked against the fingerprint model.json records (as a frozen
// TorchScript extractor's bytes are). A model saved before hpt recorded them still loads.
TEST_CASE("load_model refuses another run's weights", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  Model first;
  const std::string out = save_into(dir, first, 0.5);
  Model second;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : second.head->parameters()) {
      p.add_(1.0);
    }
    for (auto& p : second.extractor->parameters()) {
      p.add_(1.0);
    }
  }
  const std::string other = dir.file("other");
  fs::create_directory(other);
  save_model(other, second.head, *second.extractor, second.config, 0.5, ImageShape{16, 16});
  for (const char* weights : {"head.pt", "cnn.pt"}) {
    const std::string path = out + "/" + weights;
    fs::copy_file(path, path + ".saved");
    fs::copy_file(other + "/" + weights, path, fs::copy_options::overwrite_existing);
    CHECK_THROWS_WITH(load_model(out),
                      Catch::StartsWith(path + ": not the file saved with this model.json") &&
                          Catch::Contains("put back the one trained with it"));
    fs::rename(path + ".saved", path);
  }
  CHECK_NOTHROW(load_model(out));
  auto meta = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  meta["head"].erase("fingerprint");
  meta["extractor"].erase("fingerprint");
  std::ofstream(out + "/model.json") << meta.dump();
  fs::copy_file(other + "/head.pt", out + "/head.pt", fs::copy_options::overwrite_existing);
  CHECK_NOTHROW(load_model(out));
}

// A truncated head.pt or cnn.pt is named ("m: cannot load the model: PytorchStreamReader
// failed reading zip archive" named neither).
TEST_CASE("load_model names a truncated weights file", "[saved_model]") {
  hpt::test::TempDir dir("saved-model");
  Model m;
  const std::string out = save_into(dir, m, 0.5);
  for (const char* weights : {"head.pt", "cnn.pt"}) {
    const std::string path = out + "/" + weights;
    fs::copy_file(path, path + ".saved");
    fs::resize_file(path, fs::file_size(path) / 2);
    CHECK_THROWS_WITH(load_model(out), Catch::StartsWith(path + ": cannot load the weights: ") &&
                                           Catch::Contains("zip archive") &&
                                           !Catch::Contains("\n"));
    fs::rename(path + ".saved", path);
  }
  CHECK_NOTHROW(load_model(out));
}

// A model whose embeddings are not finite (here a head weight gone NaN) is an error naming the
// first such image, and embed_files returns nothing at all (hpt embed printed nulls, hpt match
// "distance nan: different", both with exit 0).
TEST_CASE("embed_files refuses non-finite embeddings", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-nan");
  Model m;
  SavedModel model = load_model(save_into(dir, m, 0.5));
  std::vector<uint8_t> grey(256, 100);
  write_png(dir.file("a.png"), grey, 16, 1);
  write_png(dir.file("b.png"), grey, 16, 1);
  REQUIRE_NOTHROW(embed_files(model, {dir.file("a.png")}));
  {
    torch::NoGradGuard no_grad;
    model.head->named_parameters()["out.bias"].fill_(std::nan(""));
  }
  CHECK_THROWS_WITH(embed_files(model, {dir.file("a.png"), dir.file("b.png")}),
                    dir.file("a.png") +
                        ": the model's embedding of this image is not finite (NaN "
                        "or infinity): its extractor or head is broken");
}

// The decision threshold is saved within [0, 2], the distances unit embeddings can have: a
// degenerate validation (-DBL_MAX: nothing beat "never same") saves 0, so an image matches
// itself; NaN is refused.
TEST_CASE("save_model keeps the threshold among possible distances", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-threshold");
  Model m;
  const std::string out = save_into(dir, m, -DBL_MAX);
  SavedModel model = load_model(out);
  CHECK(model.threshold == 0.0);
  write_png(dir.file("a.png"), std::vector<uint8_t>(256, 100), 16, 1);
  const auto e = embed_files(model, {dir.file("a.png"), dir.file("a.png")});
  CHECK((e[0] - e[1]).norm().item<double>() <= model.threshold);
  CHECK(saved_threshold(DBL_MAX) == 2.0);
  CHECK(saved_threshold(0.7) == 0.7);
  CHECK_THROWS_WITH(saved_threshold(std::nan("")), Catch::StartsWith("threshold: NaN"));
}

// match_line decides "same" at distance <= threshold and never prints the two alike when
// they differ (six decimals showed "0.015595 threshold 0.015595: different").
TEST_CASE("match_line", "[saved_model]") {
  CHECK(match_line(0.25, 0.5) == "distance 0.250000 threshold 0.500000: same");
  CHECK(match_line(0.5, 0.5) == "distance 0.500000 threshold 0.500000: same");
  CHECK(match_line(0.015595056, 0.015595024) ==
        "distance 0.0155951 threshold 0.0155950: different");  // Seven decimals.
  // Neighbouring doubles: 17 decimals tell them apart.
  CHECK(match_line(std::nextafter(0.3, 1.0), 0.3) ==
        "distance 0.30000000000000004 threshold 0.29999999999999999: different");
}

// Hand-edited model.json values are one line "<dir>/model.json: <key>: <problem>" before
// anything runs, and a head.pt that does not match model.json's head names the tensor.
TEST_CASE("load_model names the model.json key it refuses", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-keys");
  Model m;
  const std::string out = save_into(dir, m, 0.5);
  const auto good = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  const std::string file = out + "/model.json: ";
  using Edit = std::tuple<nlohmann::json::json_pointer, nlohmann::json, std::string>;
  const std::vector<Edit> edits = {
      {"/extractor/input/size"_json_pointer, 1,
       "extractor.input.size: the built-in CNN takes images of at least 8 px, got 1"},
      {"/threshold"_json_pointer, "0.5", "threshold: expected a number from 0 to 2, got \"0.5\""},
      {"/threshold"_json_pointer, -1e308, "threshold: expected a number from 0 to 2, got -1e+308"},
      {"/format"_json_pointer, "hpt-embedding-model-v9",
       "format: expected \"hpt-embedding-model-v1\", got \"hpt-embedding-model-v9\""},
      {"/head/units"_json_pointer,
       {8, "x"},
       "head.units[1]: expected an integer from 1 to 16384, got \"x\""},
      {"/head/dropout"_json_pointer, nullptr,
       "head.dropout: expected a number from 0 to 1, got null"},
      {"/head/in_features"_json_pointer, 12,
       "head.in_features: the head takes 12 features but the extractor gives 64"},
      {"/extractor/kind"_json_pointer, "onnx",
       "extractor.kind: expected \"builtin-cnn\" or \"torchscript\", got \"onnx\""},
  };
  for (const auto& [where, value, message] : edits) {
    auto meta = good;
    meta[where] = value;
    std::ofstream(out + "/model.json") << meta.dump();
    INFO(where.to_string() << " = " << value.dump());
    CHECK_THROWS_WITH(load_model(out), file + message);
  }
  auto meta = good;
  meta.erase("threshold");
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), file + "threshold: missing");
  meta = good;
  meta.erase("extractor");  // Was the JSON library's "[json.exception.out_of_range.403] ...".
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), file + "extractor: missing");
  meta = good;
  meta["config"]["dataset"]["format"] = "zip";  // Named under "config", where it is.
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), Catch::StartsWith(file + "config: dataset.format: "));
  // embedding_dim 9 against a head.pt of 4: the file's shape is named, not a matmul error.
  meta = good;
  meta["head"]["embedding_dim"] = 9;
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), out + "/head.pt: out.weight: shape [4, 8], expected [9, 8]");
  // 64 blocks of 16384 units (68 GB of weights) against a head.pt of a few KB: refused before
  // the head is built.
  meta = good;
  meta["head"]["units"] = std::vector<int64_t>(64, 16384);
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out),
                    Catch::StartsWith(out + "/head.pt: ") &&
                        Catch::EndsWith(" bytes, too small for the head model.json declares "
                                        "(16915693572 weights of 4 bytes)"));
  // A head.pt from another model (another block width).
  std::ofstream(out + "/model.json") << good.dump();
  Model other;
  other.head = EmbeddingHead(EmbeddingHeadOptions(other.extractor->feature_dim(), 4).units({12}));
  fs::copy_file(out + "/head.pt", out + "/head.pt.saved");
  torch::save(other.head, out + "/head.pt");
  CHECK_THROWS_WITH(load_model(out), out +
                                         "/head.pt: blocks.0.linear.weight: shape [12, 64], "
                                         "expected [8, 64]");
  fs::rename(out + "/head.pt.saved", out + "/head.pt");
  CHECK_NOTHROW(load_model(out));
  // Nesting that would exhaust the stack while parsing is refused before parsing.
  std::ofstream(out + "/model.json") << std::string(100000, '[') << std::string(100000, ']');
  CHECK_THROWS_WITH(load_model(out), Catch::StartsWith(file + "nested deeper than"));
}

// hpt embed runs each file through the training path: the dataset loader's decode and resize
// (dataset.image_size), then the extractor's input conversion as training does it (RGB to
// grey in float, a fixed input size interpolated from the dataset's size). So the test
// embeddings a run writes (vectors.tsv) are what embed_files gives the same files, to 1e-5:
// an RGB folder dataset at image_size 16 (files of 20 x 20) with a 1-channel CNN, and with a
// module of fixed input size 4. embed_files converted RGB to grey in integers and resized from
// the file's own size, and the embeddings differed.
TEST_CASE("embed_files embeds a dataset's images as training did", "[saved_model][torchscript]") {
  const std::string models = hpt::test::torchscript_models();
  if (models.empty()) {
    WARN("python3 cannot import torch: TorchScript extractor test skipped");
    return;
  }
  hpt::test::TempDir dir("embed-as-trained");
  const std::vector<std::string> files = rgb_folder_dataset(dir.file("data"), 20);
  ::setenv("HPT_CACHE_DIR", dir.file("cache").c_str(), 1);
  for (const char* extractor : {"cnn_gray.pt", "echo_gray.pt"}) {
    INFO(extractor);
    ExperimentConfig c =
        hpt::test::small_experiment("folder", dir.file("data"), models + "/" + extractor, 3, 2);
    c.dataset.image_size = 16;
    c.dataset.val_fraction = 0.2;
    c.dataset.test_fraction = 0.3;
    c.epochs = 1;
    c.steps_per_epoch = 2;
    c.eval_pairs = 100;
    RunOptions o;
    o.out_dir = dir.file(std::string("run-") + extractor);
    run_experiment(c, o);
    const auto meta = nlohmann::json::parse(std::ifstream(o.out_dir + "/model.json"));
    CHECK(meta.at("images") == nlohmann::json{{"height", 16}, {"width", 16}});
    SavedModel model = load_model(o.out_dir);
    const torch::Tensor embedded = embed_files(model, files);
    const auto vectors = read_vectors(o.out_dir + "/vectors.tsv");
    REQUIRE(vectors.size() == 9);  // The test split.
    for (const auto& row : vectors) {
      const auto want = torch::tensor(row, torch::kFloat32);
      REQUIRE(want.size(0) == embedded.size(1));
      const double nearest = (embedded - want).abs().amax(1).min().item<double>();
      CHECK(nearest < 1e-5);
    }
  }
}

// A built-in CNN trained on non-square native images (image_size 0, 16 x 24) records their
// size in model.json, and embed_files brings every image to it as the dataset loader would:
// the same image at twice the size (2 x 2 blocks) embeds as the pixels do. The model recorded
// input.size 0 and embedded the larger image at another scale. A model saved before the size
// was recorded still loads.
TEST_CASE("embed_files brings images to the non-square training size", "[saved_model]") {
  hpt::test::TempDir dir("saved-model-wide");
  Model m;
  m.spec.size = 0;
  m.extractor = std::make_unique<FeatureExtractor>(BuiltinCnn(BuiltinCnnOptions().width(4)), m.spec,
                                                   "cnn-wide");
  const std::string out = dir.file("model");
  fs::create_directory(out);
  save_model(out, m.head, *m.extractor, m.config, 1.0, ImageShape{16, 24});
  auto meta = nlohmann::json::parse(std::ifstream(out + "/model.json"));
  CHECK(meta.at("images") == nlohmann::json{{"height", 16}, {"width", 24}});
  SavedModel model = load_model(out);
  CHECK(model.trained_on.height == 16);
  CHECK(model.trained_on.width == 24);

  const auto pattern = torch::randint(0, 256, {1, 16, 24, 1}).to(torch::kUInt8);
  const auto* p = pattern.data_ptr<uint8_t>();
  std::vector<uint8_t> big(32 * 48);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 48; ++x) {
      big[y * 48 + x] = p[(y / 2) * 24 + x / 2];
    }
  }
  std::ofstream(dir.file("wide.png"), std::ios::binary) << encode_png(p, 24, 16, 1);
  std::ofstream(dir.file("wide_x2.png"), std::ios::binary) << encode_png(big.data(), 48, 32, 1);
  const auto e = embed_files(model, {dir.file("wide.png"), dir.file("wide_x2.png")});
  const auto want = m.embed(pattern);
  CHECK(torch::allclose(e[0], want[0], 1e-4, 1e-5));
  CHECK(torch::allclose(e[1], want[0], 1e-4, 1e-5));

  meta.erase("images");  // As hpt wrote it before.
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK(load_model(out).trained_on.height == 0);
  meta["images"] = {{"height", 16}, {"width", 0}};
  std::ofstream(out + "/model.json") << meta.dump();
  CHECK_THROWS_WITH(load_model(out), out +
                                         "/model.json: images.width: expected an integer from 1 "
                                         "to 67108864, got 0");
}
