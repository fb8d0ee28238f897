#include <SQLiteCpp/Database.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dashboard_fixtures.hpp"
#include "hpt/dashboard/dashboard.hpp"

namespace {

using hpt::Json;
using hpt::dashboard::Dashboard;

Json get_json(Dashboard& d, const std::string& path, std::map<std::string, std::string> q = {},
              int status = 200) {
  const auto r = d.get(path, q);
  INFO(path << ": " << r.body);
  REQUIRE(r.status == status);
  REQUIRE(r.content_type == "application/json");
  return Json::parse(r.body);
}

std::unique_ptr<Dashboard> open_dashboard(const hpt::test::StudyDb& db,
                                          const std::string& only = "") {
  auto d = std::make_unique<Dashboard>(hpt::open_storage(db.path(), true), only,
                                       std::vector<std::string>{db.dir.path().string()});
  d->set_intervals(std::chrono::milliseconds(0), std::chrono::milliseconds(0));
  return d;
}

// Waits (bounded) until the plots of study id are rendered and returns them.
Json rendered_plots(Dashboard& d, int64_t id, const std::string& have = "") {
  for (int i = 0; i < 300; ++i) {
    Json p = get_json(d, "/api/studies/" + std::to_string(id) + "/plots", {{"have", have}});
    if (!p["pending"].get<bool>()) {
      return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("plots never rendered");
  return {};
}

// What the page does: lists the study's trials (so the dashboard notices a change), then asks
// for its plots until a drawing other than version have ("" for none yet) comes back.
Json plots_after_listing(Dashboard& d, int64_t id, const std::string& have = "") {
  get_json(d, "/api/studies/" + std::to_string(id) + "/trials");
  Json p = rendered_plots(d, id, have);
  for (int i = 0; i < 300 && !p.contains("html"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    p = rendered_plots(d, id, have);
  }
  REQUIRE(p.contains("html"));
  return p;
}

}  // namespace

// The studies list names both studies with counts by state and the best value.
TEST_CASE("studies list", "[dashboard]") {
  hpt::test::StudyDb db(20);
  auto d = open_dashboard(db);
  const Json j = get_json(*d, "/api/studies");
  REQUIRE(j["studies"].size() == 2);
  CHECK(j["studies"][0]["name"] == "alpha");
  CHECK(j["studies"][0]["n_trials"] == 20);
  CHECK(j["studies"][0]["best"].is_object());
  CHECK(j["studies"][1]["name"] == "beta");
  CHECK(j["studies"][1]["direction"] == "MAXIMIZE");
  // --study limits the dashboard to one study; an unknown name is refused with the choices.
  auto only = open_dashboard(db, "beta");
  CHECK(get_json(*only, "/api/studies")["studies"].size() == 1);
  get_json(*only, "/api/studies/" + std::to_string(db.alpha), {}, 404);
  CHECK_THROWS_WITH(Dashboard(hpt::open_storage(db.path(), true), "gamma"),
                    Catch::Contains("alpha"));
}

// Past k_studies_synced_one_by_one studies the list comes from one pass over every trial: the
// same summaries as each study's own snapshot gives, and a change shows at the next poll.
TEST_CASE("studies list of many studies", "[dashboard]") {
  hpt::test::StudyDb db(20);
  auto d = open_dashboard(db);
  const Json few = get_json(*d, "/api/studies");
  for (size_t i = 0; i < Dashboard::k_studies_synced_one_by_one; ++i) {
    db.writer->create_study("s" + std::to_string(i), hpt::Direction::Minimize);
  }
  const Json many = get_json(*d, "/api/studies");
  REQUIRE(many["studies"].size() == Dashboard::k_studies_synced_one_by_one + 2);
  CHECK(many["studies"][0] == few["studies"][0]);  // alpha: counts, states, best, times.
  CHECK(many["studies"][1] == few["studies"][1]);
  CHECK(many["studies"][2]["n_trials"] == 0);
  CHECK(many["studies"][2]["best"].is_null());
  db.claim();
  const Json after = get_json(*d, "/api/studies");
  CHECK(after["studies"][0]["n_trials"] == 21);
  CHECK(after["studies"][0]["states"]["RUNNING"] ==
        many["studies"][0]["states"]["RUNNING"].get<int>() + 1);
}

// A study deleted between the list of studies and its sync is left out of the answer; the
// answer failed with 503 ("no study with id 2", 21 polls in 3,000 while another process made
// and deleted studies).
TEST_CASE("a study deleted while the list is read is left out", "[dashboard]") {
  hpt::test::StudyDb db(3);
  hpt::dashboard::Dashboard d(hpt::open_storage(db.path(), true), "", {});
  d.set_intervals(std::chrono::milliseconds(0), std::chrono::milliseconds(0));
  std::atomic<bool> stop{false};
  auto writer = hpt::open_storage(db.path());
  std::thread churn([&] {
    for (int i = 0; !stop; ++i) {
      writer->delete_study(writer->create_study("x" + std::to_string(i), hpt::Direction::Minimize));
    }
  });
  int failed = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto r = d.get("/api/studies", {});
    failed += r.status != 200 ? 1 : 0;
    if (r.status != 200) {
      WARN(r.body);
    }
  }
  stop = true;
  churn.join();
  CHECK(failed == 0);
}

// A poll with the cursor returns only what changed since, and a stale cursor returns all.
TEST_CASE("incremental trials", "[dashboard]") {
  hpt::test::StudyDb db(20);
  auto d = open_dashboard(db);
  const std::string path = "/api/studies/" + std::to_string(db.alpha) + "/trials";
  Json first = get_json(*d, path);
  CHECK(first["full"] == true);
  CHECK(first["trials"].size() == 20);
  CHECK(first["study"]["n_trials"] == 20);
  const std::string cursor = first["cursor"];
  Json none = get_json(*d, path, {{"since", cursor}});
  CHECK(none["full"] == false);
  CHECK(none["trials"].empty());
  CHECK(none["cursor"] == cursor);

  const auto running = db.claim();
  db.writer->set_trial_intermediate_value(running.id, 0, 0.25);
  Json added = get_json(*d, path, {{"since", cursor}});
  REQUIRE(added["trials"].size() == 1);
  CHECK(added["trials"][0]["number"] == 20);
  CHECK(added["trials"][0]["state"] == "RUNNING");
  CHECK(added["study"]["states"]["RUNNING"] == 1);

  db.writer->set_trial_state_values(running.id, hpt::TrialState::Complete, -1e9);
  Json done = get_json(*d, path, {{"since", added["cursor"]}});
  REQUIRE(done["trials"].size() == 1);
  CHECK(done["trials"][0]["state"] == "COMPLETE");
  CHECK(done["study"]["best"]["number"] == 20);
  CHECK(done["study"]["best"]["value"] == -1e9);

  for (const std::string& stale : std::vector<std::string>{"", "1-2", "garbage", cursor + "9"}) {
    Json all = get_json(*d, path, {{"since", stale}});
    CHECK(all["full"] == true);
    CHECK(all["trials"].size() == 21);
  }
}

// A study deleted and its id reused by a new study (SQLite hands out max(id) + 1 again): the
// dashboard shows the new study's name and direction, and an old cursor reads as none.
TEST_CASE("a study id reused after a deletion is a new study", "[dashboard]") {
  hpt::test::StudyDb db(4);
  auto d = open_dashboard(db);
  const Json listed = get_json(*d, "/api/studies");
  REQUIRE(listed["studies"][1]["name"] == "beta");
  const int64_t beta = listed["studies"][1]["id"];
  const std::string path = "/api/studies/" + std::to_string(beta);
  const std::string cursor = get_json(*d, path + "/trials")["cursor"];
  rendered_plots(*d, beta);
  {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    for (const char* table :
         {"study_directions", "study_user_attributes", "study_system_attributes", "studies"}) {
      raw.exec(std::string("DELETE FROM ") + table + " WHERE study_id = " + std::to_string(beta));
    }
  }
  get_json(*d, path, {}, 404);
  REQUIRE(db.writer->create_study("gamma", hpt::Direction::Minimize) == beta);
  db.writer->create_trial(beta, hpt::test::mixed_study(1)[0]);
  const Json summary = get_json(*d, path);
  CHECK(summary["name"] == "gamma");
  CHECK(summary["direction"] == "MINIMIZE");
  const Json trials = get_json(*d, path + "/trials", {{"since", cursor}});
  CHECK(trials["full"] == true);
  CHECK(trials["trials"].size() == 1);
  CHECK(trials["cursor"] != cursor);
  CHECK(get_json(*d, "/api/studies")["studies"][1]["name"] == "gamma");
  CHECK(rendered_plots(*d, beta)["html"].get<std::string>().find("gamma") != std::string::npos);
}

// A study deleted and made again with its name and direction between two polls (hpt
// delete-study, then the same config run again): its fewer trials start a new watch, so a page
// gets a full answer (and drops the old rows) instead of an update on top of the old trials.
TEST_CASE("a study deleted and made again between polls is new", "[dashboard]") {
  hpt::test::StudyDb db(1);
  const int64_t beta = db.writer->find_study("beta")->id;
  for (const auto& t : hpt::test::mixed_study(4)) {
    db.writer->create_trial(beta, t);
  }
  auto d = open_dashboard(db);
  const Json listed = get_json(*d, "/api/studies");
  const std::string path = "/api/studies/" + std::to_string(beta) + "/trials";
  const Json before = get_json(*d, path);
  REQUIRE(before["trials"].size() == 4);
  const std::string cursor = before["cursor"];
  const std::string name = listed["studies"][1]["name"];
  const auto info = db.writer->find_study(name);
  REQUIRE(info);
  db.writer->delete_study(beta);
  REQUIRE(db.writer->create_study(name, info->directions) == beta);  // The id handed out again.
  db.writer->create_trial(beta, hpt::test::mixed_study(1)[0]);
  const Json after = get_json(*d, path, {{"since", cursor}});
  CHECK(after["full"] == true);
  CHECK(after["trials"].size() == 1);
  CHECK(after["cursor"] != cursor);
  CHECK(after["study"]["n_trials"] == 1);
  const Json next = get_json(*d, path, {{"since", after["cursor"]}});
  CHECK(next["full"] == false);
  CHECK(next["trials"].empty());
  // Made again with more trials than before (their ids reused): told apart by its first
  // finished trial, not by the count.
  const Json grown_before = get_json(*d, path, {{"since", next["cursor"]}});
  db.writer->delete_study(beta);
  REQUIRE(db.writer->create_study(name, info->directions) == beta);
  auto again = hpt::test::mixed_study(3);
  for (auto& t : again) {
    t.datetime_start = hpt::Clock::now() + std::chrono::hours(1);
    t.user_attrs["round"] = 2;
    db.writer->create_trial(beta, t);
  }
  const Json grown = get_json(*d, path, {{"since", grown_before["cursor"]}});
  CHECK(grown["full"] == true);
  REQUIRE(grown["trials"].size() == 3);
  // The storage's cache reads the new trials whole, not its copies of the old ones.
  const Json one = get_json(*d, path + "/0");
  CHECK(one["user_attrs"]["round"] == 2);
}

// A study deleted and made again over and over (a script that re-runs a study from scratch):
// each replaced watch, with its trials and plots, is freed once nothing uses it, so the
// dashboard's memory does not grow with every round (it kept them all).
TEST_CASE("replaced watches are freed", "[dashboard]") {
  hpt::test::StudyDb db(1);
  const int64_t beta = db.writer->find_study("beta")->id;
  const std::string name = db.writer->find_study("beta")->name;
  const auto directions = db.writer->find_study("beta")->directions;
  auto d = open_dashboard(db);
  const std::string path = "/api/studies/" + std::to_string(beta);
  for (int round = 0; round < 6; ++round) {
    for (const auto& t : hpt::test::mixed_study(3 - round % 2)) {
      db.writer->create_trial(beta, t);
    }
    CHECK(get_json(*d, path + "/trials")["trials"].size() == static_cast<size_t>(3 - round % 2));
    rendered_plots(*d, beta);  // Its drawing done: nothing but the dashboard holds it.
    db.writer->delete_study(beta);
    REQUIRE(db.writer->create_study(name, directions) == beta);
  }
  CHECK(get_json(*d, path + "/trials")["trials"].empty());
  CHECK(d->retired_watches() <= 2);
}

// Many full answers of a large study asked at once (a dozen browser tabs, a script's threads):
// built a few at a time, every one whole (60 at once of 20,000 trials took 1.3 GB).
TEST_CASE("large answers are built a few at a time", "[dashboard]") {
  hpt::test::StudyDb db(1);
  const int64_t beta = db.writer->find_study("beta")->id;
  for (const auto& t : hpt::test::mixed_study(static_cast<int>(Dashboard::k_heavy_rows) + 200)) {
    db.writer->create_trial(beta, t);
  }
  auto d = open_dashboard(db);
  const std::string path = "/api/studies/" + std::to_string(beta) + "/trials";
  REQUIRE(get_json(*d, path)["trials"].size() == Dashboard::k_heavy_rows + 200);
  std::vector<std::thread> clients;
  std::atomic<int> whole{0};
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&] {  // No Catch2 macro here: they are not thread-safe (TSan).
      const auto r = d->get(path, {});
      if (r.status == 200 &&
          Json::parse(r.body)["trials"].size() == Dashboard::k_heavy_rows + 200) {
        ++whole;
      }
    });
  }
  for (auto& c : clients) {
    c.join();
  }
  CHECK(whole == 12);
  CHECK(d->most_heavy_answers_at_once() >= 1);
  CHECK(d->most_heavy_answers_at_once() <= Dashboard::k_heavy_answers_at_once);
}

// The database file replaced (moved over, or written back by hpt after `rm`) or deleted while
// served: every API request says so (503) and the console hears it once; the page still loads.
TEST_CASE("the dashboard says when its database file moved", "[dashboard]") {
  for (const bool replace : {true, false}) {
    hpt::test::StudyDb db(4);
    auto d = open_dashboard(db);
    std::vector<std::string> notes;
    d->on_file_moved([&](const std::string& note) { notes.push_back(note); });
    REQUIRE(get_json(*d, "/api/studies")["studies"].size() == 2);
    CHECK(notes.empty());
    if (replace) {
      const std::string other = (db.dir.path() / "other.db").string();
      hpt::open_storage(other)->create_study("gamma", hpt::Direction::Minimize);
      std::filesystem::rename(other, db.path());
    } else {
      std::filesystem::remove(db.path());
    }
    for (const char* path : {"/api/studies", "/api/studies/1", "/api/studies/1/trials",
                             "//api/studies/1", "/api//studies"}) {
      CHECK_THAT(get_json(*d, path, {}, 503)["error"].get<std::string>(),
                 Catch::StartsWith("the database file was deleted, moved or replaced after the "
                                   "dashboard opened it: restart hpt dashboard"));
    }
    CHECK(notes.size() == 1);
    CHECK(d->get("/", {}).status == 200);
  }
}

// The trial page's data: params, steps, fail reason, the learning curve, the log tail and the
// model view (both read only from trusted folders).
TEST_CASE("one trial", "[dashboard]") {
  hpt::test::StudyDb db(12);
  const auto running = db.claim();
  const std::string log = (db.dir.path() / "12.log").string();
  std::ofstream(log) << "epoch 1\nepoch 2\n";
  std::filesystem::create_directories(db.dir.path() / "12");  // The trial's model view.
  std::ofstream(db.dir.path() / "12" / "model_view.json")
      << R"({"format": "hpt-model-view", "class_names": ["a"], "points": [[0, 0, 0, -1]]})";
  db.writer->set_trial_system_attr(running.id, "hpt:log", log);
  db.writer->set_trial_intermediate_value(running.id, 0, 0.5);
  db.writer->set_trial_intermediate_value(running.id, 1, 0.4);
  db.writer->set_trial_user_attr(
      running.id, "roc_curve",
      Json::parse(R"({"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auc": 0.9})"));
  db.writer->set_trial_user_attr(running.id, "confusion_matrix", Json::parse("[[9, 1], [2, 8]]"));
  db.writer->set_trial_system_attr(running.id, "fail_reason", "worker exited with status 1");
  db.writer->set_trial_state_values(running.id, hpt::TrialState::Fail, std::nullopt);
  auto d = open_dashboard(db);
  const std::string base = "/api/studies/" + std::to_string(db.alpha) + "/trials/";
  const Json t = get_json(*d, base + "12");
  CHECK(t["state"] == "FAIL");
  CHECK(t["fail_reason"] == "worker exited with status 1");
  CHECK(t["intermediate_values"] == Json::parse("[[0, 0.5], [1, 0.4]]"));
  CHECK(t["log_tail"] == "epoch 1\nepoch 2\n");
  Dashboard blind(hpt::open_storage(db.path(), true), "", {});  // Trusts no folder.
  CHECK(get_json(blind, base + "12")["log_tail"].is_null());
  CHECK(get_json(blind, base + "12")["log_path"] == log);
  CHECK(get_json(blind, base + "12")["model_html"] == "");  // Same rule for the model view.
  CHECK(t["plots_html"].get<std::string>().find("<polyline") != std::string::npos);
  CHECK(t["metrics_html"].get<std::string>().find("ROC curve (AUC 0.9)") != std::string::npos);
  CHECK(t["metrics_html"].get<std::string>().find("Confusion matrix") != std::string::npos);
  CHECK(t["model_html"].get<std::string>().find("<section id=\"model\">") != std::string::npos);
  CHECK(get_json(*d, base + "0")["metrics_html"] == "");
  CHECK(get_json(*d, base + "0")["model_html"] == "");
  get_json(*d, base + "99", {}, 404);
  get_json(*d, base + "-1", {}, 404);
  get_json(*d, base + "99999999999999999999", {}, 404);
}

// Plots are rendered in the background, tagged with trial numbers, and re-rendered on change.
TEST_CASE("plots follow the study", "[dashboard]") {
  hpt::test::StudyDb db(20);
  auto d = open_dashboard(db);
  Json p = plots_after_listing(*d, db.alpha);
  const std::string html = p["html"];
  CHECK(html.find("<section id=\"history\">") != std::string::npos);
  CHECK(html.find("data-t=\"") != std::string::npos);
  const auto revision = std::to_string(p["version"].get<uint64_t>());
  // The client already has this drawing: no html is sent again.
  CHECK_FALSE(rendered_plots(*d, db.alpha, revision).contains("html"));
  const auto running = db.claim();
  db.writer->set_trial_state_values(running.id, hpt::TrialState::Complete, 0.0);
  const Json later = plots_after_listing(*d, db.alpha, revision);
  CHECK(later["revision"].get<uint64_t>() > p["revision"].get<uint64_t>());
}

// A page opening gets plots drawn without the importances first, then with them; refreshes
// reuse the cached importances until the set of COMPLETE trials changes.
TEST_CASE("importances are drawn after the first paint and cached", "[dashboard]") {
  hpt::test::StudyDb db(20);
  auto d = open_dashboard(db);
  Json p = plots_after_listing(*d, db.alpha);
  // Two drawings: the first paint (no importances), then the one with them.
  CHECK(p["version"] == 2);
  CHECK(d->importance_computations() == 1);
  const std::string html = p["html"];
  CHECK(html.find("fANOVA, ") != std::string::npos);
  CHECK(html.find("Computing the fANOVA importances") == std::string::npos);
  auto redraw = [&](const Json& before) {
    return plots_after_listing(*d, db.alpha, std::to_string(before["version"].get<uint64_t>()));
  };
  // A new RUNNING trial: the plots are redrawn, the importances are not recomputed.
  const auto running = db.claim();
  p = redraw(p);
  CHECK(d->importance_computations() == 1);
  CHECK(p["html"].get<std::string>().find("fANOVA, ") != std::string::npos);
  // It completes: the importances are computed again for the new set of COMPLETE trials.
  db.writer->set_trial_state_values(running.id, hpt::TrialState::Complete, 0.0);
  redraw(p);
  CHECK(d->importance_computations() == 2);
}

// Pages are one HTML document with inline code; unknown paths are 404; the file is unchanged.
TEST_CASE("pages, errors and read-only", "[dashboard]") {
  hpt::test::StudyDb db(5);
  db.writer.reset();
  struct stat before {};
  REQUIRE(::stat(db.path().c_str(), &before) == 0);
  auto d = open_dashboard(db);
  for (const std::string path : {"/", "/studies/1", "/studies/1/trials/3"}) {
    const auto r = d->get(path, {});
    CHECK(r.status == 200);
    CHECK(r.content_type.rfind("text/html", 0) == 0);
    CHECK(r.body.find("window.HptReport") != std::string::npos);
    CHECK(r.body.find("src=\"http") == std::string::npos);
  }
  for (const std::string path : {"/nope", "/api", "/api/studies/x", "/api/studies/1/nope",
                                 "/studies/x", "/api/studies/99"}) {
    CHECK(d->get(path, {}).status == 404);
  }
  get_json(*d, "/api/studies");
  get_json(*d, "/api/studies/1/trials");
  get_json(*d, "/api/studies/1/trials/2");
  d.reset();
  struct stat after {};
  REQUIRE(::stat(db.path().c_str(), &after) == 0);
  CHECK(after.st_size == before.st_size);
  CHECK(after.st_mtime == before.st_mtime);
}

// A multi-objective study: its summary lists both directions and no best value, its rows carry
// every value, and its plots (once the importances are in) are the report's multi-objective
// sections: the Pareto front and one importance chart per objective.
TEST_CASE("multi-objective study", "[dashboard]") {
  hpt::test::StudyDb db(0);
  const int64_t mo =
      db.writer->create_study("mo", {hpt::Direction::Minimize, hpt::Direction::Maximize});
  for (const auto& t : hpt::test::mo_study(30)) {
    db.writer->create_trial(mo, t);
  }
  auto d = open_dashboard(db);
  const std::string base = "/api/studies/" + std::to_string(mo);
  const Json summary = get_json(*d, base);
  CHECK(summary["directions"] == Json::array({"MINIMIZE", "MAXIMIZE"}));
  CHECK(summary["best"].is_null());
  const Json rows = get_json(*d, base + "/trials");
  REQUIRE(rows["trials"].size() == 30);
  CHECK(rows["trials"][0]["values"].size() == 2);
  const Json plots = rendered_plots(*d, mo);
  const std::string html = plots["html"].get<std::string>();
  CHECK(html.find("<section id=\"pareto\" data-front=\"") != std::string::npos);
  CHECK(html.find("Importance for objective 0 (minimize)") != std::string::npos);
  CHECK(html.find("Importance for objective 1 (maximize)") != std::string::npos);
}

// A crawler asking for every study of a database with many: at most k_watches are watched at
// once (the least recently asked for retires), and one asked for again is served afresh (210
// studies kept 214 MB for good). Their first drawings run at most k_drawings_at_once at a time
// (60 first pages at once started 86 threads), and each study's plots still come.
TEST_CASE("watches and drawings are capped", "[dashboard]") {
  hpt::test::StudyDb db(1);
  std::vector<int64_t> ids;
  for (size_t i = 0; i < Dashboard::k_watches + 6; ++i) {
    const int64_t id = db.writer->create_study("s" + std::to_string(i), hpt::Direction::Minimize);
    for (const auto& t : hpt::test::mixed_study(4)) {
      db.writer->create_trial(id, t);
    }
    ids.push_back(id);
  }
  auto d = open_dashboard(db);
  for (const int64_t id : ids) {
    CHECK(get_json(*d, "/api/studies/" + std::to_string(id) + "/trials")["trials"].size() == 4);
    CHECK(d->watched_studies() <= Dashboard::k_watches);
  }
  CHECK(d->watched_studies() == Dashboard::k_watches);
  CHECK(get_json(*d, "/api/studies/" + std::to_string(ids[0]) + "/trials")["trials"].size() == 4);
  std::vector<std::thread> pages;
  for (size_t i = 0; i < 8; ++i) {
    pages.emplace_back([&, i] { d->get("/api/studies/" + std::to_string(ids[i]) + "/plots", {}); });
  }
  for (auto& p : pages) {
    p.join();
  }
  for (size_t i = 0; i < 8; ++i) {
    CHECK(rendered_plots(*d, ids[i]).contains("html"));
  }
  CHECK(d->most_drawings_at_once() >= 1);
  CHECK(d->most_drawings_at_once() <= Dashboard::k_drawings_at_once);
  // A study not asked for in the idle time retires once another is asked for.
  d->set_intervals(std::chrono::milliseconds(0), std::chrono::milliseconds(0),
                   std::chrono::milliseconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(get_json(*d, "/api/studies/" + std::to_string(ids[1]) + "/trials")["trials"].size() == 4);
  CHECK(d->watched_studies() == 1);
}
