#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "hpt/reports/plots_html.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "study_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace {

// A model view file (the smallest the renderer draws) at path, its folders made.
void write_view(const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << hpt::Json{{"format", "hpt-model-view"}, {"n_images", 4}}.dump();
}

}  // namespace

// The view file sits next to the trial's log: <study dir>/<N>/model_view.json.
TEST_CASE("model_view_path and load_trial_model_view", "[model_view]") {
  hpt::test::TempDir dir;
  hpt::FrozenTrial t;
  t.number = 3;
  CHECK_FALSE(hpt::reports::model_view_path(t));
  t.system_attrs["hpt:log"] = (dir.path() / "s" / "3.log").string();
  REQUIRE(hpt::reports::model_view_path(t) ==
          (dir.path() / "s" / "3" / "model_view.json").string());
  CHECK_FALSE(hpt::reports::load_trial_model_view(t));  // Not written yet.
  write_view(dir.path() / "s" / "3" / "model_view.json");
  const auto view = hpt::reports::load_trial_model_view(t);
  REQUIRE(view);
  CHECK((*view)["n_images"] == 4);
  t.system_attrs["hpt:log"] = "/etc/passwd";
  CHECK_FALSE(hpt::reports::model_view_path(t));
}

// Only the orchestrator's own name for the trial's log counts: <folder>/<its number>.log.
TEST_CASE("trial_log_path", "[model_view]") {
  hpt::FrozenTrial t;
  t.number = 12;
  CHECK_FALSE(hpt::reports::trial_log_path(t));
  for (const char* ok : {"/runs/s_trials/s/12.log", "out/s/12.log", "12.log"}) {
    t.system_attrs["hpt:log"] = ok;
    CHECK(hpt::reports::trial_log_path(t) == ok);
  }
  for (const hpt::Json& bad :
       {hpt::Json("/var/log/dpkg.log"), hpt::Json("/s/112.log"), hpt::Json("/s/2.log"),
        hpt::Json("/s/12.log.gz"), hpt::Json("/s/x12.log"), hpt::Json(12),
        hpt::Json(std::string("/s/12.log\0/12.log", 17)),  // stat() would see "/s/12.log".
        hpt::Json("/" + std::string(5000, 'a') + "/12.log")}) {  // Longer than PATH_MAX.
    t.system_attrs["hpt:log"] = bad;
    CHECK_FALSE(hpt::reports::trial_log_path(t));
  }
}

// The study report shows the best trial's model view, and only when there is one.
TEST_CASE("the report shows the best trial's model", "[model_view]") {
  hpt::test::TempDir dir;
  auto trials = hpt::test::mixed_study(20);
  const auto study = hpt::test::study_info(1, "s");
  const std::string without = hpt::reports::render_plot_sections(study, trials, nullptr);
  CHECK(without.find("<section id=\"model\">") == std::string::npos);
  const auto best = hpt::reports::best_trial_index(trials, hpt::Direction::Minimize);
  REQUIRE(best);
  for (auto& t : trials) {
    t.system_attrs["hpt:log"] = (dir.path() / (std::to_string(t.number) + ".log")).string();
  }
  write_view(dir.path() / std::to_string(trials[*best].number) / "model_view.json");
  const std::string with = hpt::reports::render_plot_sections(study, trials, nullptr);
  CHECK(with.find("<section id=\"model\"><h2>What the model learned (best trial #" +
                  std::to_string(trials[*best].number) + ")") != std::string::npos);
}

// A study folder moved (or copied) with its database keeps its logs: the recorded absolute
// path is gone, the same <study>_trials/<study>/<n>.log lies under the database's new folder.
TEST_CASE("located_log follows a moved study folder", "[model_view]") {
  namespace fs = std::filesystem;
  hpt::test::TempDir dir;
  const fs::path old_log = dir.path() / "a" / "study_trials" / "quad" / "3.log";
  const fs::path moved = dir.path() / "b" / "study_trials" / "quad" / "3.log";
  fs::create_directories(old_log.parent_path());
  std::ofstream(old_log) << "x\n";
  const std::vector<std::string> a = {(dir.path() / "a").string()};
  const std::vector<std::string> b = {(dir.path() / "b").string()};
  CHECK(hpt::reports::located_log(old_log.string(), a) == old_log.string());
  fs::create_directories(dir.path() / "b");
  fs::rename(dir.path() / "a" / "study_trials", dir.path() / "b" / "study_trials");
  CHECK(hpt::reports::located_log(old_log.string(), b) == moved.string());
  // A --trials-dir folder holding the study folders themselves.
  const std::vector<std::string> trials_dir = {(dir.path() / "b" / "study_trials").string()};
  CHECK(hpt::reports::located_log(old_log.string(), trials_dir) == moved.string());
  CHECK_FALSE(hpt::reports::located_log(old_log.string(), a));
  CHECK_FALSE(hpt::reports::located_log((dir.path() / "x" / "9.log").string(), b));
  // Copied, not moved: the copy in the trusted folder, not the original the row names.
  fs::create_directories(old_log.parent_path());
  std::ofstream(old_log) << "original\n";
  CHECK(hpt::reports::located_log(old_log.string(), b) == moved.string());
  CHECK(hpt::reports::located_log(old_log.string(), a) == old_log.string());
  const std::vector<std::string> elsewhere = {(dir.path() / "c").string()};
  CHECK(hpt::reports::located_log(old_log.string(), elsewhere) == old_log.string());
}

// With a server's trusted folders, a model view is read only from inside them, wherever the
// database row points (the dashboard's study page read any folder's model_view.json).
TEST_CASE("load_trial_model_view keeps to trusted folders", "[model_view]") {
  namespace fs = std::filesystem;
  hpt::test::TempDir dir;
  const fs::path log = dir.path() / "outside" / "3.log";
  write_view(dir.path() / "outside" / "3" / "model_view.json");
  std::ofstream(log) << "x\n";
  hpt::FrozenTrial t;
  t.number = 3;
  t.system_attrs["hpt:log"] = log.string();
  CHECK(hpt::reports::load_trial_model_view(t));  // The recorded path.
  const std::vector<std::string> trusted = {(dir.path() / "study").string()};
  fs::create_directories(trusted[0]);
  CHECK_FALSE(hpt::reports::load_trial_model_view(t, {trusted, true}));
  CHECK(hpt::reports::load_trial_model_view(t, {trusted, false}));  // hpt report
  const std::vector<std::string> outside = {(dir.path() / "outside").string()};
  CHECK(hpt::reports::load_trial_model_view(t, {outside, true}));
}

// hpt report finds the best trial's model view in a study folder moved with its database,
// as the dashboard does (it read only the recorded path).
TEST_CASE("load_trial_model_view follows a moved study folder", "[model_view]") {
  namespace fs = std::filesystem;
  hpt::test::TempDir dir;
  const fs::path old_log = dir.path() / "a" / "s_trials" / "s" / "2.log";
  hpt::FrozenTrial t;
  t.number = 2;
  t.system_attrs["hpt:log"] = old_log.string();
  const fs::path moved = dir.path() / "b" / "s_trials" / "s";
  write_view(moved / "2" / "model_view.json");  // A quiet worker: no 2.log.
  CHECK_FALSE(hpt::reports::load_trial_model_view(t));
  const auto db_folder = hpt::reports::log_folders((dir.path() / "b" / "s.db").string(), {});
  CHECK(hpt::reports::load_trial_model_view(t, {db_folder, false}));
  CHECK(hpt::reports::load_trial_model_view(t, {db_folder, true}));
  std::ofstream(moved / "2.log") << "x\n";
  CHECK(hpt::reports::located_log(old_log.string(), db_folder) == (moved / "2.log").string());
}

// The trusted folders: an SQLite database's own folder (absolute), ./hpt_trials for a server
// URL, and those named with --trials-dir.
TEST_CASE("log_folders", "[model_view]") {
  const std::string cwd = std::filesystem::current_path().string();
  CHECK(hpt::reports::log_folders("/data/runs/study.db", {}) ==
        std::vector<std::string>{"/data/runs"});
  CHECK(hpt::reports::log_folders("sqlite:///rel/s.db", {}) ==
        std::vector<std::string>{cwd + "/rel"});
  CHECK(hpt::reports::log_folders("s.db", {"/logs"}) ==
        std::vector<std::string>{cwd + "/.", "/logs"});
  CHECK(hpt::reports::log_folders("postgresql://u@h/db", {}) ==
        std::vector<std::string>{cwd + "/hpt_trials"});
}

// The best trial's saved model: the folder beside its log (followed when the study folder
// moved with its database), only when it holds a regular model.json.
TEST_CASE("trial_model_dir", "[model_view]") {
  namespace fs = std::filesystem;
  hpt::test::TempDir dir;
  hpt::FrozenTrial t;
  t.number = 7;
  CHECK_FALSE(hpt::reports::trial_model_dir(t, {}));
  const fs::path model = dir.path() / "a" / "s_trials" / "s" / "7";
  t.system_attrs["hpt:log"] = (model.string() + ".log");
  fs::create_directories(model);
  CHECK_FALSE(hpt::reports::trial_model_dir(t, {}));  // No model saved (pruned, another worker).
  fs::create_directories(model / "model.json");
  CHECK_FALSE(hpt::reports::trial_model_dir(t, {}));  // Not a file.
  fs::remove(model / "model.json");
  std::ofstream(model / "model.json") << "{}";
  CHECK(hpt::reports::trial_model_dir(t, {}) == model.string());
  // The study folder moved with its database: found beside the database.
  fs::create_directories(dir.path() / "b");
  fs::rename(dir.path() / "a" / "s_trials", dir.path() / "b" / "s_trials");
  CHECK_FALSE(hpt::reports::trial_model_dir(t, {}));
  const auto folders = hpt::reports::log_folders((dir.path() / "b" / "s.db").string(), {});
  CHECK(hpt::reports::trial_model_dir(t, folders) == (dir.path() / "b" / "s_trials" / "s" / "7").string());
  const std::string moved = (dir.path() / "b" / "s_trials" / "s" / "7").string();
  CHECK(hpt::reports::trial_model_text(t, folders) ==
        moved + " (hpt match --model " + moved + " IMAGE1 IMAGE2)");
  // A log path that is not this trial's own name leads nowhere.
  t.system_attrs["hpt:log"] = (dir.path() / "b" / "s_trials" / "s" / "anything.log").string();
  CHECK_FALSE(hpt::reports::trial_model_dir(t, folders));
  CHECK_FALSE(hpt::reports::trial_model_text(t, folders));
}
