#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hpt/reports/report.hpp"
#include "source_paths.hpp"
#include "study_fixtures.hpp"

namespace {

hpt::test::MemoryStorage two_studies() {
  hpt::test::MemoryStorage s;
  const auto a = s.create_study("alpha", hpt::Direction::Minimize);
  s.create_study("beta", hpt::Direction::Maximize);
  for (const auto& t : hpt::test::mixed_study(40)) {
    s.create_trial(a, t);
  }
  return s;
}

}  // namespace

// The report file appears whole at out_path and no temporary file is left behind.
TEST_CASE("write_report writes the file atomically", "[report]") {
  auto s = two_studies();
  const std::string path = std::string(HPT_BINARY_DIR) + "/test_report_alpha.html";
  std::remove(path.c_str());
  hpt::reports::write_report(s, "alpha", path);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("Study report: alpha") != std::string::npos);
  CHECK(ss.str().find("</html>") != std::string::npos);
  CHECK_FALSE(std::ifstream(path + ".tmp").good());
  CHECK_THROWS_WITH(hpt::reports::write_report(s, "nope", path), Catch::Contains("alpha"));
  CHECK_THROWS(hpt::reports::write_report(s, "alpha", "/nonexistent-dir/x.html"));
}

// JSON output parses and sums to 1; the table lists the top param first; bad args throw.
TEST_CASE("importance_text", "[report]") {
  auto s = two_studies();
  const auto j = hpt::Json::parse(hpt::reports::importance_text(s, "alpha", "value", "json"));
  double sum = 0;
  for (auto& [k, v] : j.items()) {
    sum += v.get<double>();
  }
  CHECK(sum == Approx(1.0));
  CHECK(j.size() == 4);
  const std::string table = hpt::reports::importance_text(s, "alpha", "duration", "table");
  CHECK(table.rfind("parameter", 0) == 0);
  CHECK(table.find("\nlayers ") != std::string::npos);
  CHECK(table.find("\nlayers ") < table.find("\nlr "));
  CHECK_THROWS(hpt::reports::importance_text(s, "alpha", "loss", "json"));
  CHECK_THROWS(hpt::reports::importance_text(s, "alpha", "value", "xml"));
  CHECK_THROWS_WITH(hpt::reports::importance_text(s, "beta", "value", "json"),
                    Catch::Contains("at least 2"));
  // A single-objective study has objective 0 only.
  CHECK(hpt::reports::importance_text(s, "alpha", "value", "json", 0) ==
        hpt::reports::importance_text(s, "alpha", "value", "json"));
  CHECK_THROWS_WITH(hpt::reports::importance_text(s, "alpha", "value", "json", 1),
                    "--objective 1: study 'alpha' has 1 objective (--objective 0)");
  // --target duration has no objective: --objective is not looked at.
  CHECK(hpt::reports::importance_text(s, "alpha", "duration", "json", 7) ==
        hpt::reports::importance_text(s, "alpha", "duration", "json"));
}

// The json lists the parameters ranked, as the table and Optuna's dict (a JSON object kept them
// in alphabetical order); its numbers are the table's.
TEST_CASE("importance_text json is ranked", "[report]") {
  auto s = two_studies();
  const std::string text = hpt::reports::importance_text(s, "alpha", "value", "json");
  const auto j = hpt::Json::parse(text);
  std::vector<std::pair<double, size_t>> ranked;  // (importance, position in the text)
  for (auto& [k, v] : j.items()) {
    ranked.emplace_back(v.get<double>(), text.find("\"" + k + "\":"));
  }
  std::sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.second < b.second; });
  REQUIRE(ranked.size() == 4);
  for (size_t i = 1; i < ranked.size(); ++i) {
    CHECK(ranked[i - 1].first >= ranked[i].first);
  }
  CHECK(text.rfind("{\n  \"", 0) == 0);
}

// Every shared parameter has one possible value: nothing to rank (Optuna returns {}), not a
// table of zeros that the README says sums to 1.
TEST_CASE("importance_text when nothing varies", "[report]") {
  hpt::test::MemoryStorage s;
  const auto id = s.create_study("c", hpt::Direction::Minimize);
  for (int i = 0; i < 5; ++i) {
    hpt::FrozenTrial t;
    t.number = i;
    t.state = hpt::TrialState::Complete;
    t.value = i;
    t.params = {{"x", 1.0}};
    t.distributions = {{"x", hpt::FloatDistribution{1.0, 1.0, false, std::nullopt}}};
    s.create_trial(id, t);
  }
  CHECK(hpt::reports::importance_text(s, "c", "value", "json") == "{}\n");
  CHECK(hpt::reports::importance_text(s, "c", "value", "table") ==
        "No parameter varies (each has one possible value): nothing to rank.\n");
}

// `hpt importance --objective N` of a multi-objective study: objective 0 by default, each
// objective's own importances (lr drives objective 0, layers objective 1), one-line errors
// naming --objective and the number of objectives for an index out of range.
TEST_CASE("importance_text of a multi-objective study", "[report]") {
  hpt::test::MemoryStorage s;
  const auto id = s.create_study("mo", {hpt::Direction::Minimize, hpt::Direction::Maximize});
  for (const auto& t : hpt::test::mo_study(50)) {
    s.create_trial(id, t);
  }
  auto top = [](const hpt::Json& j) {  // The most important param.
    std::string name;
    for (auto& [k, v] : j.items()) {
      name = name.empty() || v.get<double>() > j[name].get<double>() ? k : name;
    }
    return name;
  };
  const auto first = hpt::Json::parse(hpt::reports::importance_text(s, "mo", "value", "json"));
  CHECK(first == hpt::Json::parse(hpt::reports::importance_text(s, "mo", "value", "json", 0)));
  CHECK(top(first) == "lr");
  const auto second = hpt::Json::parse(hpt::reports::importance_text(s, "mo", "value", "json", 1));
  CHECK(top(second) == "layers");
  for (long long bad : {2LL, -1LL, 1LL << 40}) {
    CHECK_THROWS_WITH(hpt::reports::importance_text(s, "mo", "value", "json", bad),
                      "--objective " + std::to_string(bad) +
                          ": study 'mo' has 2 objectives (--objective 0 to 1)");
  }
  CHECK(hpt::reports::importance_text(s, "mo", "duration", "table").find("\nlayers ") !=
        std::string::npos);
  // The table says which objective it is for.
  CHECK_THAT(
      hpt::reports::importance_text(s, "mo", "value", "table", 1),
      Catch::StartsWith("objective 1 of 2 (MAXIMIZE; --objective N for another)\nparameter"));
  CHECK_THAT(hpt::reports::importance_text(s, "mo", "duration", "table"),
             Catch::StartsWith("parameter"));
}

// hpt importance of a study with a categorical of more than 64 choices: fitted on 1,000 trials
// evenly spaced, as the report's chart is, and the note goes to stderr, not into the table
// (the command ran for over an hour on 20,000 such trials; helper audit).
TEST_CASE("importance_text thins a study with a many-choice categorical", "[report]") {
  hpt::test::MemoryStorage s;
  const auto id = s.create_study("wide", hpt::Direction::Minimize);
  for (const auto& t : hpt::test::many_choice_study(1100)) {
    s.create_trial(id, t);
  }
  std::stringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const std::string json = hpt::reports::importance_text(s, "wide", "value", "json");
  std::cerr.rdbuf(old);
  CHECK(hpt::Json::parse(json).size() == 2);
  CHECK(err.str() ==
        "hpt: note: From 1000 of the 1100 COMPLETE trials, evenly spaced by number: pick has 65 "
        "choices, and fANOVA's time grows with the square of the trials for such a parameter.\n");
}
