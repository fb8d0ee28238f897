#include <catch2/catch.hpp>

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
                         "intermediate", "edf"}) {
    CHECK(html.find(std::string("<section id=\"") + id + "\">") != std::string::npos);
  }
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
  t.intermediate_values.clear();
  CHECK(hpt::reports::render_trial_curve(t).find("<polyline") == std::string::npos);
}

// Rows: non-finite numbers are null; script_json cannot close its script element.
TEST_CASE("trial_row_json and script_json", "[plots_html]") {
  auto t = hpt::test::mixed_study(1)[0];
  t.value = std::numeric_limits<double>::infinity();
  const hpt::Json row = hpt::reports::trial_row_json(hpt::reports::get_trial_row(t, 0));
  CHECK(row["value"].is_null());
  CHECK(row["number"] == 0);
  CHECK(row["params"].is_object());
  const std::string text = hpt::reports::script_json(hpt::Json{{"a", "</script><!--\xff"}});
  CHECK(text.find('<') == std::string::npos);
  CHECK(hpt::Json::parse(text)["a"] == "</script><!--\uFFFD");
}
