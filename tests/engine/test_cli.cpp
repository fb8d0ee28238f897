#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hpt/engine/cli.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

namespace {

// A COMPLETE trial with this value (no params).
FrozenTrial complete_trial(double value) {
  FrozenTrial t;
  t.state = TrialState::Complete;
  t.value = value;
  return t;
}

// A study with one COMPLETE and one FAIL trial, params x (float) and c (categorical list).
std::unique_ptr<Storage> sample_study(const std::string& db, StudyInfo& info) {
  std::filesystem::remove(db);
  auto s = open_storage(db);
  info.id = s->create_study("demo", Direction::Minimize);
  info.name = "demo";
  FloatDistribution fx{0, 1, false, {}};
  CategoricalDistribution fc{{Json::array({512, 256}), "a,b"}};
  FrozenTrial a = complete_trial(0.25);
  a.datetime_start = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);
  a.datetime_complete = *a.datetime_start + std::chrono::microseconds(1234567);
  a.params = {{"x", 0.5}, {"c", 0}};
  a.distributions = {{"x", fx}, {"c", fc}};
  s->create_trial(info.id, a);
  FrozenTrial b = a;
  b.state = TrialState::Fail;
  b.value.reset();
  b.params = {{"x", 0.75}, {"c", 1}};
  s->create_trial(info.id, b);
  return s;
}

// sample_study in its own temporary folder.
struct SampleStudy {
  hpt::test::TempDir dir{"cli"};
  StudyInfo info;
  std::unique_ptr<Storage> s = sample_study(dir.file("s.db"), info);
};

}  // namespace

// json: an array of objects with number, state, value and external params.
TEST_CASE_METHOD(SampleStudy, "cli: trials as json", "[cli]") {
  Json j = Json::parse(format_trials(*s, info, "json"));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["number"] == 0);
  CHECK(j[0]["state"] == "COMPLETE");
  CHECK(j[0]["value"] == 0.25);
  CHECK(j[0]["params"]["c"] == Json::array({512, 256}));
  CHECK(j[1]["state"] == "FAIL");
  CHECK(j[1]["value"].is_null());
  CHECK(j[1]["datetime_complete"].is_string());
  FrozenTrial waiting;
  waiting.state = TrialState::Waiting;
  s->create_trial(info.id, waiting);
  CHECK(Json::parse(format_trials(*s, info, "json"))[2]["datetime_complete"].is_null());  // Not "".
}

// csv quotes values holding commas; table aligns columns.
TEST_CASE_METHOD(SampleStudy, "cli: trials as csv and table", "[cli]") {
  const std::string csv = format_trials(*s, info, "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,value,duration,params_c,params_x\n"));
  CHECK_THAT(csv, Catch::Contains("\n0,COMPLETE,0.25,1.234567,") &&
                      Catch::Contains(",\"[512,256]\",0.5\n"));  // The duration as in json.
  CHECK(Json::parse(format_trials(*s, info, "json"))[0]["duration"] == 1.234567);
  CHECK_THAT(csv, Catch::Contains("\n1,FAIL,,") && Catch::Contains(",\"a,b\",0.75\n"));
  const std::string table = format_trials(*s, info, "table");
  CHECK_THAT(table, Catch::Contains("number  state"));
  CHECK_THROWS_WITH(format_trials(*s, info, "xml"),
                    Catch::Contains("--format must be table, json or csv"));
}

// A constrained study's trials carry their constraint values: json "constraints", csv
// columns constraints and feasible (exact), the table a column marking violated ones.
TEST_CASE_METHOD(SampleStudy, "cli: trials of a constrained study", "[cli][constraints]") {
  FrozenTrial c = complete_trial(0.5);
  c.system_attrs["constraints"] = Json::array({-0.5, 0.1});
  s->create_trial(info.id, c);
  c.system_attrs["constraints"] = Json::array({-1});
  s->create_trial(info.id, c);
  const Json j = Json::parse(format_trials(*s, info, "json"));
  CHECK_FALSE(j[0].contains("constraints"));
  CHECK(j[2]["constraints"] == Json::array({-0.5, 0.1}));
  const std::string csv = format_trials(*s, info, "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,value,duration,params_c,params_x,constraints,"
                                    "feasible\n"));
  CHECK_THAT(csv, Catch::Contains(",\"[-0.5, 0.1]\",False\n") && Catch::Contains(",[-1],True\n") &&
                      Catch::Contains(",0.5,,\n"));
  const std::string table = format_trials(*s, info, "table");
  CHECK_THAT(table, Catch::Contains("constraints") && Catch::Contains("[-0.5, 0.1] violated") &&
                        Catch::Contains("[-1]"));
  CHECK(format_trials(*s, info, "table").find("[-1] violated") == std::string::npos);
}

// A multi-objective study's csv has one column per objective, values_0, values_1, ... as
// Optuna's trials_dataframe (they were one quoted "[0.5, 2]" cell no spreadsheet reads as
// numbers); a trial without values leaves them empty.
TEST_CASE("cli: multi-objective trials as csv", "[cli]") {
  hpt::test::TempDir dir("cli");
  auto s = open_storage(dir.file("m.db"));
  const int64_t id =
      s->create_study("m", std::vector<Direction>{Direction::Minimize, Direction::Maximize});
  FrozenTrial t = complete_trial(0);
  t.value.reset();
  t.values = {0.5, -HUGE_VAL};
  s->create_trial(id, t);
  FrozenTrial failed = complete_trial(0);
  failed.state = TrialState::Fail;
  failed.value.reset();
  s->create_trial(id, failed);
  const std::string csv = format_trials(*s, *s->find_study("m"), "csv");
  CHECK_THAT(csv, Catch::StartsWith("number,state,values_0,values_1,duration\n"));
  CHECK_THAT(csv, Catch::Contains("\n0,COMPLETE,0.5,-inf,") && Catch::Contains("\n1,FAIL,,,"));
}

// json keeps NaN and infinities as Python's json writes them (they read back as floats);
// csv writes the shortest exact text of each value.
TEST_CASE_METHOD(SampleStudy, "cli: non-finite values in json and csv", "[cli]") {
  FrozenTrial t = complete_trial(0.1);
  t.intermediate_values = {{0, std::nan("")}, {1, -HUGE_VAL}};
  t.user_attrs = {{"inf", HUGE_VAL}};
  t.params = {{"x", 0.3}, {"c", 0}};
  t.distributions = {{"x", FloatDistribution{0, 1, false, {}}},
                     {"c", CategoricalDistribution{{Json::array({512, 256}), "a,b"}}}};
  s->create_trial(info.id, t);
  const std::string json = format_trials(*s, info, "json");
  CHECK_THAT(json, Catch::Contains("\"0\": NaN") && Catch::Contains("\"1\": -Infinity") &&
                       Catch::Contains("\"inf\": Infinity"));
  CHECK_THAT(format_trials(*s, info, "csv"), Catch::Contains("\n2,COMPLETE,0.1,"));
}

// Table cells from the database show control characters escaped.
TEST_CASE_METHOD(SampleStudy, "cli: table escapes control characters", "[cli]") {
  FrozenTrial t = complete_trial(1);
  t.params = {{"\x1b[2Jname", 0}};
  t.distributions = {{"\x1b[2Jname", CategoricalDistribution{{"\x1b]0;x\x07"}}}};
  s->create_trial(info.id, t);
  const std::string table = format_trials(*s, info, "table");
  CHECK(table.find('\x1b') == std::string::npos);
  CHECK_THAT(table, Catch::Contains("\\x1b[2Jname") && Catch::Contains("\\x1b]0;x\\x07"));
  CHECK(format_trials(*s, info, "csv").find("\x1b]0;x\x07") != std::string::npos);
}

// The report may not overwrite the study database, its -wal/-shm files or a link to it.
TEST_CASE("cli: check_output_path refuses the database", "[cli]") {
  hpt::test::TempDir tmp("cli");
  const auto dir = tmp.path();
  std::filesystem::create_directories(dir / "sub");
  const std::string db = (dir / "s.db").string();
  StudyInfo info;
  auto s = sample_study(db, info);
  std::filesystem::create_symlink(db, dir / "link.html");
  for (const std::string& out : {db, db + "-wal", db + "-shm", (dir / "sub/../s.db").string(),
                                 (dir / "link.html").string()}) {
    INFO(out);
    CHECK_THROWS_WITH(check_output_path(out, db), Catch::Contains("is the study database"));
    CHECK_THROWS_AS(check_output_path(out, "sqlite:///" + db), std::invalid_argument);
  }
  // A -journal not made yet, spelled relative against an absolute database (and the other way
  // round), and the files beside the real file of a database named through a link.
  const std::string rel_db = std::filesystem::relative(db).string();
  REQUIRE(!std::filesystem::exists(db + "-journal"));
  std::filesystem::create_symlink(db, dir / "alias.db");
  for (const auto& [out, storage] : std::vector<std::pair<std::string, std::string>>{
           {"./" + rel_db + "-journal", db},
           {db + "-journal", rel_db},
           {db + "-journal", (dir / "alias.db").string()}}) {
    INFO(out << " against " << storage);
    CHECK_THROWS_WITH(check_output_path(out, storage),
                      Catch::Contains("is the study database's SQLite -journal file"));
  }
  CHECK_NOTHROW(check_output_path((dir / "report.html").string(), db));
  CHECK_NOTHROW(check_output_path((dir / "report.html").string(), "postgresql://u@h/db"));
}

// An existing file is overwritten only when it is empty or an HTML page: `-o hpt_config.yaml`
// (or any config, script or database) is refused, whatever the storage.
TEST_CASE("cli: check_output_path refuses a file that is not HTML", "[cli]") {
  hpt::test::TempDir tmp("cli");
  const auto write = [&](const char* name, const std::string& text) {
    std::ofstream(tmp.file(name), std::ios::binary) << text;
    return tmp.file(name);
  };
  for (const std::string& html :
       {write("a.html", "<!DOCTYPE html><html></html>"), write("b.html", "\xEF\xBB\xBF\n  <HTML>"),
        write("c.html", "<!-- saved -->\n<html>"), write("empty.html", "")}) {
    INFO(html);
    CHECK_NOTHROW(check_output_path(html, tmp.file("s.db")));
  }
  for (const std::string& other :
       {write("hpt_config.yaml", "study:\n  name: s\n"), write("run.py", "print(1)\n"),
        write("x.db", std::string("SQLite format 3\0", 16))}) {
    INFO(other);
    CHECK_THROWS_WITH(check_output_path(other, "postgresql://u@h/db"),
                      Catch::Contains("exists and is not an HTML file; refusing to overwrite it"));
  }
}

namespace {

// run_hpt on args with a registrar adding a verb with -o (as hpt report does); returns the exit
// code and what it printed on stderr.
std::pair<int, std::string> run_hpt_capture(std::vector<std::string> args) {
  args.insert(args.begin(), "hpt");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  std::string out;
  const CommandRegistrar report = [&out](CLI::App& app) {
    auto* verb = app.add_subcommand("report", "a registrar's verb");
    verb->add_option("-o,--out", out, "output");
    verb->callback([] {});
  };
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const int code = run_hpt(static_cast<int>(argv.size()), argv.data(), {report});
  std::cerr.rdbuf(old);
  return {code, err.str()};
}

}  // namespace

// An empty value never silently means "not given": every option and positional of hpt and of
// registrars' verbs refuses it, naming itself.
TEST_CASE("cli: empty values are refused naming the flag", "[cli]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "objective: {command: [true]}\nsearch_space: {a: [1]}\n";
  const std::string db = dir.file("s.db");
  open_storage(db)->create_study("only", Direction::Minimize);
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--config", cfg, "--trials", "1", "--study", ""}, "--study: must not be empty"},
      {{"--config", cfg, "--trials", "1", "--storage", ""}, "--storage: must not be empty"},
      {{"--config", cfg, "--trials", "", "--study", "x"}, "--trials: must not be empty"},
      {{"trials", db, "--study", ""}, "--study: must not be empty"},
      {{"trials", db, "--study="}, "--study: "},  // CLI11's own refusal of "--study=".
      {{"best", db, "--study", ""}, "--study: must not be empty"},
      {{"studies", ""}, "DB: must not be empty"},
      {{"report", "-o", ""}, "--out: must not be empty"},
  };
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());  // Where the config's default storage would go.
  std::vector<std::pair<int, std::string>> results;
  for (const auto& c : cases) {
    results.push_back(run_hpt_capture(c.args));
  }
  std::filesystem::current_path(cwd);
  for (size_t i = 0; i < results.size(); ++i) {
    INFO(cases[i].error);
    CHECK(results[i].first == 2);
    CHECK_THAT(results[i].second, Catch::StartsWith("hpt: error: " + cases[i].error));
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("hpt_study.db")));
}

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

// --timeout: a time with an optional unit; a bad one is refused naming the flag, before
// anything is opened; with neither --trials nor --timeout the study command is refused.
TEST_CASE("cli: --timeout", "[cli][timeout]") {
  hpt::test::TempDir dir{"cli"};
  const std::string cfg = dir.file("c.yaml");
  std::ofstream(cfg) << "study: {storage: " << dir.file("s.db")
                     << "}\nobjective: {command: [true]}\nsearch_space: {a: [1]}\n";
  for (const char* bad : {"0", "-5", "abc", "1e3", "2H", "1h30m", "inf", "2000000000"}) {
    INFO(bad);
    const auto [code, err] = run_hpt_capture({"--config", cfg, "--timeout", bad});
    CHECK(code == 2);
    CHECK_THAT(err, Catch::StartsWith("hpt: error: --timeout: expected a time such as 3600, 90m"));
  }
  const auto none = run_hpt_capture({"--config", cfg});
  CHECK(none.first == 2);
  CHECK_THAT(none.second, Catch::Contains("--trials N is required with --config") &&
                              Catch::Contains("or --timeout TIME"));
  const auto no_config = run_hpt_capture({"--timeout", "1h"});
  CHECK(no_config.first == 2);
  CHECK(no_config.second == "hpt: error: --timeout needs --config FILE\n");
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
}

// hpt delete-study: only a named study, never while trials run unless forced, nothing made or
// changed on a refusal, and the other studies untouched.
TEST_CASE("cli: delete-study", "[cli][delete]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  int64_t running_id = 0;
  {
    auto s = open_storage(db);
    const int64_t keep = s->create_study("keep", Direction::Minimize);
    s->create_trial(keep, FrozenTrial{});
    const int64_t gone = s->create_study("gone", Direction::Minimize);
    FrozenTrial done;
    done.state = TrialState::Complete;
    done.value = 1.0;
    s->create_trial(gone, done);
    running_id = s->claim_trial(gone, 10, Json("host"), nullptr)->trial.id;
  }
  const auto missing = run_hpt_capture({"delete-study", dir.file("nope.db"), "--study", "gone"});
  CHECK(missing.first == 1);
  CHECK_THAT(missing.second, Catch::Contains("nope.db") && Catch::Contains("no such file"));
  CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
  const auto unnamed = run_hpt_capture({"delete-study", db});
  CHECK(unnamed.first == 2);
  CHECK_THAT(unnamed.second, Catch::Contains("--study"));
  const auto typo = run_hpt_capture({"delete-study", db, "--study", "gon"});
  CHECK(typo.first == 1);
  CHECK_THAT(typo.second, Catch::Contains("'gon'") && Catch::Contains("gone"));
  const auto busy = run_hpt_capture({"delete-study", db, "--study", "gone"});
  CHECK(busy.first == 1);
  CHECK(busy.second ==
        "hpt: error: study 'gone' has 1 RUNNING trial: a run may be going on (or was killed); "
        "stop it first, or give --force\n");
  CHECK(open_storage(db, true)->list_studies().size() == 2);
  ::chmod(db.c_str(), 0444);
  if (::access(db.c_str(), W_OK) != 0) {  // Not root: the file is read-only.
    const auto read_only = run_hpt_capture({"delete-study", db, "--study", "gone", "--force"});
    CHECK(read_only.first == 1);
    CHECK_THAT(read_only.second, Catch::Contains("read-only"));
  }
  ::chmod(db.c_str(), 0644);
  const auto forced = run_hpt_capture({"delete-study", db, "--study", "gone", "--force"});
  CHECK(forced.first == 0);
  CHECK(forced.second.empty());
  auto s = open_storage(db, true);
  const auto studies = s->list_studies();
  REQUIRE(studies.size() == 1);
  CHECK(studies[0].name == "keep");
  CHECK(s->get_all_trials(studies[0].id).size() == 1);
  CHECK_THROWS_AS(s->get_trial(running_id), StorageError);
}

// delete-study names the study's own trials folder, known by the study key it records: found
// where the study's runs put it (beside the database) even when no trial wrote a log; a folder
// of that name recording another key, or the folder its (copied) trials' logs are in when that
// records another study's key, is not named.
TEST_CASE("cli: delete-study names a trials folder no log points to", "[cli][delete]") {
  hpt::test::TempDir dir{"cli"};
  const std::string db = dir.file("s.db");
  const std::string folder = dir.file("s_trials/quiet");
  {
    auto s = open_storage(db);
    for (const char* name : {"quiet", "other"}) {
      const int64_t id = s->create_study(name, Direction::Minimize);
      s->set_study_system_attr(id, k_study_key_attr, std::string(name) + "-key");
      FrozenTrial waiting;
      waiting.state = TrialState::Waiting;
      if (std::string(name) == "other") {  // Copied: its log is in the source's folder.
        waiting.system_attrs[k_log_attr] = dir.file("source_trials/other/0.log");
      }
      s->create_trial(id, waiting);
    }
  }
  std::filesystem::create_directories(folder);
  record_folder_study_key(folder, "quiet-key");
  std::filesystem::create_directories(dir.file("s_trials/other"));
  record_folder_study_key(dir.file("s_trials/other"), "a study of another database");
  std::filesystem::create_directories(dir.file("source_trials/other"));
  std::ofstream(dir.file("source_trials/other/0.log")) << "log\n";
  record_folder_study_key(dir.file("source_trials/other"), "the source study's key");
  for (const char* name : {"quiet", "other"}) {
    std::ostringstream out;
    auto* old = std::cout.rdbuf(out.rdbuf());
    const auto result = run_hpt_capture({"delete-study", db, "--study", name});
    std::cout.rdbuf(old);
    INFO(name << ": " << result.second << out.str());
    CHECK(result.first == 0);
    const bool named = out.str().find("its trials folder is left as it is") != std::string::npos;
    CHECK(named == (std::string(name) == "quiet"));
    if (named) {
      CHECK_THAT(out.str(), Catch::EndsWith(": " + folder + "\n"));
    }
  }
  CHECK(std::filesystem::is_directory(folder));
}
