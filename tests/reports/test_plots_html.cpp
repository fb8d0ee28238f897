#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/reports/info.hpp"
#include "hpt/reports/plots_html.hpp"
#include "study_fixtures.hpp"

namespace {

// True if text is valid UTF-8 (a strict JSON round trip accepts it).
bool valid_utf8(const std::string& text) {
  try {
    (void)hpt::Json(text).dump();
    return true;
  } catch (const hpt::Json::exception&) {
    return false;
  }
}

}  // namespace

// Plot marks carry trial numbers (not list positions), so a live page can match them.
TEST_CASE("plot marks are tagged with trial numbers", "[plots_html]") {
  auto trials = hpt::test::mixed_study(30);
  for (auto& t : trials) {
    t.number += 1000;
  }
  const std::string html =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials);
  const size_t at = html.find("data-t=\"");
  REQUIRE(at != std::string::npos);
  CHECK(html.compare(at + 8, 2, "10") == 0);
  for (const char* id : {"summary", "history", "importance", "contour", "slice", "parallel",
                         "intermediate", "edf", "timeline"}) {
    CHECK(html.find(std::string("<section id=\"") + id + "\">") != std::string::npos);
  }
}

// A trial without one of the plotted parameters passes below that axis at "(none)": its line
// no longer runs straight across the axis where it would read as a value.
TEST_CASE("parallel coordinates mark a parameter a trial lacks", "[plots_html]") {
  auto trials = hpt::test::mixed_study(30);
  const std::string html_all =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials);
  const auto parallel_of = [](const std::string& html) {
    const size_t at = html.find("<section id=\"parallel\">");
    REQUIRE(at != std::string::npos);
    return html.substr(at, html.find("</section>", at) - at);
  };
  const auto below = [](const std::string& text) {  // Points on the "(none)" row.
    size_t n = 0;
    for (size_t at = text.find(",356.0 "); at != std::string::npos;
         at = text.find(",356.0 ", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t before = below(parallel_of(html_all));
  size_t complete = 0;
  while (trials[complete].state != hpt::TrialState::Complete ||
         trials[complete].params.size() < 2) {
    ++complete;
  }
  const std::string dropped = trials[complete].params.begin()->first;
  trials[complete].params.erase(dropped);
  trials[complete].distributions.erase(dropped);
  const std::string parallel =
      parallel_of(hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials));
  CHECK(parallel.find("(none)") != std::string::npos);
  CHECK(below(parallel) == before + 1);
}

// Infeasible trials are grey marks, and the history and Pareto sections say what grey means.
TEST_CASE("constrained studies mark infeasible trials", "[plots_html][constraints]") {
  auto trials = hpt::test::mixed_study(30);
  for (size_t i = 0; i < trials.size(); i += 3) {
    trials[i].system_attrs["constraints"] = hpt::Json::array({1.0});
  }
  const std::string html =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials);
  CHECK(html.find("class=\"infeasible\"") != std::string::npos);
  CHECK(html.find("violate their constraints (grey): the best value (red line) counts only "
                  "feasible ones.") != std::string::npos);
  const std::string plain =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), hpt::test::mixed_study(30));
  CHECK(plain.find("infeasible") == std::string::npos);
}

// Without importances the sections come at once: importance sections say they are being
// computed, contour plots still show (pairs by the quick ranking); given importances are drawn.
TEST_CASE("plot sections with and without importances", "[plots_html]") {
  const auto trials = hpt::test::mixed_study(40);
  const auto study = hpt::test::study_info(1, "s");
  const std::string quick = hpt::reports::render_plot_sections(study, trials, nullptr);
  CHECK(quick.find("Computing the fANOVA importances") != std::string::npos);
  CHECK(quick.find("fANOVA, ") == std::string::npos);
  CHECK(quick.find("<section id=\"duration-importance\">") != std::string::npos);
  CHECK(quick.find("lr \u00d7 ") != std::string::npos);  // lr ranks first: in the first pair.
  const auto importances = hpt::reports::get_study_importances(trials);
  const std::string full = hpt::reports::render_plot_sections(study, trials, &importances);
  CHECK(full.find("Computing the fANOVA importances") == std::string::npos);
  CHECK(full.find("fANOVA, ") != std::string::npos);
  CHECK(full == hpt::reports::render_plot_sections(study, trials));
}

// Long multi-byte parameter names and choices make valid UTF-8 labels in every plot.
TEST_CASE("labels of long non-ASCII names stay valid UTF-8", "[plots_html]") {
  auto trials = hpt::test::mixed_study(40);
  const std::string name =
      "\u5b66\u7fd2\u7387\u5b66\u7fd2\u7387\u5b66\u7fd2\u7387\u5b66\u7fd2"
      "\u7387\u5b66\u7fd2\u7387\u5b66\u7fd2\u7387\u5b66\u7fd2\u7387\u00e9";
  const hpt::CategoricalDistribution choices{
      {hpt::Json("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"), hpt::Json("b")}};
  for (auto& t : trials) {
    t.params[name] = t.params["lr"];
    t.distributions[name] = t.distributions["lr"];
    t.params["\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"] =
        t.number % 2;
    t.distributions["\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"] =
        choices;
  }
  const std::string html =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials);
  CHECK(valid_utf8(html));
  CHECK(html.find("\u2026") != std::string::npos);
}

// A trial's ROC curve and confusion matrix render; a trial without them renders nothing.
TEST_CASE("render_trial_metrics and render_trial_curve", "[plots_html]") {
  auto t = hpt::test::mixed_study(2)[0];
  CHECK(hpt::reports::render_trial_metrics(t).empty());
  t.user_attrs["roc_curve"] = hpt::Json::parse(R"({"fpr": [0, 1], "tpr": [0, 1]})");
  t.user_attrs["confusion_matrix"] = hpt::Json::parse(R"({"tn": 1, "fp": 2, "fn": 3, "tp": 4})");
  const std::string m = hpt::reports::render_trial_metrics(t);
  CHECK(m.find("ROC curve") != std::string::npos);
  CHECK(m.find("Confusion matrix") != std::string::npos);
  CHECK(hpt::reports::render_trial_curve(t).find("<polyline") != std::string::npos);
  // A user's 1,000-class matrix is named, not drawn as a million-cell table (20 MB of page).
  t.user_attrs["confusion_matrix"] =
      hpt::Json(std::vector<std::vector<int>>(1000, std::vector<int>(1000, 1)));
  const std::string big = hpt::reports::render_trial_metrics(t);
  CHECK(big.find("1000 classes: more than 50 are not shown as a table.") != std::string::npos);
  CHECK(big.size() < 10000);
  t.intermediate_values.clear();
  CHECK(hpt::reports::render_trial_curve(t).find("<polyline") == std::string::npos);
}

// Rows: values that are not finite are the strings JavaScript's Number() reads.
TEST_CASE("trial_row_json", "[plots_html]") {
  auto t = hpt::test::mixed_study(1)[0];
  t.value = std::numeric_limits<double>::infinity();
  const hpt::Json row = hpt::reports::trial_row_json(hpt::reports::get_trial_row(t, 0));
  CHECK(row["value"] == "Infinity");
  CHECK(hpt::reports::page_number(-HUGE_VAL) == "-Infinity");
  CHECK(hpt::reports::page_number(std::nan("")) == "NaN");
  CHECK(hpt::reports::page_number(0.5) == 0.5);
  CHECK(row["number"] == 0);
  CHECK(row["params"].is_object());
}

namespace {

hpt::StudyInfo mo_info(std::vector<hpt::Direction> directions) {
  hpt::StudyInfo s = hpt::test::study_info(1, "mo", directions[0]);
  s.directions = std::move(directions);
  return s;
}

// The text of the <section id="id"...> of html (up to its end).
std::string section(const std::string& html, const std::string& id) {
  const size_t start = html.find("<section id=\"" + id + "\"");
  if (start == std::string::npos) {
    return "";
  }
  return html.substr(start, html.find("</section>", start) - start);
}

}  // namespace

// A two-objective study: Pareto scatter with the front's numbers in data-front and its own
// mark group, per-objective history/importance/slice plots named by index and direction, no
// single-objective contour/parallel/EDF sections.
TEST_CASE("multi-objective plot sections, two objectives", "[plots_html]") {
  const auto trials = hpt::test::mo_study(40);
  const auto study = mo_info({hpt::Direction::Minimize, hpt::Direction::Maximize});
  const std::string html = hpt::reports::render_plot_sections(study, trials);
  const auto pareto = hpt::reports::get_pareto_info(trials, study.directions);
  std::string front;
  for (int i : pareto.front) {
    front += (front.empty() ? "" : ",") + std::to_string(trials[pareto.index[i]].number);
  }
  REQUIRE_FALSE(pareto.front.empty());
  const std::string p = section(html, "pareto");
  CHECK(p.find("data-front=\"" + front + "\"") != std::string::npos);
  CHECK(p.find("<g class=\"pts front\" data-t=\"" + front + "\">") != std::string::npos);
  CHECK(p.find("class=\"front-line\"") != std::string::npos);
  CHECK(p.find("objective 0 (minimize)") != std::string::npos);
  CHECK(p.find("objective 1 (maximize)") != std::string::npos);
  CHECK(section(html, "summary").find("Directions</th><td>MINIMIZE, MAXIMIZE") !=
        std::string::npos);
  CHECK(section(html, "summary").find("Pareto front: " + std::to_string(pareto.front.size())) !=
        std::string::npos);
  const std::string history = section(html, "history");
  CHECK(history.find("Optimization history: objective 0 (minimize)") != std::string::npos);
  CHECK(history.find("Optimization history: objective 1 (maximize)") != std::string::npos);
  const std::string importance = section(html, "importance");
  CHECK(importance.find("Importance for objective 0 (minimize) (fANOVA") != std::string::npos);
  CHECK(importance.find("Importance for objective 1 (maximize) (fANOVA") != std::string::npos);
  CHECK(section(html, "slice").find("data-objective=\"1\"") != std::string::npos);
  for (const char* absent : {"contour", "parallel", "edf"}) {
    CHECK(section(html, absent).empty());
  }
  CHECK_FALSE(section(html, "duration-importance").empty());
  // Without importances (the dashboard's first paint) every section is there at once.
  const std::string quick = hpt::reports::render_plot_sections(study, trials, nullptr);
  CHECK(section(quick, "importance").find("Computing the fANOVA") != std::string::npos);
  CHECK(section(quick, "pareto") == p);
  CHECK(p.find("infeasible") == std::string::npos);
  // Constrained: infeasible trials grey and off the front, said in a note.
  auto constrained = trials;
  int violating = 0;
  for (size_t i = 0; i < constrained.size(); i += 2) {
    constrained[i].system_attrs["constraints"] = hpt::Json::array({0.5, -1});
    violating += constrained[i].state == hpt::TrialState::Complete ? 1 : 0;
  }
  const std::string cp = section(hpt::reports::render_plot_sections(study, constrained), "pareto");
  CHECK(cp.find("class=\"infeasible\"") != std::string::npos);
  CHECK(cp.find(std::to_string(violating) + " of the " + std::to_string(pareto.values.size()) +
                " trials violate their constraints (grey): they are never on the front.") !=
        std::string::npos);
}

// Three objectives: parallel coordinates over the objectives, front lines drawn last in red.
TEST_CASE("multi-objective plot sections, three objectives", "[plots_html]") {
  const auto trials = hpt::test::mo_study(30, 3);
  const auto study =
      mo_info({hpt::Direction::Minimize, hpt::Direction::Minimize, hpt::Direction::Maximize});
  const std::string p =
      section(hpt::reports::render_plot_sections(study, trials, nullptr), "pareto");
  CHECK(p.find("class=\"plot wide\"") != std::string::npos);
  CHECK(p.find("objective 2 (maximize)") != std::string::npos);
  const auto pareto = hpt::reports::get_pareto_info(trials, study.directions);
  // The count said once ("... red) (30 trials)" said it twice).
  CHECK(p.find(fmt::format("Pareto front ({} of {} trials, red)</text>", pareto.front.size(),
                           pareto.values.size())) != std::string::npos);
  size_t red = 0;
  for (size_t at = p.find("stroke=\"#d62728\""); at != std::string::npos;
       at = p.find("stroke=\"#d62728\"", at + 1)) {
    ++red;
  }
  CHECK(red == pareto.front.size());
  CHECK(p.rfind("stroke=\"#9aa7b8\"") < p.find("stroke=\"#d62728\""));
}

// A study with no usable trial still renders, with notes instead of plots.
TEST_CASE("multi-objective plot sections of an empty study", "[plots_html]") {
  const auto study = mo_info({hpt::Direction::Minimize, hpt::Direction::Maximize});
  const std::string html = hpt::reports::render_plot_sections(study, {});
  CHECK(section(html, "pareto").find("Not enough trials") != std::string::npos);
  CHECK(section(html, "pareto").find("<svg") == std::string::npos);
  CHECK(section(html, "history").find("objective 1 (maximize): Not enough") != std::string::npos);
}

// Rows of multi-objective trials carry every value ("NaN" where not a number); single-objective
// rows have no "values" key.
TEST_CASE("trial_row_json of a multi-objective trial", "[plots_html]") {
  auto t = hpt::test::make_mo_trial(3, {1.5, std::numeric_limits<double>::quiet_NaN()});
  const hpt::Json row = hpt::reports::trial_row_json(hpt::reports::get_trial_row(t, 0));
  REQUIRE(row.contains("values"));
  CHECK(row["values"].size() == 2);
  CHECK(row["values"][0] == 1.5);
  CHECK(row["values"][1] == "NaN");
  CHECK(row["value"].is_null());
  const auto single = hpt::test::mixed_study(1)[0];
  CHECK_FALSE(
      hpt::reports::trial_row_json(hpt::reports::get_trial_row(single, 0)).contains("values"));
}

// The timeline: one bar per started trial, in a group tagged with their numbers, coloured by
// state; in a multi-objective study's sections too.
TEST_CASE("timeline section", "[plots_html]") {
  auto trials = hpt::test::mixed_study(30);
  const std::string html = section(
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials), "timeline");
  REQUIRE_FALSE(html.empty());
  const auto info = hpt::reports::get_timeline_info(trials, hpt::Clock::now());
  REQUIRE(info.bars.size() == trials.size());
  size_t bars = 0;
  for (size_t p = html.find("<line class=\"s-"); p != std::string::npos;
       p = html.find("<line class=\"s-", p + 1)) {
    ++bars;
  }
  CHECK(bars == trials.size());
  CHECK(html.find("<line class=\"s-complete\"") != std::string::npos);
  CHECK(html.find("<line class=\"s-pruned\"") != std::string::npos);
  CHECK(html.find("<g class=\"bars\" data-t=\"0,1,2,") != std::string::npos);
  for (auto& t : trials) {
    t.datetime_start.reset();
  }
  CHECK(
      section(hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials), "timeline")
          .find("No trial has a start time") != std::string::npos);
  const auto mo = hpt::reports::render_plot_sections(
      mo_info({hpt::Direction::Minimize, hpt::Direction::Maximize}), hpt::test::mo_study(10));
  CHECK(section(mo, "timeline").find("<g class=\"bars\"") != std::string::npos);
}
