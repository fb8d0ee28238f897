#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../../engine/src/cli_study_run.hpp"  // Internal to the engine.
#include "cli_fixtures.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

// --storage must keep the study: ":memory:" or an SQLite URI filename is refused naming the
// flag, before any database or trials folder is made.
TEST_CASE("cli: --storage that cannot keep a study", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "study: {storage: " << dir.file("s.db")
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  const auto memory = run_hpt_capture({"--config", cfg, "--trials", "1", "--storage", ":memory:"});
  const auto uri =
      run_hpt_capture({"--config", cfg, "--trials", "1", "--storage", "file:r.db?mode=memory"});
  std::filesystem::current_path(cwd);
  CHECK(memory.first == 2);
  CHECK_THAT(memory.second,
             Catch::StartsWith("hpt: error: --storage: ':memory:' is an in-memory database"));
  CHECK(uri.first == 2);
  CHECK_THAT(uri.second, Catch::StartsWith("hpt: error: --storage: 'file:r.db?mode=memory': SQLite "
                                           "URI filenames (file:...) are not taken"));
  // A database's side file (tab completion's slip), with or without the database beside it:
  // a usage mistake (exit 2) named before the trials folder is judged by that name.
  for (const bool with_db : {true, false}) {
    INFO(with_db);
    std::filesystem::create_directories(dir.path() / "out");
    if (with_db) {
      std::ofstream(dir.file("out/s.db"));
    }
    std::filesystem::current_path(dir.path());
    const auto side =
        run_hpt_capture({"--config", cfg, "--trials", "1", "--storage", "out/s.db-journal"});
    std::filesystem::current_path(cwd);
    CHECK(side.first == 2);
    CHECK_THAT(side.second,
               Catch::StartsWith(with_db ? "hpt: error: --storage: out/s.db-journal: the SQLite "
                                           "-journal file of out/s.db, not a database"
                                         : "hpt: error: --storage: out/s.db-journal: the name "
                                           "SQLite gives the -journal file of out/s.db"));
    CHECK_FALSE(std::filesystem::exists(dir.file("out/s.db-journal")));
    CHECK_FALSE(std::filesystem::exists(dir.file("out/s_trials")));
    std::filesystem::remove_all(dir.path() / "out");
  }
  std::vector<std::string> made;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    made.push_back(e.path().filename().string());
  }
  CHECK(made == std::vector<std::string>{"c.yaml"});
}

// A database that cannot be opened is named by where it was given: the config's key or the flag.
TEST_CASE("cli: a database that cannot be opened names its place", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "study: {storage: " << dir.path().string()
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const auto from_config = run_hpt_capture({"--config", cfg, "--trials", "1"});
  CHECK(from_config.first == 1);
  CHECK(from_config.second == "hpt: error: " + cfg + ":1: study.storage: " + dir.path().string() +
                                  ": is a directory, not a database file\n");
  const auto from_flag =
      run_hpt_capture({"--config", cfg, "--trials", "1", "--storage", dir.path().string()});
  CHECK_THAT(from_flag.second, Catch::StartsWith("hpt: error: --storage: " + dir.path().string()));
  // A new path that names a folder ("new.db/", "x/.") is refused before anything is made (a run
  // and hpt ask made the folder new.db/, then refused it as a folder).
  for (const std::string name : {"new.db/", "new/."}) {
    const std::string path = dir.file(name);
    const auto slash = run_hpt_capture({"--config", cfg, "--trials", "1", "--storage", path});
    CHECK(slash.first == 1);
    CHECK(slash.second ==
          "hpt: error: --storage: " + path + ": names a folder, not a database file\n");
    const auto asked = run_hpt_capture({"ask", "--config", cfg, "--storage", path});
    CHECK(asked.first == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("new.db")));
    CHECK_FALSE(std::filesystem::exists(dir.file("new")));
  }
}

// A study refused for what needs no database (a name too long, a trials folder that cannot be
// made) leaves no database behind: it used to create an empty Optuna schema first.
TEST_CASE("cli: a refused study makes no database", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "study: {storage: " << dir.file("s.db")
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const auto long_name =
      run_hpt_capture({"--config", cfg, "--trials", "1", "--study", std::string(513, 'a')});
  CHECK(long_name.first != 0);
  CHECK_THAT(long_name.second, Catch::Contains("is 513 characters long"));
  const std::string big = dir.file("big.yaml");
  std::ofstream(big) << "study: {storage: " << dir.file("s.db")
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\nfixed: {blob: "
                     << std::string(140000, 'x') << "}\n";
  const auto fixed = run_hpt_capture({"--config", big, "--trials", "1"});
  CHECK(fixed.first != 0);
  CHECK_THAT(fixed.second, Catch::Contains("big.yaml: fixed: 140021 bytes as JSON, but workers get "
                                           "it in HPT_FIXED"));
  // A choice no worker could be given (it failed every trial that drew it, at start).
  const std::string wide = dir.file("wide.yaml");
  std::ofstream(wide) << "study: {storage: " << dir.file("s.db")
                      << "}\nobjective: {command: [true]}\nsearch_space: {small: [1], a: [\"1\", "
                      << std::string(140000, 'x') << "]}\n";
  const auto choice = run_hpt_capture({"--config", wide, "--trials", "1"});
  CHECK(choice.first != 0);
  CHECK(choice.second == "hpt: error: " + wide +
                             ": search_space.a: its longest value makes "
                             "HPT_PARAMS 140052 bytes, but workers get their "
                             "parameters in HPT_PARAMS and Linux passes at "
                             "most 131071 bytes in one environment variable\n");
  const auto bytes = run_hpt_capture({"--config", cfg, "--trials", "1", "--study", "\xff\xfe"});
  CHECK(bytes.first == 2);
  CHECK(bytes.second == "hpt: error: --study: is not valid UTF-8\n");
  std::ofstream(dir.file("s_trials")) << "a file where the trials folder goes\n";
  const auto blocked = run_hpt_capture({"--config", cfg, "--trials", "1"});
  CHECK(blocked.first != 0);
  CHECK_THAT(blocked.second, Catch::Contains("s_trials"));
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
}

// The flags override the config's jobs, storage and study name; a database in a new folder is
// made with its folder.
TEST_CASE("cli: open_study_for applies the flags and makes the database", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg =
      command_study_config(dir, "name: s, jobs: 2, storage: " + dir.file("s.db"));
  const std::string db = dir.file("new/o.db");
  const OpenedStudy opened = open_study_for(cfg, 3, db, "named");
  CHECK(opened.config.jobs == 3);
  CHECK(opened.config.storage == db);
  CHECK(opened.config.name == "named");
  REQUIRE(opened.storage);
  CHECK(std::filesystem::exists(db));
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
  const OpenedStudy own = open_study_for(cfg, 0, "", "");
  CHECK(own.config.jobs == 2);
  CHECK(own.config.name == "s");
  CHECK(std::filesystem::exists(dir.file("s.db")));
  CHECK_THROWS_WITH(open_study_for(cfg, 0, "", "\xff"), "--study: is not valid UTF-8");
}
