#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "hpt/engine/study_config.hpp"
#include "hpt/engine/study_folder.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

// Plain names are kept; anything else becomes a safe name with a hash, inside trials_dir.
TEST_CASE("study folder: safe, readable, unique", "[study_folder]") {
  CHECK(study_folder_name("quad") == "quad");
  CHECK(study_folder_name("fashion_mnist-v2.1") == "fashion_mnist-v2.1");
  const std::vector<std::string> hostile{"../../x",
                                         "/etc/passwd",
                                         "..",
                                         ".",
                                         "",
                                         "a/b",
                                         "a b",
                                         "-rf",
                                         ".hidden",
                                         std::string(5000, 'n'),
                                         "caf\xc3\xa9",
                                         std::string("a\0b", 3),
                                         "a_b",
                                         "x\ny"};
  std::set<std::string> seen;
  for (const auto& name : hostile) {
    const std::string f = study_folder_name(name);
    INFO(name);
    CHECK_FALSE(f.empty());
    CHECK(f != ".");
    CHECK(f != "..");
    CHECK(f.find('/') == std::string::npos);
    CHECK(f.find('\0') == std::string::npos);
    CHECK(f.size() <= 113);
    CHECK(f[0] != '.');
    CHECK(seen.insert(f).second);  // Distinct names, distinct folders.
  }
  CHECK(study_folder_name("../../x").rfind("_._.._x~", 0) == 0);  // The readable part stays.
  // A plain name can never take the folder of a changed one ('~' is never kept).
  CHECK(study_folder_name("a b") != study_folder_name(study_folder_name("a b")));
  CHECK(study_folder_name("a b") == study_folder_name("a b"));  // Stable.
}

// The folder's key: recorded, read back, compared; another study's key is named a problem.
TEST_CASE("study folder: the study key it records", "[study_folder]") {
  const std::string a = new_study_key();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(new_study_key() != a);
  hpt::test::TempDir dir("folder");
  const std::string folder = dir.path().string();
  CHECK_FALSE(folder_study_key(folder));
  CHECK(folder_owner_problem(folder, "s", std::nullopt).empty());  // Nothing recorded yet.
  record_folder_study_key(folder, a);
  CHECK(folder_study_key(folder) == a);
  CHECK(folder_owner_problem(folder, "s", a).empty());
  const std::string problem = folder_owner_problem(folder, "s", new_study_key());
  CHECK_THAT(problem, Catch::StartsWith("trials folder '" + folder +
                                        "' holds the trials of another study named 's'"));
  CHECK(folder_owner_problem(folder, "s", std::nullopt) == problem);  // A study without a key.
  // A long or empty file: never taken for a key.
  std::ofstream(dir.path() / k_folder_key_file) << std::string(1000, 'a') << "\n";
  CHECK(folder_study_key(folder) == std::string(64, 'a'));
  std::ofstream(dir.path() / k_folder_key_file) << "";
  CHECK_FALSE(folder_study_key(folder));
  CHECK_THROWS_WITH(record_folder_study_key(dir.file("missing/deeper"), a),
                    Catch::StartsWith("cannot record the study in its trials folder: "));
}

// A folder moved aside keeps everything, under a name that says whose it was.
TEST_CASE("study folder: moved aside", "[study_folder]") {
  hpt::test::TempDir dir("folder");
  const std::string folder = dir.file("s");
  std::filesystem::create_directories(folder);
  record_folder_study_key(folder, "0123456789abcdef");
  std::ofstream(dir.path() / "s" / "0.log") << "old log\n";
  CHECK(move_folder_aside(folder) == folder + "~old-01234567");
  CHECK_FALSE(std::filesystem::exists(folder));
  CHECK(std::filesystem::exists(dir.path() / "s~old-01234567" / "0.log"));
  std::filesystem::create_directories(folder);
  record_folder_study_key(folder, "0123456789abcdef");
  CHECK(move_folder_aside(folder) == folder + "~old-01234567-2");  // The first name is taken.
  CHECK_THROWS_WITH(move_folder_aside(dir.file("missing")),
                    Catch::StartsWith("cannot move the trials folder '" + dir.file("missing") +
                                      "' aside to '" + dir.file("missing") + "~old-': "));
}

// The default trials folder <stem>_trials/ records its database's file name once, and is refused
// to another database of that stem (a.db and a.sqlite beside it); a study with trials_dir, or on
// a server, has no default folder to check.
TEST_CASE("study folder: the default trials folder's database", "[study_folder]") {
  hpt::test::TempDir dir("folder");
  const auto study = [&](const std::string& storage, const std::string& extra = "") {
    return parse_study_config("study: {name: s, storage: " + storage + extra +
                                  "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n",
                              "t.yaml");
  };
  const StudyConfig db = study(dir.file("s.db"));
  const auto base = default_trials_base(db);
  REQUIRE(base);
  CHECK(base->first == dir.path() / "s_trials");
  CHECK(base->second == "s.db");
  CHECK_FALSE(default_trials_base(study(dir.file("s.db"), ", trials_dir: " + dir.file("runs"))));
  CHECK_FALSE(default_trials_base(study("postgresql://u@h/db")));
  CHECK(trials_base_problem(db).empty());  // Nothing recorded yet.
  std::filesystem::create_directories(base->first);
  record_trials_base(db);
  std::string recorded;
  std::getline(std::ifstream(base->first / k_folder_database_file), recorded);
  CHECK(recorded == "s.db");
  CHECK(trials_base_problem(db).empty());
  const StudyConfig other = study(dir.file("s.sqlite"));
  CHECK(trials_base_problem(other) == "trials folder '" + base->first.string() +
                                          "' holds the trials of the database 's.db', not "
                                          "'s.sqlite'; give study.trials_dir");
  record_trials_base(other);  // Once: the first database's stays.
  CHECK(trials_base_problem(other) != "");
  CHECK(trials_base_problem(db).empty());
}
