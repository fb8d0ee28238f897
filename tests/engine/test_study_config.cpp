#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../experiment/trial_settings_cases.hpp"
#include "hpt/engine/protocol.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/schema/config_error.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

const char* k_valid = R"(study:
  name: demo
  direction: maximize
  seed: 7
  jobs: 2
  sampler: {type: tpe, multivariate: true}
  pruner: {type: median, n_startup_trials: 3}
objective:
  command: [python3, -u, obj.py, "{lr}"]
  timeout: 30
fixed:
  epochs: 5
search_space:
  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}
  units: {type: int, low: 16, high: 256, step: 16}
  blocks: {type: categorical, choices: [[512, 256], [256], []]}
  act: [relu, gelu]
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_study_config(yaml, "cfg.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// error_of for a built-in trainer study (yaml holds no study section): the study maximises,
// given after yaml so that its line numbers stay as written.
std::string builtin_error_of(const std::string& yaml) {
  return error_of(yaml + "study: {direction: maximize}\n");
}

}  // namespace

// A complete config parses into the expected values, sampler seed defaulting to study seed.
TEST_CASE("study config: valid file", "[config]") {
  StudyConfig c = parse_study_config(k_valid, "cfg.yaml");
  CHECK(c.name == "demo");
  CHECK(c.direction == Direction::Maximize);
  CHECK(c.seed == 7);
  CHECK(c.sampler_seed == 7);
  CHECK(c.jobs == 2);
  CHECK(c.sampler_type == "tpe");
  CHECK(c.sampler_options.at("multivariate") == true);
  CHECK(c.pruner_options.at("n_startup_trials") == 3);
  CHECK(c.command == std::vector<std::string>{"python3", "-u", "obj.py", "{lr}"});
  CHECK(*c.timeout == 30.0);
  CHECK(c.fixed.at("epochs") == 5);
  REQUIRE(c.search_space.size() == 4);
  CHECK(c.search_space[0].first == "lr");
  auto lr = std::get<FloatDistribution>(c.search_space[0].second);
  CHECK(lr.log);
  CHECK(lr.low == Approx(1e-4));
  auto units = std::get<IntDistribution>(c.search_space[1].second);
  CHECK(units.step == 16);
  auto blocks = std::get<CategoricalDistribution>(c.search_space[2].second);
  CHECK(blocks.choices[0] == Json::array({512, 256}));
  CHECK(blocks.choices[2] == Json::array());
  auto act = std::get<CategoricalDistribution>(c.search_space[3].second);
  CHECK(act.choices == std::vector<Json>{"relu", "gelu"});
}

// Each bad input names the file, the line, the key and the problem.
TEST_CASE("study config: bad inputs give one-line errors with place", "[config]") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"study: {nmae: x}\nsearch_space: {a: [1]}\nobjective: {command: [true]}",
       "cfg.yaml:1: study.nmae: unknown key 'nmae' (did you mean 'name'?)"},
      {"objective: {command: [true]}\nsearch_space:\n  lr: {type: float, low: 2, high: 1}",
       "cfg.yaml:3: search_space.lr: low must be <= high, but got low=2, high=1"},
      {"objective: {command: [true]}\nsearch_space:\n  lr: {type: float, low: 0, high: 1, log: "
       "true}",
       "log requires low > 0"},
      {"objective: {command: [true]}\nsearch_space:\n  c: {type: categorical, choices: []}",
       "choices must not be empty"},
      {"objective: {command: [true]}\nsearch_space:\n  lr: {type: float, low: abc, high: 1}",
       "cfg.yaml:3: search_space.lr.low: expected a number, got \"abc\""},
      {"objective: {command: [true]}\nsearch_space:\n  n: {type: int, low: 1.5, high: 3}",
       "search_space.n.low: expected an integer"},
      {"objective: {command: [true]}\nsearch_space:\n  n: {type: integer, low: 1, high: 3}",
       "unknown parameter type 'integer'"},
      {"objective: {command: [true]}\nstudy: {direction: up}\nsearch_space: {a: [1]}",
       "cfg.yaml:2: study.direction: direction must be 'minimize' or 'maximize', but got 'up'"},
      {"objective: {command: [true]}\nstudy: {direction: Minimise}\nsearch_space: {a: [1]}",
       "cfg.yaml:2: study.direction: direction must be 'minimize' or 'maximize', but got "
       "'Minimise' (did you mean 'minimize'?)"},
      {"objective: {command: [true]}\nstudy: {jobs: 0}\nsearch_space: {a: [1]}",
       "study.jobs: must be in [1, 1024]"},
      {"objective: {command: [true]}\nsearch_space: {}", "the search space is empty"},
      {"objective: {command: python3 x.py}\nsearch_space: {a: [1]}",
       "objective.command: expected a list"},
      {"objective: {command: [true], timeout: -1}\nsearch_space: {a: [1]}",
       "objective.timeout: must be > 0"},
      {"objective: {command: [true]}\nsearch_space: {a: [1]}\nextra: 1", "unknown key 'extra'"},
      // A key of another section is told where it belongs.
      {"objective: {command: [true]}\nsearch_space: {a: [1]}\nsampler: {type: random}",
       "cfg.yaml:3: sampler: 'sampler' is not a key of the top level: it belongs under study: "
       "(study.sampler)"},
      {"objective: {command: [true]}\nstudy: {timeout: 5}\nsearch_space: {a: [1]}",
       "cfg.yaml:2: study.timeout: 'timeout' is not a key of study: it belongs under objective: "
       "(objective.timeout)"},
      {"objective: {command: [true], jobs: 2}\nsearch_space: {a: [1]}",
       "cfg.yaml:1: objective.jobs: 'jobs' is not a key of objective: it belongs under study: "
       "(study.jobs)"},
      {"objective: {command: [true], search_space: {a: [1]}}",
       "cfg.yaml:1: objective.search_space: 'search_space' is not a key of objective: it belongs "
       "at the top level"},
      {"objective: {command: [true]}\nfixed:\n  epochs: 3\n  search_space: {a: [1]}",
       "cfg.yaml:4: fixed.search_space: search_space is indented under fixed: (so nothing is "
       "searched); move it to the top level"},
      {"objective: {command: [true]}\nstudy: {sampler: {type: tpe, n_startup: 3}}\nsearch_space: "
       "{a: [1]}",
       "study.sampler"},
      {"objective: {command: [true]}\nstudy: {pruner: {type: medain}}\nsearch_space: {a: [1]}",
       "study.pruner"},
      {"objective: {command: [true]}\nfixed: {a: 1}\nsearch_space: {a: [1]}",
       "also set in 'fixed'"},
      {"study: [1, 2\n", "cfg.yaml:2: YAML syntax error"},
      {"- 1\n- 2\n", "expected a mapping"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    const std::string err = error_of(c.yaml);
    CHECK_THAT(err, Catch::Contains(c.expected));
    CHECK(err.find('\n') == std::string::npos);
  }
}

// The script an interpreter runs (objective.command[1] after python3, sh, node, ...) must exist
// when the study starts: a path relative to another folder used to fail every trial, one by
// one, until max_failures. Options, placeholders and other programs' arguments are not files.
TEST_CASE("study config: a missing objective script is refused at load", "[config]") {
  hpt::test::TempDir dir("script");
  const std::string script = dir.file("objective.py");
  std::ofstream(script) << "print('{\"value\": 1}')\n";
  const auto config = [](const std::string& command) {
    return "objective: {command: " + command + "}\nsearch_space: {a: [1]}\n";
  };
  CHECK_THAT(error_of(config("[python3, examples/objectve.py]")),
             Catch::StartsWith("cfg.yaml:1: objective.command[1]: no such file "
                               "'examples/objectve.py' (in the working folder ") &&
                 Catch::EndsWith(", where workers start)"));
  CHECK(error_of(config("[/usr/bin/python3.11, /nope/x.py]")) ==
        "cfg.yaml:1: objective.command[1]: no such file '/nope/x.py'");
  CHECK_THAT(error_of(config("[bash, run.sh]")), Catch::Contains("no such file 'run.sh'"));
  for (const std::string& ok : {"[python3, " + script + "]", std::string("[python3, -m, mod]"),
                                std::string("[sh, -c, 'echo 1']"), std::string("[python3, '{a}']"),
                                std::string("[env, nope.py]"), std::string("[true, nope.txt]")}) {
    INFO(ok);
    CHECK(error_of(config(ok)).empty());
  }
}

// A missing config file is reported with its name.
TEST_CASE("study config: missing file", "[config]") {
  CHECK_THROWS_WITH(load_study_config("/nonexistent/hpt.yaml"),
                    "/nonexistent/hpt.yaml: cannot open: No such file or directory");
}

// Hostile documents end in one ConfigError line: a self-referencing alias, aliases that
// expand exponentially, a repeated key, an endless device, a FIFO nobody writes to.
TEST_CASE("study config: hostile YAML and files", "[config]") {
  const std::string head = "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of(head + "fixed: &a {b: *a}\n") ==
        "cfg.yaml:3: fixed.b: an alias refers to a node that contains it (a cycle)");
  std::string laughs = head + "fixed:\n  l0: &l0 [x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" +
              std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + ", *l" +
              std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + ", *l" +
              std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]\n";
  }
  CHECK_THAT(error_of(laughs), Catch::Contains("expands to more than 1000000 values"));
  CHECK(error_of("study:\n  max_failures: 3\n  max_failures: 4\n" + head) ==
        "cfg.yaml:3: study.max_failures: duplicate key 'max_failures' (first at line 2)");
  CHECK_THROWS_WITH(load_study_config("/dev/zero"),
                    "/dev/zero: not a regular file (a character device)");
  const std::string fifo = "/tmp/hpt_test_config_fifo_" + std::to_string(::getpid());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(load_study_config(fifo), fifo + ": not a regular file (a FIFO)");
  ::unlink(fifo.c_str());
}

// Integer options out of range are refused with the value, never truncated to int.
TEST_CASE("study config: integers out of range", "[config]") {
  const std::string head = "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of(head + "study: {max_failures: 4294967296}") ==
        "cfg.yaml:3: study.max_failures: must be in [1, 2147483647], but got 4294967296");
  CHECK_THAT(error_of(head + "study: {seed: 18446744073709551616}"),
             Catch::Contains("study.seed: integer out of range"));
  CHECK_THAT(error_of(head + "study: {jobs: 4294967297}"),
             Catch::Contains("study.jobs: must be in [1, 1024], but got 4294967297"));
  CHECK_THAT(error_of("objective: {command: [true], retries: -1}\nsearch_space: {a: [1]}"),
             Catch::Contains("must be in [0, 100], but got -1"));
  CHECK_THAT(error_of("objective: {command: [true], timeout: 1e300}\nsearch_space: {a: [1]}"),
             Catch::Contains("objective.timeout: must be <= 1000000000"));
  for (const char* bad : {"0", "-1", "100000001", "1.5", "many"}) {
    INFO(bad);
    CHECK_THAT(error_of(std::string("objective: {command: [true], max_steps: ") + bad +
                        "}\nsearch_space: {a: [1]}"),
               Catch::StartsWith("cfg.yaml:1: objective.max_steps:"));
  }
  CHECK(parse_study_config("objective: {command: [true], max_steps: 50}\nsearch_space: {a: [1]}",
                           "cfg.yaml")
            .max_steps == 50);
  CHECK(parse_study_config(head + "study: {max_failures: 0010}", "cfg.yaml").max_failures == 10);
}

// The study name defaults to the config file's stem.
TEST_CASE("study config: name defaults to file stem", "[config]") {
  auto c = parse_study_config("objective: {command: [true]}\nsearch_space: {a: [1, 2]}",
                              "dir/my_study.yaml");
  CHECK(c.name == "my_study");
  CHECK(c.sampler_type == "tpe");
  CHECK(c.pruner_type == "median");
}

// study.directions: one per objective, in order; exactly one of direction/directions;
// a multi-objective study never prunes (pruner none by default, any other refused as Optuna
// does); bad lists give one-line errors naming the place.
TEST_CASE("study config: directions for multi-objective studies", "[config][multiobj]") {
  const std::string tail = "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  StudyConfig c =
      parse_study_config("study: {directions: [maximize, minimize]}\n" + tail, "cfg.yaml");
  CHECK(c.directions == std::vector<Direction>{Direction::Maximize, Direction::Minimize});
  CHECK(c.direction == Direction::Maximize);
  CHECK(c.multi_objective());
  CHECK(c.pruner_type == "none");
  CHECK(parse_study_config("study: {directions: [maximize]}\n" + tail, "c").directions ==
        std::vector<Direction>{Direction::Maximize});
  CHECK(parse_study_config("study: {direction: maximize}\n" + tail, "c").directions ==
        std::vector<Direction>{Direction::Maximize});
  CHECK(parse_study_config(
            "study: {directions: [minimize, minimize], pruner: {type: none}, sampler: {type: "
            "nsga2, population_size: 10}}\n" +
                tail,
            "c")
            .sampler_type == "nsga2");
  CHECK(error_of("study:\n  direction: minimize\n  directions: [minimize, maximize]\n" + tail) ==
        "cfg.yaml:3: study.directions: give either direction (one objective) or directions, not "
        "both (direction is at line 2)");
  CHECK(error_of("study:\n  directions: [maximize, up]\n" + tail) ==
        "cfg.yaml:2: study.directions[1]: direction must be 'minimize' or 'maximize', but got "
        "'up'");
  CHECK_THAT(error_of("study:\n  directions: []\n" + tail),
             Catch::StartsWith("cfg.yaml:2: study.directions: expected a list of directions"));
  CHECK_THAT(error_of("study:\n  directions: maximize\n" + tail),
             Catch::StartsWith("cfg.yaml:2: study.directions: expected a list of directions"));
  std::string many = "study:\n  directions: [minimize";
  for (int i = 0; i < 16; ++i) {
    many += ", minimize";
  }
  CHECK(error_of(many + "]\n" + tail) == "cfg.yaml:2: study.directions: 17 objectives; at most 16");
  CHECK(error_of("study:\n  directions: [minimize, maximize]\n  pruner: {type: median}\n" + tail) ==
        "cfg.yaml:3: study.pruner: pruning is not supported for multi-objective studies (as in "
        "Optuna); remove study.pruner or use type: none");
  CHECK_THAT(error_of("study:\n  directions: [minimize, maximize]\n  sampler: {type: nsga2, "
                      "population_size: 1}\n" +
                      tail),
             Catch::StartsWith("cfg.yaml:3: study.sampler: nsga2 sampler option "
                               "'population_size' must be an integer >= 2"));
  CHECK(error_of("study:\n  directions: [minimize, maximize]\n  sampler: {type: cmaes}\n" + tail) ==
        "cfg.yaml:3: study.sampler: the cmaes sampler optimises one objective, but the study has 2 "
        "directions; use tpe or nsga2");
  CHECK(error_of("study:\n  sampler: {seed: 3}\n" + tail) ==
        "cfg.yaml:2: study.sampler: missing 'type' (tpe, random, grid, nsga2, cmaes, qmc, gp)");
  CHECK(error_of("study:\n  sampler: {type: cmaes, x0: {z: 1}}\n" + tail) ==
        "cfg.yaml:2: study.sampler: cmaes sampler option 'x0': unknown parameter 'z'");
}

// The built-in trainer's study is validated with the worker's own merge (merge_settings): the
// shared cases (tests/experiment/trial_settings_cases.hpp) are accepted or refused alike.
TEST_CASE("study config: built-in trainer settings as the worker merges them",
          "[config][experiment]") {
  const std::string head =
      "fixed:\n  dataset: {format: idx, path: /}\n  epochs: 2\nsearch_space:\n";
  for (const auto& k : hpt::test::k_settings_cases) {
    INFO(k.param << " = " << k.value);
    // The value is the categorical's only choice, so every trial would get it.
    const std::string yaml = head + "  " + k.param + ": [" + k.value + "]\n";
    if (k.error.empty()) {
      CHECK(builtin_error_of(yaml).empty());
    } else {
      CHECK_THAT(builtin_error_of(yaml), Catch::Contains(k.error));
    }
  }
  // Every categorical choice is checked, not only the first.
  CHECK_THAT(builtin_error_of(head + "  intermediate_ff_block_units: [\"64\", \"big\"]\n"),
             Catch::Contains("cfg.yaml (fixed + search_space, intermediate_ff_block_units = "
                             "\"big\"): intermediate_ff_block_units: expected e.g. \"512-256\""));
  // A range is checked at every value it reaches: a high end beyond a ceiling would fail every
  // trial that samples near it; a limit across keys is checked with every range at its high end.
  CHECK(builtin_error_of(head + "  embedding_dim: {type: int, low: 32, high: 100000}\n") ==
        "cfg.yaml:5: search_space.embedding_dim: the range reaches 16385, but embedding_dim must "
        "be in [2, 16384]");
  CHECK_THAT(builtin_error_of(head + "  classes_per_batch: {type: int, low: 2, high: 64}\n"
                                     "  images_per_class: {type: int, low: 2, high: 256}\n"),
             Catch::Contains("classes_per_batch x images_per_class must be at most 8192"));
  // Number choices too: 64 and 256 are fine alone (each with the other's first choice), not
  // together, which a sampled trial would meet.
  CHECK_THAT(
      builtin_error_of(head + "  classes_per_batch: [2, 64]\n  images_per_class: [2, 256]\n"),
      Catch::Contains("every range and number choice at its high end") &&
          Catch::Contains("classes_per_batch x images_per_class must be at most 8192"));
  CHECK(builtin_error_of(head + "  classes_per_batch: [2, 64]\n  images_per_class: [128, 2]\n")
            .empty());
  // A fixed value is judged with the searched ones at their trial values, never at a default a
  // trial cannot get (2048 x the default images_per_class 8 was refused; trials get 2 or 4).
  const std::string big =
      "fixed:\n  dataset: {format: idx, path: /}\n  classes_per_batch: 2048\n"
      "search_space:\n";
  CHECK(builtin_error_of(big + "  images_per_class: [2, 4]\n").empty());
  CHECK_THAT(builtin_error_of(big + "  images_per_class: [2, 8]\n"),
             Catch::Contains("classes_per_batch x images_per_class must be at most 8192"));
  CHECK_THAT(
      builtin_error_of(big + "  embedding_dim: [8]\n"),  // Not searched: the default 8 counts.
      Catch::StartsWith("cfg.yaml:3: classes_per_batch:"));
  CHECK(builtin_error_of(head + "  classes_per_batch: {type: int, low: 2, high: 64}\n"
                                "  images_per_class: {type: int, low: 2, high: 128}\n"
                                "  dropout: {type: float, low: 0.0, high: 0.5}\n")
            .empty());
  CHECK(builtin_error_of(head + "  dropout: {type: float, low: 0.0, high: 1.0}\n") ==
        "cfg.yaml:5: search_space.dropout: the range reaches 1, but dropout must be in [0, 1)");
  CHECK(builtin_error_of(head + "  dataset.image_size: [32]\n  dataset.image_sise: [1]\n") ==
        "cfg.yaml:6: search_space.dataset.image_sise: 'dataset.image_sise' is not a setting of "
        "the built-in trainer (did you mean 'dataset.image_size'?)");
  CHECK(error_of("fixed:\n  dataset: {format: idx, path: /d, image_size: 32}\nsearch_space:\n"
                 "  dataset.image_size: [64]\n") ==
        "cfg.yaml:4: search_space.dataset.image_size: is also set in 'fixed'; a parameter is "
        "either fixed or searched");
}

// A built-in trainer study whose dataset folder is missing (a typo), a file or unreadable
// stops before its first trial, naming fixed.dataset.path and its line, instead of failing
// every trial.
TEST_CASE("study config: the dataset folder is checked before the first trial", "[config]") {
  hpt::test::TempDir tmp("study-dataset");
  std::ofstream(tmp.file("file")) << "x";
  const auto with_path = [](const std::string& path) {
    return "study:\n  direction: maximize\nfixed:\n  epochs: 2\n  dataset:\n    format: idx\n"
           "    path: " +
           path + "\nsearch_space:\n  dropout: [0.1]\n";
  };
  CHECK(error_of(with_path(tmp.path().string())).empty());
  CHECK(error_of(with_path(tmp.file("fashion-mnis"))) ==
        "cfg.yaml:7: fixed.dataset.path: no such folder '" + tmp.file("fashion-mnis") + "'");
  CHECK(error_of(with_path(tmp.file("file"))) ==
        "cfg.yaml:7: fixed.dataset.path: '" + tmp.file("file") + "' is not a folder");
  // A TorchScript extractor file: fixed (with its line), or among a categorical's choices.
  const std::string data = "    path: " + tmp.path().string() + "\n";
  CHECK(error_of(with_path(tmp.path().string() + "\n  feature_extractor: " + tmp.file("m.pt"))) ==
        "cfg.yaml:8: fixed.feature_extractor: no such file '" + tmp.file("m.pt") + "'");
  std::ofstream(tmp.file("a.pt")) << "x";
  const std::string searched =
      "study:\n  direction: maximize\nfixed:\n  dataset:\n    format: idx\n" + data +
      "search_space:\n  feature_extractor: [" + tmp.file("a.pt") + ", " + tmp.file("b.pt") + "]\n";
  CHECK_THAT(error_of(searched),
             Catch::StartsWith("cfg.yaml (fixed + search_space, feature_extractor = \"" +
                               tmp.file("b.pt") + "\"): feature_extractor: no such file '"));
}

// One direction per objective of the trainer, checked before the first trial.
TEST_CASE("study config: directions match the trainer's objectives", "[config][objectives]") {
  const std::string data = "  dataset: {format: idx, path: /}\nsearch_space:\n  epochs: [2]\n";
  CHECK(error_of("study:\n  directions: [maximize, minimize]\nfixed:\n"
                 "  objectives: [val_roc_auc, embedding_dim]\n" +
                 data)
            .empty());
  CHECK(error_of("study:\n  directions: [maximize, minimize]\nfixed:\n" + data) ==
        "cfg.yaml:2: study.directions: 2 directions but fixed.objectives gives 1 objective "
        "(val_roc_auc, the default); give one direction per objective");
  CHECK(error_of("study:\n  direction: maximize\nfixed:\n"
                 "  objectives: [val_roc_auc, inference_ms]\n" +
                 data) ==
        "cfg.yaml:2: study.direction: 1 direction but fixed.objectives gives 2 objectives "
        "(val_roc_auc, inference_ms); give one direction per objective");
  CHECK_THAT(error_of("fixed:\n  objectives: [val_auc_roc]\n" + data),
             Catch::Contains("cfg.yaml:2: objectives[0]: unknown metric 'val_auc_roc'"));
}

// Without a study section the default single direction meets two objectives: one line, no crash.
TEST_CASE("study config: objectives without a study section", "[config][objectives]") {
  CHECK(error_of("fixed:\n  objectives: [val_roc_auc, embedding_dim]\n"
                 "  dataset: {format: idx, path: /}\nsearch_space:\n  epochs: [2]\n") ==
        "cfg.yaml: study.direction: 1 direction but fixed.objectives gives 2 objectives "
        "(val_roc_auc, embedding_dim); give one direction per objective");
}

// study.storage must be able to keep the study: empty, ":memory:" (in any spelling SQLite takes
// for it through hpt), a URI filename or an unknown scheme are refused with file:line and key;
// an empty trials_dir too.
TEST_CASE("study config: storage that cannot keep a study", "[config][storage]") {
  const std::string tail = "\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of("study: {name: s, storage: \"\"}" + tail) ==
        "cfg.yaml:1: study.storage: must not be empty");
  CHECK(error_of("study:\n  storage: \":memory:\"" + tail) ==
        "cfg.yaml:2: study.storage: ':memory:' is an in-memory database: the study would be lost "
        "when hpt exits; name a database file (e.g. study.db)");
  CHECK_THAT(error_of("study: {storage: \"sqlite:///:memory:\"}" + tail),
             Catch::StartsWith("cfg.yaml:1: study.storage: ':memory:' is an in-memory database"));
  CHECK(error_of("study: {storage: \"file:y.db\"}" + tail) ==
        "cfg.yaml:1: study.storage: 'file:y.db': SQLite URI filenames (file:...) are not taken; "
        "give the file's path (./file:y.db for a file of that name)");
  CHECK_THAT(error_of("study: {storage: \"mysql://u:secret@h/db\"}" + tail),
             Catch::StartsWith("cfg.yaml:1: study.storage: unsupported storage URL") &&
                 !Catch::Contains("secret"));
  CHECK(error_of("study: {trials_dir: \"\"}" + tail) ==
        "cfg.yaml:1: study.trials_dir: must not be empty (leave it out for the default: beside "
        "the database)");
  CHECK(study_storage_problem("./file:y.db").empty());
  CHECK(study_storage_problem("postgresql://u@h/db").empty());
  // No shell reads the config: "~/runs/s.db" made a folder named "~" (helper audit).
  CHECK(error_of("study: {storage: ~/runs/s.db}" + tail) ==
        "cfg.yaml:1: study.storage: ~/runs/s.db: a leading ~ is not expanded (only a shell does "
        "that, and none reads this path): give the full path");
  CHECK_THAT(error_of("study: {storage: \"sqlite:///$HOME/s.db\"}" + tail),
             Catch::Contains("study.storage: $HOME/s.db: '$HOME' is not expanded"));
  CHECK_THAT(error_of("study: {trials_dir: ~/runs}" + tail),
             Catch::StartsWith("cfg.yaml:1: study.trials_dir: a leading ~ is not expanded"));
  CHECK(parse_study_config("study: {storage: sqlite:///s.db}" + tail, "c").storage ==
        "sqlite:///s.db");
}

// A parameter named like a placeholder hpt fills itself ({trial_number}) would be silently
// replaced in objective.command: refused, searched or fixed, for every reserved name.
TEST_CASE("study config: reserved placeholder names", "[config]") {
  for (const auto& name : k_reserved_placeholders) {
    INFO(name);
    const std::string expected = "'" + name + "' is a reserved placeholder name ({" + name +
                                 "} in objective.command is filled by hpt); rename the parameter";
    CHECK(error_of("objective: {command: [sh, '{" + name + "}']}\nsearch_space:\n  " + name +
                   ": [5, 7]\n") == "cfg.yaml:3: search_space." + name + ": " + expected);
    CHECK(error_of("objective: {command: [true]}\nfixed:\n  x: 1\n  " + name +
                   ": 3\nsearch_space: {a: [1]}\n") ==
          "cfg.yaml:4: fixed." + name + ": " + expected);
  }
}

// Ranges no sampler can draw from correctly are refused at load, one line naming the key:
// int bounds past 2^53 (stored doubles round them), float ranges wider than a double.
TEST_CASE("study config: search ranges too wide to sample", "[config]") {
  const std::string head = "objective: {command: [true]}\nsearch_space:\n";
  CHECK(error_of(head + "  a: {type: int, low: 9223372036854775800, high: 9223372036854775807}") ==
        "cfg.yaml:3: search_space.a: low and high must be within "
        "-9007199254740992..9007199254740992 (integers beyond are not exact in the stored "
        "double), but got low=9223372036854775800, high=9223372036854775807");
  CHECK(error_of(head + "  f: {type: float, low: -1.0e308, high: 1.0e308}") ==
        "cfg.yaml:3: search_space.f: the range is too wide: high - low must be at most "
        "1.79769e+308, but got low=-1e+308, high=1e+308");
  CHECK_THAT(error_of(head + "  f: {type: float, low: -1.0e308, high: 1.0e308, step: 1.0e307}"),
             Catch::StartsWith("cfg.yaml:3: search_space.f: the range is too wide"));
  CHECK(parse_study_config(
            head + "  a: {type: int, low: -9007199254740992, high: 9007199254740992}", "cfg.yaml")
            .search_space.size() == 1);
}

namespace {

// The warnings a valid config gives.
std::vector<std::string> warnings_of(const std::string& yaml) {
  return parse_study_config(yaml, "cfg.yaml").warnings;
}

}  // namespace

// A built-in trainer study that gives no direction while its objective is a score (an AUC, a
// recall) is refused: Optuna's default, minimize, would look for the worst model. A cost
// (inference_ms) or a direction given, even minimize, passes.
TEST_CASE("study config: a built-in study's missing direction", "[config]") {
  const std::string fixed =
      "search_space:\n  dropout: [0.1, 0.2]\nfixed:\n  dataset: {format: idx, path: /}\n";
  CHECK(error_of("study: {name: s}\n" + fixed) ==
        "cfg.yaml:1: study: no direction given, and Optuna's default, minimize, would look for "
        "the lowest val_roc_auc: give direction: maximize (or direction: minimize, to mean it)");
  CHECK_THAT(error_of(fixed + "  objectives: [val_recall_at_1]\n"),
             Catch::StartsWith("cfg.yaml:1: study: no direction given") &&
                 Catch::Contains("the lowest val_recall_at_1"));
  // A block mapping's error names the line of its key, not of its first entry.
  CHECK_THAT(error_of("# a comment\nstudy:\n  name: s\n  seed: 1\n" + fixed),
             Catch::StartsWith("cfg.yaml:2: study: no direction given"));
  CHECK(error_of(fixed + "  objectives: [inference_ms]\n").empty());
  CHECK(error_of("study: {direction: minimize}\n" + fixed).empty());
  CHECK(error_of("study: {directions: [maximize]}\n" + fixed).empty());
  // Two objectives and no directions: one direction per objective is asked for, as before.
  CHECK_THAT(error_of(fixed + "  objectives: [val_roc_auc, inference_ms]\n"),
             Catch::Contains("1 direction but fixed.objectives gives 2 objectives"));
}

// A searched range is checked at every value it reaches, not only at its ends: a hole in a
// setting's valid values (image_size 1..15) would fail every trial that samples it.
TEST_CASE("study config: a search range is checked at every value it reaches", "[config]") {
  const std::string head = "fixed:\n  dataset: {format: idx, path: /}\nsearch_space:\n";
  CHECK(builtin_error_of(head + "  dataset.image_size: {type: int, low: 0, high: 20}\n") ==
        "cfg.yaml:4: search_space.dataset.image_size: the range reaches 1, but "
        "dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(builtin_error_of(head + "  dataset.image_size: {type: int, low: 0, high: 32, step: 16}\n")
            .empty());
  CHECK(builtin_error_of(head + "  dataset.image_size: {type: int, low: 0, high: 40, step: 20}\n")
            .empty());
  CHECK(
      builtin_error_of(head + "  dataset.image_size: {type: int, low: 0, high: 40, step: 10}\n") ==
      "cfg.yaml:4: search_space.dataset.image_size: the range reaches 10, but "
      "dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(builtin_error_of(head +
                         "  dataset.image_size: {type: int, low: 16, high: 4096, log: true}\n") ==
        "cfg.yaml:4: search_space.dataset.image_size: the range reaches 2049, but "
        "dataset.image_size must be 0 (native) or 16 to 2048");
  CHECK(builtin_error_of(head + "  epochs: {type: float, low: 1, high: 3}\n") ==
        "cfg.yaml:4: search_space.epochs: epochs takes integers; search it with type: int");
  CHECK(builtin_error_of(head + "  margin: {type: float, low: 0.1, high: 5}\n") ==
        "cfg.yaml:4: search_space.margin: the range reaches above 4, but margin must be in (0, 4]");
  CHECK(builtin_error_of(head + "  learning_rate: {type: float, low: 0, high: 0.1}\n") ==
        "cfg.yaml:4: search_space.learning_rate: the range reaches 0, but learning_rate must be "
        "in (0, 10)");
  CHECK(builtin_error_of(head + "  dropout: {type: float, low: 0, high: 1, step: 0.25}\n") ==
        "cfg.yaml:4: search_space.dropout: the range reaches 1, but dropout must be in [0, 1)");
  CHECK(
      builtin_error_of(head + "  dropout: {type: float, low: 0, high: 0.9, step: 0.3}\n").empty());
}

// A study name is checked where the config gives it, with its place; the same rule serves
// --study (study_name_problem).
TEST_CASE("study config: study names", "[config]") {
  const std::string tail = "\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of("study: {name: " + std::string(513, 'a') + "}" + tail) ==
        "cfg.yaml:1: study.name: is 513 characters long; at most 512 (Optuna's "
        "studies.study_name)");
  CHECK(error_of("study: {name: \"  \"}" + tail) ==
        "cfg.yaml:1: study.name: must not be only whitespace, got \"  \"");
  CHECK(error_of("study: {name: \"\"}" + tail) == "cfg.yaml:1: study.name: must not be empty");
  CHECK(study_name_problem(std::string(512, 'a')).empty());
  CHECK(study_name_problem(" padded name ").empty());  // Names are data; only blank is refused.
  CHECK(study_name_problem("\t") == "must not be only whitespace, got \"\t\"");
}

// A storage path (or trials folder) with whitespace around it would silently make a second
// database (" gp.db" beside "gp.db"); "   " a file named by spaces.
TEST_CASE("study config: storage and trials_dir with whitespace around them", "[config][storage]") {
  const std::string tail = "\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of("study: {storage: \"   \"}" + tail) ==
        "cfg.yaml:1: study.storage: must not be only whitespace, got \"   \"");
  CHECK(error_of("study: {storage: \" gp.db\"}" + tail) ==
        "cfg.yaml:1: study.storage: must not begin or end with whitespace, got \" gp.db\"");
  CHECK(error_of("study: {storage: \"gp.db \"}" + tail) ==
        "cfg.yaml:1: study.storage: must not begin or end with whitespace, got \"gp.db \"");
  CHECK(error_of("study: {trials_dir: \"runs\\t\"}" + tail) ==
        "cfg.yaml:1: study.trials_dir: must not begin or end with whitespace, got \"runs\t\"");
  CHECK(study_storage_problem("sqlite:///gp.db ") ==
        "must not begin or end with whitespace, got \"sqlite:///gp.db \"");
  CHECK(study_storage_problem("my study.db").empty());
}

// YAML merge keys are not supported by yaml-cpp (they became a key named "<<"): refused
// anywhere in the config.
TEST_CASE("study config: YAML merge keys", "[config]") {
  CHECK(error_of("objective: {command: [true]}\nfixed: {<<: {a: 1}}\nsearch_space: {x: [1]}\n") ==
        "cfg.yaml:2: fixed: YAML merge keys (<<) are not supported; write the keys out");
  CHECK(error_of("objective: {command: [true]}\nb: &b {type: int, low: 0, high: 3}\n"
                 "search_space:\n  y:\n    <<: *b\n") ==
        "cfg.yaml:5: search_space.y: YAML merge keys (<<) are not supported; write the keys out");
}

// Categorical choices must differ (as to_internal compares them: 1 and 1.0, -0.0 and 0.0,
// ~ and null, [1,2] and "[1,2]" are one choice), and none may be a number hpt does not read.
TEST_CASE("study config: categorical choices", "[config]") {
  const std::string head = "objective: {command: [true]}\nsearch_space:\n";
  CHECK(error_of(head + "  x: [a, a]\n") ==
        "cfg.yaml:3: search_space.x[1]: a repeats choice [0] (\"a\"); each choice must be "
        "different");
  CHECK(error_of(head + "  x: [null, ~]\n") ==
        "cfg.yaml:3: search_space.x[1]: null repeats choice [0] (null); each choice must be "
        "different");
  CHECK_THAT(error_of(head + "  x: [1.0, 1]\n"),
             Catch::Contains("x[1]: 1 repeats choice [0] (1.0)"));
  CHECK_THAT(error_of(head + "  x: [-0.0, 0.0]\n"),
             Catch::Contains("x[1]: 0.0 repeats choice [0] (-0.0)"));
  // A list is stored as its JSON text: the string of that text is the same choice.
  CHECK_THAT(
      error_of(head + "  x: {type: categorical, choices: [[1, 2], b, \"[1,2]\"]}\n"),
      Catch::Contains("search_space.x.choices[2]: [1,2] repeats choice [0] ([1,2]): a list or "
                      "mapping is stored as its JSON text"));
  CHECK(error_of(head + "  x: {type: categorical, choices: [[1, 2], \"[1, 2]\"]}\n").empty());
  CHECK_THAT(error_of("study: {sampler: {type: grid}}\n" + head + "  x: [0.5, 0.5]\n"),
             Catch::Contains("cfg.yaml:4: search_space.x[1]: 0.5 repeats choice [0]"));
  CHECK(error_of(head + "  x: [1, \"1\", true, [1], {a: 1}]\n").empty());
  CHECK(error_of(head + "  x: [9007199254740993, 9007199254740992]\n").empty());  // As Python.
  for (const char* number : {"1e400", ".nan", "0x10", "-.inf", "1_000", "0o17"}) {
    INFO(number);
    CHECK(error_of(head + "  x: [1, " + number + "]\n") ==
          "cfg.yaml:3: search_space.x[1]: " + std::string(number) +
              " reads as a number in YAML, but hpt reads finite decimal numbers only; write it "
              "in decimal, or quote it (\"" +
              number + "\") for a string");
  }
  const auto quoted = parse_study_config(head + "  x: [\"0x10\", '.nan']\n", "cfg.yaml");
  CHECK(std::get<CategoricalDistribution>(quoted.search_space[0].second).choices ==
        std::vector<Json>{"0x10", ".nan"});
  CHECK(error_of("objective: {command: [true]}\nfixed: {k: [1, 0x10]}\nsearch_space: {x: [1]}\n") ==
        "cfg.yaml:2: fixed.k[1]: 0x10 reads as a number in YAML, but hpt reads finite decimal "
        "numbers only; write it in decimal, or quote it (\"0x10\") for a string");
}

// A step that does not divide the range: high is lowered to the last value the step reaches,
// as Optuna does (the stored distribution is Optuna's), with one warning line.
TEST_CASE("study config: a high no step reaches is lowered with a warning", "[config]") {
  const std::string head = "objective: {command: [true]}\nsearch_space:\n";
  // A grid of more than 2^53 points (1e300 / 1e-300 is inf) is refused, not lowered to inf.
  CHECK_THROWS_WITH(
      parse_study_config(head + "  a: {type: float, low: 0.0, high: 1.0e300, step: 1.0e-300}\n",
                         "cfg.yaml"),
      "cfg.yaml:3: search_space.a: step 1e-300 cuts [0, 1e+300] into more than 2^53 points; give "
      "a larger step, or none");
  // An int step over a range wider than 2^53: Optuna refuses some of its values (its check is
  // in doubles); a step of 1 there, or a step over 2^53 exactly, is fine.
  CHECK_THROWS_WITH(
      parse_study_config(
          head + "  y: {type: int, low: -9007199254740991, high: 9007199254740991, step: 3}\n",
          "cfg.yaml"),
      "cfg.yaml:3: search_space.y: a step (3) over a range wider than 2^53 (-9007199254740991 to "
      "9007199254740991): Optuna checks such values in doubles and refuses some that are on the "
      "step; narrow the range, or drop the step");
  CHECK_NOTHROW(
      parse_study_config(head + "  y: {type: int, low: -9007199254740991, high: 9007199254740991}\n"
                                "  z: {type: int, low: 0, high: 9007199254740992, step: 2}\n",
                         "cfg.yaml"));
  const auto c = parse_study_config(head +
                                        "  x: {type: int, low: 0, high: 10, step: 3}\n"
                                        "  f: {type: float, low: 0, high: 1, step: 0.3}\n"
                                        "  ok: {type: int, low: 0, high: 9, step: 3}\n",
                                    "cfg.yaml");
  CHECK(std::get<IntDistribution>(c.search_space[0].second).high == 9);
  CHECK(Json::parse(distribution_to_json(c.search_space[1].second)) ==
        Json::parse(R"({"name": "FloatDistribution", "attributes": {"step": 0.3, "low": 0.0,
                        "high": 0.9, "log": false}})"));
  CHECK(c.warnings ==
        std::vector<std::string>{
            "cfg.yaml:3: search_space.x: high 10 is not reachable with step 3 from low 0; using 9",
            "cfg.yaml:4: search_space.f: high 1 is not reachable with step 0.3 from low 0; using "
            "0.9"});
  CHECK(std::get<IntDistribution>(
            parse_study_config(head + "  x: {type: int, low: 0, high: 5, step: 10}\n", "c")
                .search_space[0]
                .second)
            .high == 0);
}

// Numbers and booleans are read from plain scalars only: a quoted or !!str-tagged "5" is a
// string everywhere (it used to be a number for seed, gpus and log, but not for the sampler).
TEST_CASE("study config: quoted numbers and booleans are strings", "[config]") {
  const std::string tail = "\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  CHECK(error_of("study: {seed: \"5\"}" + tail) ==
        "cfg.yaml:1: study.seed: expected an integer, got \"5\" (quoted or tagged as a string)");
  CHECK(error_of("study: {seed: !!str 5}" + tail) ==
        "cfg.yaml:1: study.seed: expected an integer, got \"5\" (quoted or tagged as a string)");
  CHECK(error_of("study: {gpus: [\"0\"]}" + tail) ==
        "cfg.yaml:1: study.gpus[0]: expected an integer, got \"0\" (quoted or tagged as a string)");
  CHECK(error_of("objective: {command: [true]}\nsearch_space:\n  a: {type: float, low: 1, high: "
                 "2, log: \"false\"}\n") ==
        "cfg.yaml:3: search_space.a.log: expected true or false, got \"false\" (quoted or tagged "
        "as a string)");
  CHECK_THAT(error_of("study: {sampler: {type: tpe, n_startup_trials: !!str 10}}" + tail),
             Catch::StartsWith("cfg.yaml:1: study.sampler"));
  CHECK_THAT(error_of("fixed:\n  dataset: {format: idx, path: /}\n  epochs: \"5\"\n"
                      "search_space: {dropout: [0.1]}\n"),
             Catch::Contains("epochs: expected an integer, got \"5\" (quoted or tagged as a "
                             "string)"));
  CHECK(parse_study_config("study: {seed: !!int 5}" + tail, "c").seed == 5);
}

// A placeholder-like {name} of objective.command that no parameter fills is passed as written:
// one warning each at load. A parameter with an empty name is refused.
TEST_CASE("study config: placeholders that name no parameter", "[config]") {
  const auto warnings = warnings_of(
      "objective: {command: [true, \"{x}\", \"--y={y}\", \"{y}\", \"{trial_number}\", "
      "'{\"a\": 1}', \"{}\", \"{k}\"]}\nfixed: {k: 1}\nsearch_space: {x: [1]}\n");
  CHECK(warnings == std::vector<std::string>{"cfg.yaml:1: objective.command: {y} names no "
                                             "parameter (parameters: x, k); passed as written"});
  CHECK(warnings_of("objective:\n  command:\n    - true\n    - \"{{x}}\"\n"
                    "search_space: {x: [1]}\n")
            .empty());  // {{x}} fills the inner {x}.
  CHECK(error_of("objective: {command: [true]}\nsearch_space:\n  \"\": [1]\n") ==
        "cfg.yaml:3: search_space: a parameter name must not be empty");
}

// load_study_config prints each warning as one line on stderr; the study goes on.
TEST_CASE("study config: load prints its warnings", "[config]") {
  hpt::test::TempDir dir{"cfg"};
  const std::string file = dir.file("w.yaml");
  std::ofstream(file) << "objective: {command: [true, \"{y}\"]}\nsearch_space:\n"
                         "  x: {type: int, low: 0, high: 10, step: 3}\n";
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const StudyConfig c = load_study_config(file);
  std::cerr.rdbuf(old);
  CHECK(err.str() == "hpt: warning: " + file +
                         ":3: search_space.x: high 10 is not reachable with step 3 from low 0; "
                         "using 9\nhpt: warning: " +
                         file +
                         ":1: objective.command: {y} names no parameter (parameters: x); "
                         "passed as written\n");
}

// enqueue: trials to run first, each naming searched parameters with values their
// distributions hold, stored as Optuna's external values; every mistake is named by place.
TEST_CASE("study config: enqueued trials", "[config][enqueue]") {
  const std::string head =
      "objective: {command: [true]}\nfixed: {epochs: 3}\nsearch_space:\n"
      "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n"
      "  units: {type: int, low: 16, high: 256, step: 16}\n"
      "  act: [relu, gelu]\n";
  const auto c = parse_study_config(
      head + "enqueue:\n  - {lr: 1, units: 64.0}\n  - {act: gelu}\n  - {lr: 0.001, act: relu}\n",
      "cfg.yaml");
  REQUIRE(c.enqueue.size() == 3);
  CHECK(c.enqueue[0].dump() == R"({"lr":1.0,"units":64})");  // The distributions' kinds.
  CHECK(c.enqueue[1].dump() == R"({"act":"gelu"})");
  CHECK(c.enqueue[2].dump() == R"({"act":"relu","lr":0.001})");
  CHECK(parse_study_config(head + "enqueue:\n", "cfg.yaml").enqueue.empty());
  CHECK(parse_study_config(head, "cfg.yaml").enqueue.empty());

  CHECK(error_of(head + "enqueue:\n  - {lr: 0.001, unit: 64}\n") ==
        "cfg.yaml:8: enqueue[0].unit: unknown parameter 'unit' (did you mean 'units'?); "
        "searched: lr, units, act");
  CHECK(error_of(head + "enqueue:\n  - {epochs: 5}\n") ==
        "cfg.yaml:8: enqueue[0].epochs: 'epochs' is set in 'fixed', not searched; every trial "
        "gets it");
  CHECK(error_of(head + "enqueue:\n  - {lr: 1.0e-3}\n  - {lr: 1.0e+3}\n") ==
        "cfg.yaml:9: enqueue[1].lr: 1.0e+3 is outside the search space (float [0.0001, 1] "
        "log)");
  CHECK_THAT(error_of(head + "enqueue:\n  - {units: 20}\n"),
             Catch::StartsWith("cfg.yaml:8: enqueue[0].units: 20 is outside the search space"));
  CHECK_THAT(error_of(head + "enqueue:\n  - {units: 32.5}\n"),
             Catch::StartsWith("cfg.yaml:8: enqueue[0].units: expected an integer, got 32.5"));
  CHECK_THAT(error_of(head + "enqueue:\n  - {act: tanh}\n"),
             Catch::StartsWith("cfg.yaml:8: enqueue[0].act: \"tanh\" is not one of the choices"));
  CHECK_THAT(error_of(head + "enqueue:\n  - {lr: \"0.001\"}\n"),
             Catch::StartsWith("cfg.yaml:8: enqueue[0].lr: expected a number, got \"0.001\""));
  CHECK_THAT(error_of(head + "enqueue:\n  - {lr: .nan}\n"),
             Catch::Contains("enqueue[0].lr: .nan reads as a number in YAML, but hpt reads"));
  CHECK(error_of(head + "enqueue:\n  - {lr: 0.001}\n  - {units: 32}\n  - {lr: 1.0e-3}\n") ==
        "cfg.yaml:10: enqueue[2]: repeats enqueue[0] (line 8); each trial is enqueued once");
  CHECK(error_of(head + "enqueue:\n  - {lr: 0.5}\n  - {units: 16.0}\n  - {units: 16}\n") ==
        "cfg.yaml:10: enqueue[2]: repeats enqueue[1] (line 9); each trial is enqueued once");
  std::string many = head + "enqueue:\n";
  for (int i = 0; i < 10001; ++i) {
    many += "  - {units: 16}\n";
  }
  CHECK(error_of(many) ==
        "cfg.yaml:8: enqueue: 10001 trials; at most 10000 (a grid sampler runs "
        "every point of a grid)");
  CHECK_THAT(error_of(head + "enqueue: {lr: 0.001}\n"),
             Catch::StartsWith("cfg.yaml:7: enqueue: expected a list of trials"));
  CHECK_THAT(error_of(head + "enqueue:\n  - lr\n"), Catch::StartsWith("cfg.yaml:8: enqueue[0]:"));
  CHECK(error_of(head + "enqueue:\n  - {}\n") ==
        "cfg.yaml:8: enqueue[0]: gives no parameter; name some of: lr, units, act");
  CHECK_THAT(error_of(head + "enqueue:\n  - {lr: 0.001, lr: 0.01}\n"),
             Catch::Contains("duplicate key 'lr'"));
}

// The built-in trainer's settings of each enqueued trial are checked as the worker merges
// them: two choices that are fine alone may not be together.
TEST_CASE("study config: enqueued trials of the built-in trainer", "[config][enqueue]") {
  const std::string yaml =
      "fixed:\n  dataset: {format: idx, path: /}\n  epochs: 2\nsearch_space:\n"
      "  classes_per_batch: [2, 64]\n  images_per_class: [2, 256]\nenqueue:\n"
      "  - {classes_per_batch: 64}\n  - {classes_per_batch: 64, images_per_class: 256}\n";
  CHECK(error_of("fixed:\n  dataset: {format: idx, path: /}\nsearch_space:\n  dropout: [0.1, 0.2]\n"
                 "enqueue:\n  - {dataset.path: /x}\n") ==
        "cfg.yaml:6: enqueue[0].dataset.path: 'dataset.path' is set in 'fixed', not searched; "
        "every trial gets it");
  CHECK_THAT(error_of(yaml),
             Catch::StartsWith("cfg.yaml (fixed + enqueue[1]): ") &&
                 Catch::Contains("classes_per_batch x images_per_class must be at most 8192"));
}

// A patient pruner's wrapped pruner is written as study.pruner is; its mistakes are named
// under study.pruner, with the line.
TEST_CASE("study config: threshold and patient pruners", "[config][pruner]") {
  const std::string tail = "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const auto c = parse_study_config(
      "study:\n  pruner:\n    type: patient\n    patience: 2\n    wrapped_pruner: {type: median, "
      "n_startup_trials: 3}\n" +
          tail,
      "cfg.yaml");
  CHECK(c.pruner_type == "patient");
  CHECK(c.pruner_options.at("wrapped_pruner") == Json{{"type", "median"}, {"n_startup_trials", 3}});
  CHECK(error_of("study:\n  pruner:\n    type: patient\n    patience: 2\n    wrapped_pruner: "
                 "{type: median, n_startup_trial: 3}\n" +
                 tail) ==
        "cfg.yaml:3: study.pruner: patient pruner option 'wrapped_pruner': unknown median pruner "
        "option 'n_startup_trial' (did you mean 'n_startup_trials'?)");
  CHECK(error_of("study: {pruner: {type: threshold}}\n" + tail) ==
        "cfg.yaml:1: study.pruner: threshold pruner needs option 'lower', 'upper' or both (the "
        "bounds an intermediate value must stay within)");
  CHECK(error_of("study: {pruner: {lower: 1}}\n" + tail) ==
        "cfg.yaml:1: study.pruner: missing 'type' (median, percentile, successive_halving, "
        "hyperband, threshold, patient, none)");
}

// objective.command[0] from a placeholder: each program its parameters can make is checked at
// load, as a plain command[0] is (every trial failed "cannot start '-1.43': not found in PATH"
// until max_failures; helper audit). Programs from choices, a small int range, a fixed value.
TEST_CASE("study config: a program made by placeholders is checked", "[config]") {
  const auto with = [](const std::string& command, const std::string& space) {
    return error_of("objective: {command: " + command + "}\nsearch_space:\n" + space);
  };
  CHECK(with("['{x}']", "  x: {type: float, low: -3, high: 3}\n") ==
        "cfg.yaml:1: objective.command[0]: with x = -3.0: cannot start '-3.0': not found in PATH");
  CHECK(with("['{tool}', a]", "  tool: [/bin/true, /no/such/tool]\n") ==
        "cfg.yaml:1: objective.command[0]: with tool = \"/no/such/tool\": cannot start "
        "'/no/such/tool': No such file or directory");
  CHECK(with("['{tool}']", "  tool: [/bin/true, /bin/sh]\n").empty());
  CHECK(with("['/bin/{name}']", "  a: [1]\n").empty() == false);  // {name} fills nothing.
  CHECK(error_of("objective: {command: ['/bin/{name}']}\nfixed: {name: 'true'}\n"
                 "search_space: {a: [1]}\n")
            .empty());
  CHECK_THAT(with("['/bin/t{v}']", "  v: {type: int, low: 0, high: 2}\n"),
             Catch::StartsWith("cfg.yaml:1: objective.command[0]: with v = 0: cannot start "
                               "'/bin/t0'"));
  CHECK(with("['{trial_number}']", "  a: [1]\n").empty());  // Per trial: not checked.
}

// A misspelt parameter key is named, with the key meant among those not given yet: `typ` read
// as "missing 'type'", and `lgo` beside `low` was taken for 'low' (helper audit).
TEST_CASE("study config: a misspelt parameter key is named", "[config]") {
  CHECK(error_of(
            "objective: {command: [true]}\nsearch_space:\n  x: {typ: float, low: 0, high: 1}\n") ==
        "cfg.yaml:3: search_space.x.typ: unknown key 'typ' (did you mean 'type'?)");
  CHECK(error_of("objective: {command: [true]}\nsearch_space:\n"
                 "  x: {type: float, low: 1, high: 9, lgo: true}\n") ==
        "cfg.yaml:3: search_space.x.lgo: unknown key 'lgo' (did you mean 'log'?)");
}
