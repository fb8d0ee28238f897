#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>

#include "../reports/study_fixtures.hpp"
#include "hpt/dashboard/api.hpp"
#include "support/temp_dir.hpp"

using hpt::Json;

// Times are ISO 8601 UTC with milliseconds.
TEST_CASE("iso_time", "[api]") {
  CHECK(hpt::dashboard::iso_time(hpt::Clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  CHECK(hpt::dashboard::iso_time(hpt::Clock::time_point{
            std::chrono::milliseconds(1714564800250)}) == "2024-05-01T12:00:00.250Z");
}

// The summary counts every state, finds the best finite value and the last activity.
TEST_CASE("study summary", "[api]") {
  auto trials = hpt::test::mixed_study(30);
  trials[0].value = std::numeric_limits<double>::quiet_NaN();
  trials[0].datetime_complete = hpt::Clock::time_point{std::chrono::hours(24 * 365 * 60)};
  const Json s = hpt::dashboard::study_summary_json(hpt::test::study_info(7, "q"), trials);
  CHECK(s["id"] == 7);
  CHECK(s["n_trials"] == 30);
  int sum = 0;
  for (const auto& [state, n] : s["states"].items()) {
    sum += n.get<int>();
  }
  CHECK(sum == 30);
  CHECK(s["states"].size() == 5);
  REQUIRE(s["best"].is_object());
  CHECK(s["best"]["value"].is_number());
  CHECK(s["last_activity"].get<std::string>().rfind("2029-", 0) == 0);
  const Json empty = hpt::dashboard::study_summary_json(
      hpt::test::study_info(1, "e", hpt::Direction::Maximize), {});
  CHECK(empty["best"].is_null());
  CHECK(empty["last_activity"].is_null());
  // A best value of -inf is said as such (it was null: "best value: (trial #3)").
  auto complete = std::find_if(trials.begin(), trials.end(), [](const hpt::FrozenTrial& t) {
    return t.state == hpt::TrialState::Complete;
  });
  REQUIRE(complete != trials.end());
  complete->value = -std::numeric_limits<double>::infinity();
  const Json inf = hpt::dashboard::study_summary_json(hpt::test::study_info(7, "q"), trials);
  CHECK(inf["best"]["value"] == "-Infinity");
  CHECK(inf["best"]["number"] == complete->number);
}

// NaN and infinities become the strings JavaScript's Number() reads; the detail has steps,
// attrs and the fail reason.
TEST_CASE("trial detail", "[api]") {
  auto t = hpt::test::mixed_study(3)[1];
  t.intermediate_values = {{0, 1.0}, {1, std::numeric_limits<double>::infinity()}};
  t.system_attrs["fail_reason"] = "boom";
  t.user_attrs["bad"] = std::string("a\xff");
  const Json j = hpt::dashboard::trial_detail_json(t);
  CHECK(j["intermediate_values"] == Json::parse("[[0, 1.0], [1, \"Infinity\"]]"));
  CHECK(j["fail_reason"] == "boom");
  CHECK(j["params"].size() == t.params.size());
  CHECK(j["distributions"].size() == t.params.size());
  CHECK_NOTHROW(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// Only a regular *.log file is read, and only its tail, starting at a line.
TEST_CASE("read_log_tail", "[api]") {
  hpt::test::TempDir dir;
  const std::string log = (dir.path() / "3.log").string();
  const std::vector<std::string> folders = {dir.path().string()};
  {
    std::ofstream out(log);
    for (int i = 0; i < 1000; ++i) {
      out << "line " << i << "\n";
    }
  }
  const auto tail = hpt::dashboard::read_log_tail(log, folders, 100);
  REQUIRE(tail);
  CHECK(tail->size() <= 100);
  CHECK(tail->rfind("line ", 0) == 0);
  CHECK(tail->find("line 999\n") != std::string::npos);
  CHECK(hpt::dashboard::read_log_tail(log, folders)->find("line 0\n") == 0);
  const std::string other = (dir.path() / "secret.txt").string();
  std::ofstream(other) << "secret";
  CHECK_FALSE(hpt::dashboard::read_log_tail(other, folders));
  const std::string link = (dir.path() / "link.log").string();
  REQUIRE(::symlink(other.c_str(), link.c_str()) == 0);
  CHECK_FALSE(hpt::dashboard::read_log_tail(link, folders));
  CHECK_FALSE(hpt::dashboard::read_log_tail((dir.path() / "missing.log").string(), folders));
  std::filesystem::create_directory(dir.path() / "d.log");
  CHECK_FALSE(hpt::dashboard::read_log_tail((dir.path() / "d.log").string(), folders));
}

// A log is served only from the folders the dashboard was given, whatever path a database row
// names: not beside them, not through "..", not through a linked folder that leads out.
TEST_CASE("read_log_tail stays inside its folders", "[api]") {
  hpt::test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "study" / "s");
  std::filesystem::create_directories(dir.path() / "elsewhere");
  const auto in = dir.path() / "study" / "s" / "1.log";
  const auto out = dir.path() / "elsewhere" / "1.log";
  std::ofstream(in) << "mine\n";
  std::ofstream(out) << "secret\n";
  const std::vector<std::string> folders = {(dir.path() / "study").string()};
  CHECK(hpt::dashboard::read_log_tail(in.string(), folders) == "mine\n");
  CHECK_FALSE(hpt::dashboard::read_log_tail(out.string(), folders));
  CHECK_FALSE(hpt::dashboard::read_log_tail((dir.path() / "study/s/../../elsewhere/1.log").string(),
                                            folders));
  std::filesystem::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "study" / "l");
  CHECK_FALSE(hpt::dashboard::read_log_tail((dir.path() / "study/l/1.log").string(), folders));
  CHECK_FALSE(hpt::dashboard::read_log_tail(in.string(), {}));
  CHECK_FALSE(hpt::dashboard::read_log_tail("/var/log/dpkg.log", folders));
}
