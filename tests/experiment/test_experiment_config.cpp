#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/schema/config_error.hpp"
#include "source_paths.hpp"
#include "support/temp_dir.hpp"

using hpt::ConfigError;
using hpt::trainer::experiment_from_json;
using hpt::trainer::ExperimentConfig;
using hpt::trainer::input_path_problems;
using hpt::trainer::origin_of;
using hpt::trainer::parse_experiment;

namespace {

ExperimentConfig parse(const std::string& text) {
  return parse_experiment(YAML::Load(text), "x.yaml");
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const std::string k_dataset = "dataset: {format: idx, path: /data}\n";

}  // namespace

// The report's example keys are read; unspecified keys keep their defaults.
TEST_CASE("report example parses with defaults", "[experiment]") {
  auto c = parse(
      "experiment_name: \"efficientnet_with_ff_block\"\nseed: 3\nimage_augmentation: False\n"
      "embedding_dim: 128\nintermediate_ff_block_units: [512, 256]\ndropout: 0.5\n"
      "epochs: 50\nearly_stopping_patience: 10\n" +
      k_dataset);
  CHECK(c.experiment_name == "efficientnet_with_ff_block");
  CHECK(c.seed == 3);
  CHECK_FALSE(c.image_augmentation);
  CHECK(c.embedding_dim == 128);
  CHECK(c.intermediate_ff_block_units == std::vector<int64_t>{512, 256});
  CHECK(c.dropout == 0.5);
  CHECK(c.epochs == 50);
  CHECK(c.early_stopping_patience == 10);
  CHECK(c.feature_extractor == "builtin-cnn");
  CHECK(c.loss == "semi-hard");
  CHECK(c.margin == 0.03);  // Defaults from bench/trainer/quality_sweep.sh.
  CHECK(c.distance == "squared");
  CHECK(c.lr_schedule == "cosine");
  CHECK_FALSE(c.trainable_extractor);
  CHECK(c.dataset.format == "idx");
  CHECK(c.dataset.path == "/data");
}

// Unknown keys fail with file, line, key and a near-miss suggestion.
TEST_CASE("unknown key names the line and suggests", "[experiment]") {
  std::string e = error_of(k_dataset + "lerning_rate: 0.1\n");
  CHECK(e == "x.yaml:2: lerning_rate: unknown key 'lerning_rate' (did you mean 'learning_rate'?)");
  CHECK_THAT(error_of("dataset: {format: idx, pth: /d}\n"), Catch::Contains("did you mean 'path'"));
}

// Out-of-range and mistyped values fail naming the key and the value received.
TEST_CASE("ranges and types are checked", "[experiment]") {
  CHECK_THAT(error_of(k_dataset + "dropout: 1.0\n"),
             Catch::Contains("x.yaml:2: dropout: must be in [0, 1), got 1"));
  CHECK_THAT(error_of(k_dataset + "embedding_dim: 0\n"),
             Catch::Contains("embedding_dim: must be in [2, 16384], but got 0"));
  // One dimension: every L2-normalised embedding is +1 or -1 (pair AUC 0.5 whatever it learns).
  CHECK(error_of(k_dataset + "embedding_dim: 1\n") ==
        "x.yaml:2: embedding_dim: must be in [2, 16384], but got 1");
  CHECK(parse(k_dataset + "embedding_dim: 2\n").embedding_dim == 2);
  // An epoch of 1e12 steps ran without end or output: a typo.
  CHECK(error_of(k_dataset + "steps_per_epoch: 1000000000000\n") ==
        "x.yaml:2: steps_per_epoch: must be in [0, 10000000], but got 1000000000000");
  CHECK(parse(k_dataset + "steps_per_epoch: 10000000\n").steps_per_epoch == 10000000);
  CHECK_THAT(error_of(k_dataset + "margin: -0.5\n"), Catch::Contains("margin: must be in (0, 4]"));
  CHECK_THAT(error_of(k_dataset + "margin: 1e300\n"), Catch::Contains("margin: must be in (0, 4]"));
  CHECK_NOTHROW(parse(k_dataset + "margin: 4\n"));
  CHECK_THAT(error_of(k_dataset + "epochs: abc\n"),
             Catch::Contains("epochs: expected an integer, got \"abc\""));
  CHECK_THAT(error_of(k_dataset + "builtin_cnn_width: 2\n"),
             Catch::Contains("x.yaml:2: builtin_cnn_width: must be in [4, 256], got 2"));
  CHECK(parse(k_dataset + "builtin_cnn_width: 24\n").builtin_cnn_width == 24);
  CHECK(parse(k_dataset).builtin_cnn_width == 16);
  CHECK(parse(k_dataset).builtin_cnn_ensemble == 1);
  CHECK(parse(k_dataset + "builtin_cnn_ensemble: 2\n").builtin_cnn_ensemble == 2);
  CHECK_THAT(error_of(k_dataset + "builtin_cnn_ensemble: 9\n"),
             Catch::Contains("x.yaml:2: builtin_cnn_ensemble: must be in [1, 8], but got 9"));
  CHECK_THAT(error_of(k_dataset + "loss: hard\n"),
             Catch::Contains("expected semi-hard or batch-hard"));
  CHECK_THAT(error_of(k_dataset + "intermediate_ff_block_units: [64, -1]\n"),
             Catch::Contains("intermediate_ff_block_units[1]: must be in [1, 16384], but got -1"));
  CHECK_THAT(error_of(k_dataset + "feature_extractor: resnet\n"), Catch::Contains("TorchScript"));
  CHECK_THAT(error_of("seed: 1\n"), Catch::Contains("missing required key 'dataset'"));
  CHECK_THAT(error_of("dataset: {format: png, path: /d}\n"), Catch::Contains("dataset.format"));
}

// A zero too many must not allocate without bound: sizes that reach memory have a ceiling,
// and the P x K batch (its B x B distances) is checked across its two keys.
TEST_CASE("sizes that allocate have a ceiling", "[experiment]") {
  CHECK_THAT(error_of(k_dataset + "embedding_dim: 100000000\n"),
             Catch::Contains("x.yaml:2: embedding_dim: must be in [2, 16384], but got 100000000"));
  CHECK_THAT(error_of(k_dataset + "intermediate_ff_block_units: [512, 2560000]\n"),
             Catch::Contains("intermediate_ff_block_units[1]: must be in [1, 16384]"));
  // As many blocks as a saved model may declare, and not one more.
  std::string blocks = "intermediate_ff_block_units: [";
  for (size_t i = 0; i < hpt::trainer::k_max_blocks; ++i) {
    blocks += i == 0 ? "8" : ", 8";
  }
  CHECK(parse(k_dataset + blocks + "]\n").intermediate_ff_block_units.size() ==
        hpt::trainer::k_max_blocks);
  CHECK_THAT(error_of(k_dataset + blocks + ", 8]\n"),
             Catch::Contains("x.yaml:2: intermediate_ff_block_units: 65 blocks; at most 64"));
  CHECK_THAT(error_of(k_dataset + "eval_pairs: 1000000000000\n"),
             Catch::Contains("eval_pairs: must be in [10, 10000000]"));
  CHECK_THAT(error_of(k_dataset + "threads: 100000\n"),
             Catch::Contains("threads: must be in [0, 1024]"));
  CHECK_THAT(error_of(k_dataset + "images_per_class: 5000\n"),
             Catch::Contains("images_per_class: must be in [2, 4096]"));
  CHECK(error_of(k_dataset + "classes_per_batch: 8\nimages_per_class: 2000\n") ==
        "x.yaml:3: images_per_class: classes_per_batch x images_per_class must be at most 8192 "
        "(the triplet loss holds a batch x batch distance matrix), got 8 x 2000");
  CHECK_THAT(error_of(k_dataset + "classes_per_batch: 4000\n"),
             Catch::Contains("x.yaml:2: classes_per_batch: classes_per_batch x images_per_class"));
  // Both set: the larger is named (it named images_per_class, which the user had not changed).
  CHECK_THAT(error_of(k_dataset + "classes_per_batch: 4096\nimages_per_class: 4\n"),
             Catch::StartsWith("x.yaml:2: classes_per_batch: classes_per_batch x "
                               "images_per_class must be at most 8192"));
  const auto largest = parse(k_dataset +
                             "classes_per_batch: 1024\nimages_per_class: 8\n"
                             "embedding_dim: 16384\n");
  CHECK(largest.classes_per_batch * largest.images_per_class == 8192);
  CHECK(largest.embedding_dim == 16384);
}

// device, precision, distance and the learning-rate schedule: choices checked with file:line,
// and the device key's location kept for the run-time "no CUDA" error.
TEST_CASE("device and precision keys", "[experiment][device]") {
  auto c = parse(k_dataset +
                 "device: cuda:1\nprecision: bf16\ndistance: euclidean\n"
                 "lr_schedule: constant\nwarmup_steps: 100\n");
  CHECK(c.device == "cuda:1");
  CHECK(origin_of(c, "device") == "x.yaml:2: device");
  CHECK(origin_of(c, "precision") == "x.yaml:3: precision");
  CHECK(origin_of(parse(k_dataset), "device") == "device");
  CHECK(c.precision == "bf16");
  CHECK(c.distance == "euclidean");
  CHECK(c.lr_schedule == "constant");
  CHECK(c.warmup_steps == 100);
  const auto d = parse(k_dataset);
  CHECK(d.device == "auto");
  CHECK(d.precision == "fp32");
  for (const char* ok : {"auto", "cpu", "cuda", "cuda:0", "cuda:15"}) {
    CHECK(parse(k_dataset + "device: \"" + ok + "\"\n").device == ok);
  }
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:123456", "CPU", "cuda0"}) {
    CHECK_THAT(error_of(k_dataset + "device: \"" + bad + "\"\n"),
               Catch::StartsWith("x.yaml:2: device: expected auto, cpu, cuda or cuda:N"));
  }
  CHECK(error_of(k_dataset + "precision: fp8\n") ==
        "x.yaml:2: precision: expected fp32 | bf16 | fp16, got \"fp8\"");
  CHECK_THAT(error_of(k_dataset + "distance: cosine\n"),
             Catch::Contains("distance: expected euclidean | squared"));
  CHECK_THAT(error_of(k_dataset + "warmup_steps: -1\n"),
             Catch::Contains("warmup_steps: must be >= 0"));
  auto j = experiment_from_json(
      {{"dataset", {{"format", "idx"}, {"path", "/d"}}}, {"device", "cuda"}}, "HPT_FIXED");
  CHECK(origin_of(j, "device") == "HPT_FIXED: device");
}

// JSON (worker path) gets the same checks, and to_json round-trips every field.
TEST_CASE("json path and round trip", "[experiment]") {
  nlohmann::json j = {{"dataset", {{"format", "idx"}, {"path", "/d"}}},
                      {"dropout", 0.25},
                      {"intermediate_ff_block_units", nlohmann::json::array()},
                      {"learning_rate", 0.003},
                      {"trainable_extractor", true}};
  auto c = experiment_from_json(j, "HPT_PARAMS");
  CHECK(c.dropout == 0.25);
  CHECK(c.learning_rate == 0.003);
  CHECK(c.trainable_extractor);
  CHECK(c.intermediate_ff_block_units.empty());
  auto back = experiment_from_json(hpt::trainer::to_json(c), "again");
  CHECK(hpt::trainer::to_json(back) == hpt::trainer::to_json(c));
  j["dropout"] = 2;
  CHECK_THROWS_WITH(experiment_from_json(j, "HPT_PARAMS"),
                    "HPT_PARAMS: dropout: must be in [0, 1), got 2");
  j["dropout"] = "x";
  CHECK_THROWS_AS(experiment_from_json(j, "HPT_PARAMS"), ConfigError);
  j["dropout"] = "0.25";  // A string, even one that reads as a number (as a quoted YAML "0.25").
  CHECK_THROWS_WITH(experiment_from_json(j, "HPT_PARAMS"),
                    "HPT_PARAMS: dropout: expected a number, got \"0.25\" (quoted or tagged as a "
                    "string)");
  CHECK(hpt::trainer::experiment_keys().size() == hpt::trainer::to_json(c).size());
}

// One table drives the key list, printing and the origins: every listed key is printed, every
// given key's line is kept, and a missing required dataset key is named.
TEST_CASE("the key table drives keys, printing and origins", "[experiment][keys]") {
  const auto c = parse(k_dataset + "epochs: 4\nlearning_rate: 0.01\n");
  const nlohmann::json j = hpt::trainer::to_json(c);
  for (const auto& key : hpt::trainer::experiment_keys()) {
    CHECK(j.contains(key));
  }
  for (const auto& key : hpt::trainer::dataset_keys()) {
    CHECK(j["dataset"].contains(key));
  }
  CHECK(j["epochs"] == 4);
  CHECK(origin_of(c, "epochs") == "x.yaml:2: epochs");
  CHECK(origin_of(c, "learning_rate") == "x.yaml:3: learning_rate");
  CHECK(error_of("dataset: {format: idx}\n") == "x.yaml:1: dataset: missing required key 'path'");
  CHECK(error_of("dataset: {format: idx, path: \"\"}\n") ==
        "x.yaml:1: dataset.path: must not be empty");
  CHECK(error_of("dataset: {format: idx, path: /d, image_size: 8}\n") ==
        "x.yaml:1: dataset.image_size: must be 0 (native) or 16 to 2048, got 8");
  // A careless zero too many would resize every image to 10^10 pixels.
  CHECK(error_of("dataset: {format: idx, path: /d, image_size: 100000}\n") ==
        "x.yaml:1: dataset.image_size: must be 0 (native) or 16 to 2048, got 100000");
  CHECK(error_of("dataset: {format: idx, path: /d, val_fraction: 0.5, test_fraction: 0.5}\n") ==
        "x.yaml:1: dataset: val_fraction + test_fraction must be < 1, got 1");
  // A split of no images cannot be evaluated: refused at parse, not after loading the images.
  CHECK(error_of("dataset: {format: idx, path: /d, val_fraction: 0}\n") ==
        "x.yaml:1: dataset.val_fraction: must be in (0, 1), got 0");
  CHECK(error_of("dataset: {format: idx, path: /d, test_fraction: 0.0}\n") ==
        "x.yaml:1: dataset.test_fraction: must be in (0, 1), got 0");
}

// Nested keys have origins too ("dataset.path"), and input_path_problems names the key and
// the path of a dataset folder or TorchScript file that cannot be read.
TEST_CASE("input_path_problems", "[experiment][paths]") {
  hpt::test::TempDir tmp("paths");
  std::ofstream(tmp.file("model.pt")) << "x";
  std::filesystem::create_directories(tmp.path() / "model_dir.pt");
  const auto config = [&](const std::string& path, const std::string& extractor) {
    return parse("dataset: {format: idx, path: '" + path + "'}\nfeature_extractor: '" + extractor +
                 "'\n");
  };
  using Problems = std::vector<std::pair<std::string, std::string>>;
  const ExperimentConfig good = config(tmp.path().string(), tmp.file("model.pt"));
  CHECK(origin_of(good, "dataset.path") == "x.yaml:1: dataset.path");
  CHECK(input_path_problems(good).empty());
  CHECK(input_path_problems(config(tmp.path().string(), "builtin-cnn")).empty());
  CHECK(input_path_problems(config(tmp.file("fashion-mnis"), tmp.file("modle.pt"))) ==
        Problems{{"dataset.path", "no such folder '" + tmp.file("fashion-mnis") + "'"},
                 {"feature_extractor", "no such file '" + tmp.file("modle.pt") + "'"}});
  CHECK(input_path_problems(config(tmp.file("model.pt"), tmp.file("model_dir.pt"))) ==
        Problems{{"dataset.path", "'" + tmp.file("model.pt") + "' is not a folder"},
                 {"feature_extractor", "'" + tmp.file("model_dir.pt") + "' is not a file"}});
  // A relative path is from the working folder, which the message names.
  CHECK(input_path_problems(config("../no-such-data", "builtin-cnn")) ==
        Problems{{"dataset.path",
                  "no such folder '../no-such-data' (a relative path: from the "
                  "working folder " +
                      std::filesystem::current_path().string() + ")"}});
  // A leading ~ reads as the home folder in a shell only: the message says so.
  CHECK(input_path_problems(config("~/no-such-data", "$HOME/model.pt")) ==
        Problems{{"dataset.path",
                  "no such folder '~/no-such-data' (a leading ~ is not expanded (only a shell "
                  "does that, and none reads this path): give the full path)"},
                 {"feature_extractor",
                  "no such file '$HOME/model.pt' ('$HOME' is not expanded (only a shell does "
                  "that, and none reads this path): give the full path)"}});
}

// objectives: known metric names in order; an unknown one fails with a hint, and the default
// is the single val_roc_auc.
TEST_CASE("objectives key", "[experiment][objectives]") {
  CHECK(parse(k_dataset).objectives == std::vector<std::string>{"val_roc_auc"});
  const auto c = parse(k_dataset + "objectives: [val_roc_auc, embedding_dim, inference_ms]\n");
  CHECK(c.objectives == std::vector<std::string>{"val_roc_auc", "embedding_dim", "inference_ms"});
  CHECK(error_of(k_dataset + "objectives: [val_rocauc]\n") ==
        "x.yaml:2: objectives[0]: unknown metric 'val_rocauc' (did you mean 'val_roc_auc'?); "
        "expected one of val_roc_auc, test_roc_auc, val_recall_at_1, test_recall_at_1, "
        "embedding_dim, inference_ms");
  CHECK_THAT(error_of(k_dataset + "objectives: []\n"),
             Catch::Contains("objectives: expected a list of 1 to 16 metric names"));
  CHECK_THAT(error_of(k_dataset + "objectives: val_roc_auc\n"), Catch::Contains("expected a list"));
  CHECK_THAT(error_of(k_dataset + "objectives: [embedding_dim, embedding_dim]\n"),
             Catch::Contains("objectives[1]: 'embedding_dim' is listed twice"));
  CHECK(experiment_from_json(hpt::trainer::to_json(c), "j").objectives == c.objectives);
}

// A run's folder inside a folder-layout dataset is named as a problem (its files would become
// images); an IDX dataset's folder is not, nor a folder beside the dataset.
// constraints: bounds on known metrics, one of max or min each, in order; every mistake is
// named at its line and key; printing reads back the same bounds.
TEST_CASE("constraints key", "[experiment][constraints]") {
  CHECK(parse(k_dataset).constraints.empty());
  CHECK(parse(k_dataset + "constraints: []\n").constraints.empty());
  CHECK(parse(k_dataset + "constraints: ~\n").constraints.empty());
  const auto c = parse(k_dataset +
                       "constraints:\n"
                       "  - {metric: inference_ms, max: 2.5}\n"
                       "  - {metric: val_recall_at_1, min: 0.8}\n"
                       "  - {metric: val_recall_at_1, max: 1}\n");
  REQUIRE(c.constraints.size() == 3);
  CHECK(c.constraints[0].metric == "inference_ms");
  CHECK(c.constraints[0].is_max);
  CHECK(c.constraints[0].limit == 2.5);
  CHECK(c.constraints[0].constraint_value(3.0) == 0.5);           // Over the max: violated.
  CHECK(c.constraints[1].constraint_value(0.9) == Approx(-0.1));  // Above the min: met.
  CHECK_FALSE(c.constraints[1].is_max);
  CHECK(hpt::trainer::reports_metric(c, "inference_ms"));
  CHECK(hpt::trainer::reports_metric(c, "val_roc_auc"));  // The objective.
  CHECK_FALSE(hpt::trainer::reports_metric(c, "test_roc_auc"));
  const nlohmann::json printed = hpt::trainer::to_json(c);
  CHECK(printed["constraints"] == nlohmann::json::parse(
                                      R"([{"metric": "inference_ms", "max": 2.5},
                                          {"metric": "val_recall_at_1", "min": 0.8},
                                          {"metric": "val_recall_at_1", "max": 1}])"));
  CHECK(hpt::trainer::to_json(experiment_from_json(printed, "again")) == printed);

  const std::string list = k_dataset + "constraints:\n  - ";
  CHECK(error_of(list + "{metric: inference_m, max: 2}\n") ==
        "x.yaml:3: constraints[0].metric: unknown metric 'inference_m' (did you mean "
        "'inference_ms'?); expected one of val_roc_auc, test_roc_auc, val_recall_at_1, "
        "test_recall_at_1, embedding_dim, inference_ms");
  CHECK(error_of(list + "{metric: inference_ms, maxx: 2}\n") ==
        "x.yaml:3: constraints[0].maxx: unknown key 'maxx' (did you mean 'max'?)");
  CHECK(error_of(list + "{metric: inference_ms}\n") ==
        "x.yaml:3: constraints[0]: give one of max or min (for both, list two bounds)");
  CHECK(error_of(list + "{metric: inference_ms, max: 2, min: 1}\n") ==
        "x.yaml:3: constraints[0]: give one of max or min (for both, list two bounds)");
  CHECK(error_of(list + "{max: 2}\n") == "x.yaml:3: constraints[0]: missing required key 'metric'");
  CHECK_THAT(error_of(list + "{metric: inference_ms, max: fast}\n"),
             Catch::StartsWith("x.yaml:3: constraints[0].max: expected a number"));
  CHECK_THAT(error_of(list + "{metric: inference_ms, max: .inf}\n"),
             Catch::StartsWith("x.yaml:3: constraints[0].max:"));
  CHECK_THAT(error_of(list + "inference_ms\n"),
             Catch::StartsWith("x.yaml:3: constraints[0]: expected {metric: NAME, max: NUMBER}"));
  CHECK(error_of(list + "{metric: inference_ms, max: 2}\n  - {metric: inference_ms, max: 3}\n") ==
        "x.yaml:4: constraints[1]: a max bound on inference_ms is listed twice");
  CHECK_THAT(error_of(k_dataset + "constraints: {metric: inference_ms, max: 2}\n"),
             Catch::StartsWith("x.yaml:2: constraints: expected a list of at most 16 bounds"));
  std::string many = k_dataset + "constraints:\n";
  for (int i = 0; i < 17; ++i) {
    many += "  - {metric: inference_ms, max: " + std::to_string(i) + "}\n";
  }
  CHECK_THAT(error_of(many), Catch::Contains("constraints: expected a list of at most 16 bounds"));
}

TEST_CASE("dataset_holds_problem", "[experiment]") {
  hpt::test::TempDir tmp("holds");
  std::filesystem::create_directories(tmp.path() / "data" / "cat");
  hpt::trainer::ExperimentConfig c;
  c.dataset.format = "folder";
  c.dataset.path = (tmp.path() / "data").string();
  const std::string inside = (tmp.path() / "data" / "run").string();
  CHECK(hpt::trainer::dataset_holds_problem(inside, c) ==
        "'" + inside + "' is inside dataset.path '" + c.dataset.path +
            "': the run's files (sprite.png, ...) would become part of the dataset");
  CHECK(hpt::trainer::dataset_holds_problem((tmp.path() / "run").string(), c).empty());
  c.dataset.format = "idx";
  CHECK(hpt::trainer::dataset_holds_problem(inside, c).empty());
}

// A searched range is checked against each numeric key's valid values (intervals from the key
// table) at every value it reaches: holes (image_size 1..15), open ends, integer keys.
TEST_CASE("searched_range_problem", "[experiment][keys]") {
  using hpt::trainer::searched_range_problem;
  using R = hpt::trainer::SearchedRange;
  CHECK(searched_range_problem("dataset.image_size", R{0, 20, 1.0, true}) ==
        "the range reaches 1, but dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(searched_range_problem("dataset.image_size", R{0, 2048, 16.0, true}).empty());
  CHECK(searched_range_problem("dataset.image_size", R{0, 2064, 16.0, true}) ==
        "the range reaches 2064, but dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(searched_range_problem("dataset.image_size", R{16, 16, 1.0, true}).empty());
  CHECK(searched_range_problem("dataset.image_size", R{8, 8, 1.0, true}) ==
        "the range reaches 8, but dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(searched_range_problem("epochs", R{1, 1e15, 1.0, true}).empty());
  CHECK(searched_range_problem("epochs", R{0, 3, 1.0, true}) ==
        "the range reaches 0, but epochs must be >= 1");
  CHECK(searched_range_problem("epochs", R{1, 3, std::nullopt, false}) ==
        "epochs takes integers; search it with type: int");
  CHECK(searched_range_problem("builtin_cnn_width", R{4, 300, 8.0, true}) ==
        "the range reaches 260, but builtin_cnn_width must be in [4, 256]");
  CHECK(searched_range_problem("dropout", R{0, 0.99, std::nullopt, false}).empty());
  CHECK(searched_range_problem("dropout", R{0, 1, std::nullopt, false}) ==
        "the range reaches 1, but dropout must be in [0, 1)");
  CHECK(searched_range_problem("dropout", R{0, 1, 0.3, false}).empty());  // 0, 0.3, 0.6, 0.9.
  CHECK(searched_range_problem("margin", R{0.5, 6, std::nullopt, false}) ==
        "the range reaches above 4, but margin must be in (0, 4]");
  CHECK(searched_range_problem("margin", R{1, 6, 2.0, false}) ==
        "the range reaches 5, but margin must be in (0, 4]");
  CHECK(searched_range_problem("learning_rate", R{1e-4, 1, std::nullopt, false}).empty());
  CHECK(searched_range_problem("dataset.val_fraction", R{0, 2, 1.0, true}) ==
        "the range reaches 0, but dataset.val_fraction must be in (0, 1)");
  CHECK(searched_range_problem("loss", R{0, 1, 1.0, true}).empty());     // Not a number.
  CHECK(searched_range_problem("no_such", R{0, 1, 1.0, true}).empty());  // setting_problem's.
}

// The README's table of experiment keys lists exactly the keys the parser takes (users asked
// for keys only a fault row named, and a table kept by hand drifts).
TEST_CASE("the README's key table is the parser's", "[experiment][readme]") {
  std::ifstream readme(std::string(HPT_SOURCE_DIR) + "/README.md");
  REQUIRE(readme);
  std::set<std::string> documented;
  bool inside = false;
  for (std::string line; std::getline(readme, line);) {
    if (line == "<!-- experiment-keys -->" || line == "<!-- /experiment-keys -->") {
      inside = line[5] != '/';
      continue;
    }
    if (!inside || line.rfind("| `", 0) != 0) {
      continue;
    }
    const std::string first = line.substr(2, line.find(" |", 2) - 2);  // "`a`, `b`"
    for (size_t at = first.find('`'); at != std::string::npos;) {
      const size_t end = first.find('`', at + 1);
      documented.insert(first.substr(at + 1, end - at - 1));
      at = first.find('`', end + 1);
    }
  }
  std::set<std::string> parsed;
  for (const std::string& key : hpt::trainer::experiment_keys()) {
    if (key != "dataset") {  // A section: its keys are listed.
      parsed.insert(key);
    }
  }
  for (const std::string& key : hpt::trainer::dataset_keys()) {
    parsed.insert("dataset." + key);
  }
  CHECK(documented == parsed);
}
