#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "hpt/schema/config_error.hpp"
#include "hpt/trainer/commands.hpp"
#include "hpt/trainer/run_outputs.hpp"
#include "hpt/trainer/saved_model.hpp"
#include "synthetic_idx.hpp"

using namespace hpt::trainer;
namespace fs = std::filesystem;

namespace {

nlohmann::json tiny_fixed(const std::string& data) {
  return {{"dataset", {{"format", "idx"}, {"path", data}}},
          {"epochs", 3},
          {"early_stopping_patience", 0},
          {"pretrain_epochs", 1},
          {"embedding_dim", 8},
          {"classes_per_batch", 4},
          {"images_per_class", 4},
          {"eval_pairs", 200},
          {"threads", 1}};
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line));  // Throws if a line is not JSON.
  }
  return out;
}

// Writes a 16x16 grey PNG with the class-c quadrant lit (as in synthetic_idx.hpp).
std::string write_png(const std::string& dir, int c) {
  std::vector<uint8_t> px(16 * 16);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      const bool lit = (y < 8) == (c / 2 == 0) && (x < 8) == (c % 2 == 0);
      px[y * 16 + x] = lit ? 200 : 50;
    }
  }
  const std::string path = dir + "/img" + std::to_string(c) + ".png";
  stbi_write_png(path.c_str(), 16, 16, 1, px.data(), 16);
  return path;
}

}  // namespace

// The worker prints one {"step","value"} line per epoch and a final result line with the
// user attributes; a second trial reuses the cached CNN and features; bad input throws.
TEST_CASE("worker protocol on a tiny IDX dataset", "[worker]") {
  const std::string data = hpt::test::make_synthetic_idx("worker");
  ::setenv("HPT_CACHE_DIR", (data + "/cache").c_str(), 1);
  WorkerEnv env;
  env.fixed = tiny_fixed(data).dump();
  env.params = R"({"dropout": 0.1, "intermediate_ff_block_units": "16", "learning_rate": 0.01})";
  env.seed = "7";
  env.trial_number = "0";
  std::ostringstream out, err;
  CHECK(run_worker(env, out, err) == 0);
  auto lines = json_lines(out.str());
  REQUIRE(lines.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i]["step"] == i + 1);
    CHECK(lines[i]["value"].get<double>() >= 0.0);
    CHECK(lines[i]["value"].get<double>() <= 1.0);
  }
  const auto& last = lines[3];
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    best = std::max(best, lines[i]["value"].get<double>());
  }
  CHECK(last["value"].get<double>() == best);
  const auto& attrs = last["user_attrs"];
  for (const char* key : {"test_roc_auc", "test_recall_at_1", "threshold", "confusion_matrix",
                          "roc_curve", "epochs"}) {
    CHECK(attrs.contains(key));
  }
  CHECK(attrs["epochs"] == 3);
  CHECK(attrs["roc_curve"]["fpr"].size() <= 50);
  CHECK(attrs["roc_curve"]["fpr"].size() == attrs["roc_curve"]["tpr"].size());
  CHECK(attrs["test_roc_auc"].get<double>() > 0.8);  // The classes are easy.
  int64_t pairs = 0;
  for (const auto& row : attrs["confusion_matrix"]) {
    for (const auto& v : row) {
      pairs += v.get<int64_t>();
    }
  }
  CHECK(pairs == 200);
  CHECK_THAT(err.str(), Catch::Contains("pretrained and cached"));

  std::ostringstream out2, err2;
  run_worker(env, out2, err2);
  CHECK_THAT(err2.str(), Catch::Contains("built-in CNN: cached"));
  CHECK_THAT(err2.str(), Catch::Contains("features: cached"));
  CHECK(json_lines(out2.str()) == lines);  // Same seed, same trial.

  // Two or more objectives: the final line gives "values" in their order (intermediate
  // lines stay single-objective on val_roc_auc); a bad HPT_SEED is one config error.
  env.params = R"({"objectives": ["val_roc_auc", "embedding_dim", "inference_ms"]})";
  std::ostringstream out3, err3;
  run_worker(env, out3, err3);
  auto mo = json_lines(out3.str());
  REQUIRE(mo.size() == 4);
  CHECK(mo[0].contains("value"));
  REQUIRE(mo[3]["values"].size() == 3);
  CHECK_FALSE(mo[3].contains("value"));
  CHECK(mo[3]["values"][1] == 8);  // embedding_dim of tiny_fixed.
  CHECK(mo[3]["values"][2].get<double>() > 0);
  CHECK_FALSE(mo[3].contains("constraints"));  // None configured: none reported.

  // Constraints: the final line reports each bound's value (met when <= 0), in order,
  // and inference_ms is measured for a constraint alone.
  env.params = R"({"constraints": [{"metric": "embedding_dim", "max": 6},
                                   {"metric": "val_roc_auc", "min": 0.1},
                                   {"metric": "inference_ms", "max": 1e9}]})";
  std::ostringstream out_c, err_c;
  run_worker(env, out_c, err_c);
  const auto constrained = json_lines(out_c.str());
  REQUIRE(constrained.back()["constraints"].size() == 3);
  CHECK(constrained.back()["constraints"][0] == 2);  // 8 - 6: violated.
  CHECK(constrained.back()["constraints"][1].get<double>() ==
        Approx(0.1 - constrained.back()["value"].get<double>()));
  CHECK(constrained.back()["constraints"][2].get<double>() < -1e8);  // Measured, far below.
  CHECK(constrained.back()["constraints"][2].get<double>() > -1e9);
  CHECK_THAT(err_c.str(), Catch::Contains("constraint embedding_dim <= 6: 8 (violated)"));
  CHECK_THAT(err_c.str(), Catch::Contains("(met)"));
  env.seed = "99999999999999999999";
  CHECK_THROWS_WITH(run_worker(env, out3, err3),
                    "HPT_SEED: expected an integer >= 0, got \"99999999999999999999\"");
  env.seed = "7";

  env.params = R"({"dropout": 1.5})";
  CHECK_THROWS_WITH(run_worker(env, out, err), Catch::Contains("dropout: must be in [0, 1)"));
  env.params = "[1]";
  CHECK_THROWS_AS(run_worker(env, out, err), hpt::ConfigError);
  env.params = R"({"epochs": 1e400})";  // Says why, not "expected a JSON object".
  CHECK_THROWS_WITH(run_worker(env, out, err),
                    Catch::StartsWith("HPT_PARAMS: not valid JSON (number overflow"));
  // A trial folder the run could not write fails before any training, naming the variable.
  env.params = "{}";
  std::ofstream(data + "/a-file") << "x";
  env.trial_dir = data + "/a-file";
  std::ostringstream err4;
  CHECK_THROWS_WITH(run_worker(env, out, err4), Catch::StartsWith("HPT_TRIAL_DIR: "));
  CHECK(err4.str().find("pretrain") == std::string::npos);
}

// hpt train writes metrics.json, the model and the projector files; match and embed
// load the saved model.
TEST_CASE("train, match and embed commands", "[commands]") {
  const std::string data = hpt::test::make_synthetic_idx("train");
  ::setenv("HPT_CACHE_DIR", (data + "/cache").c_str(), 1);
  const std::string out_dir = data + "/run\x1b[31m";  // An escape: printed as text, not sent.
  {
    std::ofstream yaml(data + "/exp.yaml");
    yaml << "experiment_name: tiny\n"
         << "dataset: {format: idx, path: " << data << "}\n"
         << "epochs: 2\npretrain_epochs: 1\nembedding_dim: 8\nclasses_per_batch: 4\n"
         << "images_per_class: 4\neval_pairs: 200\nthreads: 1\n";
  }
  CLI::App app("hpt");
  add_trainer_commands(app);
  std::vector<std::string> args = {"hpt",   "train", "--config", data + "/exp.yaml",
                                   "--out", out_dir};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  std::ostringstream said;
  auto* cout_buffer = std::cout.rdbuf(said.rdbuf());
  app.parse(static_cast<int>(argv.size()), argv.data());
  std::cout.rdbuf(cout_buffer);
  CHECK_THAT(said.str(), Catch::Contains("wrote " + data + "/run\\x1b[31m/metrics.json"));
  CHECK(said.str().find('\x1b') == std::string::npos);
  std::ifstream in(out_dir + "/metrics.json");
  auto metrics = nlohmann::json::parse(in);
  for (const char* key :
       {"val_roc_auc", "test_roc_auc", "test_recall_at_1", "threshold", "confusion_matrix",
        "roc_curve", "epochs", "timings", "objectives", "values", "constraints"}) {
    CHECK(metrics.contains(key));
  }
  for (const char* file : {"vectors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt",
                           "projector_config.json", "model.json", "head.pt", "cnn.pt"}) {
    CHECK(fs::exists(out_dir + "/" + file));
  }
  for (const auto& entry : fs::directory_iterator(out_dir)) {  // run_output_files is complete.
    const auto& names = run_output_files();
    CHECK(std::find(names.begin(), names.end(), entry.path().filename().string()) != names.end());
  }
  std::ifstream vectors(out_dir + "/vectors.tsv");
  std::string first;
  std::getline(vectors, first);
  CHECK(std::count(first.begin(), first.end(), '\t') == 7);  // embedding_dim 8.

  SavedModel model = load_model(out_dir);
  CHECK(model.threshold == metrics["threshold"].get<double>());
  const std::vector<std::string> images = {write_png(data, 0), write_png(data, 0),
                                           write_png(data, 3)};
  auto e = embed_files(model, images);
  CHECK((e.sizes() == torch::IntArrayRef{3, 8}));
  CHECK((torch::allclose(e.norm(2, 1), torch::ones({3}), 1e-4, 1e-5)));
  CHECK((e[0] - e[1]).norm().item<double>() < 1e-5);  // Same pixels, same embedding.

  std::vector<std::string> match_args = {"hpt", "match", "--model", out_dir, images[0], images[2]};
  std::vector<char*> match_argv;
  for (auto& a : match_args) {
    match_argv.push_back(a.data());
  }
  CLI::App app2("hpt");
  add_trainer_commands(app2);
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  app2.parse(static_cast<int>(match_argv.size()), match_argv.data());
  std::cout.rdbuf(old);
  CHECK_THAT(captured.str(), Catch::Contains("distance") && Catch::Contains("threshold"));
  CHECK_THROWS_WITH(load_model(data), Catch::Contains("no model.json"));
}

// A wrong --out fails when the command line is read, before any training (the cases of
// folder_problem: tests/io/test_folder.cpp).
TEST_CASE("hpt train checks --out before training", "[commands]") {
  const std::string data = hpt::test::make_synthetic_idx("out-check");
  std::ofstream(data + "/a-file") << "x";
  // Through the command line: a usage error naming --out, the dataset never read.
  std::ofstream(data + "/exp.yaml") << "dataset: {format: idx, path: /nonexistent}\n";
  CLI::App app("hpt");
  add_trainer_commands(app);
  std::vector<std::string> args = {"hpt",   "train",         "--config", data + "/exp.yaml",
                                   "--out", data + "/a-file"};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  CHECK_THROWS_AS(app.parse(static_cast<int>(argv.size()), argv.data()), CLI::ValidationError);
  CHECK(fs::file_size(data + "/a-file") == 1);
}
