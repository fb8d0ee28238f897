#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hpt/reports/info.hpp"
#include "hpt/reports/report.hpp"
#include "source_paths.hpp"
#include "study_fixtures.hpp"

namespace {

const std::vector<std::string> k_sections = {
    "summary", "history",  "importance", "duration-importance",
    "contour", "slice",    "parallel",   "intermediate",
    "edf",     "timeline", "trials"};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) {
    ++n;
  }
  return n;
}

std::string without_xmlns(std::string html) {
  const std::string ns = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t p = html.find(ns); p != std::string::npos; p = html.find(ns, p)) {
    html.erase(p, ns.size());
  }
  return html;
}

hpt::StudyInfo study(const std::string& name = "s1") { return hpt::test::study_info(1, name); }

// The DOM of html after headless Chromium ran its scripts (in a fresh folder named dir_name
// under the build folder).
std::string chromium_dom(const std::string& dir_name, const std::string& html) {
  const std::string dir = std::string(HPT_BINARY_DIR) + "/" + dir_name;
  REQUIRE(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/profile").c_str()) == 0);
  std::ofstream(dir + "/report.html") << html;
  const std::string cmd =
      "timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu "
      "--disable-background-networking --disable-component-update --disable-sync --no-first-run "
      "--user-data-dir=" +
      dir + "/profile --dump-dom file://" + dir + "/report.html > " + dir + "/dom.html 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(dir + "/dom.html");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// Every section is there with its plots, and nothing is loaded from the network.
TEST_CASE("report has every section and no remote resources", "[html_report]") {
  const auto trials = hpt::test::mixed_study(60);
  const std::string html = hpt::reports::render_report(study(), trials);
  for (const auto& id : k_sections) {
    INFO(id);
    CHECK(count(html, "<section id=\"" + id + "\">") == 1);
  }
  // History, 2 importances, 3 contours, 5 slices, parallel, curves, EDF, timeline.
  CHECK(count(html, "<svg") == 1 + 2 + 3 + 5 + 1 + 1 + 1 + 1);
  const std::string bare = without_xmlns(html);
  CHECK(bare.find("http://") == std::string::npos);
  CHECK(bare.find("https://") == std::string::npos);
  CHECK(bare.find("<link") == std::string::npos);
  // Images (the model view's thumbnails) are inline data: URLs only.
  for (size_t at = bare.find("src="); at != std::string::npos; at = bare.find("src=", at + 1)) {
    CHECK(bare.compare(at, 15, "src=\"data:image") == 0);
  }
  CHECK(html.find("Not enough") == std::string::npos);
  CHECK(html.find("Not available") == std::string::npos);
}

// Empty and one-trial studies render with notes instead of plots.
TEST_CASE("report of 0 and 1 trials", "[html_report]") {
  const std::string empty = hpt::reports::render_report(study(), {});
  for (const auto& id : k_sections) {
    CHECK(empty.find("<section id=\"" + id + "\">") != std::string::npos);
  }
  CHECK(count(empty, "<svg") == 0);
  CHECK(empty.find("Not enough trials") != std::string::npos);
  const std::string one = hpt::reports::render_report(study(), hpt::test::mixed_study(1));
  CHECK(one.find("Not enough trials") != std::string::npos);
  CHECK(count(one, "<svg") >= 3);  // History, slices, EDF...
}

// Text from the study cannot break out of the page: names are escaped, "<" in the JSON blob too.
TEST_CASE("report escapes user text", "[html_report]") {
  auto trials = hpt::test::mixed_study(3);
  trials[0].user_attrs["note"] = "</script><script>alert(1)</script>";
  const std::string html = hpt::reports::render_report(study("a<b>"), trials);
  CHECK(html.find("alert(1)</script>") == std::string::npos);
  CHECK(html.find("a&lt;b&gt;") != std::string::npos);
  CHECK(count(html, "</script>") == 2);  // The JSON blob and the code.
}

// Headless Chromium runs the inline script: the table is filled and the ready marker set.
TEST_CASE("report renders in headless chromium", "[html_report][chromium]") {
  if (std::system("test -x /usr/bin/chromium") != 0) {
    WARN("/usr/bin/chromium not found; browser check skipped");
    return;
  }
  const auto trials = hpt::test::mixed_study(60);
  const std::string dom =
      chromium_dom("test_html_report", hpt::reports::render_report(study(), trials));
  CHECK(dom.find("data-hpt-ready=\"60\"") != std::string::npos);
  const size_t body = dom.find("id=\"trials-body\">");
  REQUIRE(body != std::string::npos);
  CHECK(count(dom.substr(body, dom.find("</tbody>", body) - body), "<tr ") == 60);
  for (const auto& id : k_sections) {
    if (id == "trials" || id == "summary") {
      continue;
    }
    const size_t start = dom.find("<section id=\"" + id + "\">");
    REQUIRE(start != std::string::npos);
    const size_t end = dom.find("</section>", start);
    INFO(id);
    CHECK(dom.substr(start, end - start).find("<svg") != std::string::npos);
  }
}

// A multi-objective report in headless Chromium: the Pareto plot is drawn, the trials table
// has one column per objective and marks exactly the front's trials in its Pareto column.
TEST_CASE("multi-objective report renders in headless chromium", "[html_report][chromium]") {
  hpt::StudyInfo mo = hpt::test::study_info(1, "mo");
  mo.directions = {hpt::Direction::Minimize, hpt::Direction::Maximize};
  const auto trials = hpt::test::mo_study(40);
  const std::string html = hpt::reports::render_report(mo, trials);
  CHECK(html.find("<a href=\"#pareto\">Pareto front</a>") != std::string::npos);
  CHECK(html.find("href=\"#contour\"") == std::string::npos);
  if (std::system("test -x /usr/bin/chromium") != 0) {
    WARN("/usr/bin/chromium not found; browser check skipped");
    return;
  }
  const std::string dom = chromium_dom("test_html_report_mo", html);
  CHECK(dom.find("data-hpt-ready=\"40\"") != std::string::npos);
  const size_t pareto = dom.find("<section id=\"pareto\"");
  REQUIRE(pareto != std::string::npos);
  CHECK(dom.find("<svg", pareto) < dom.find("</section>", pareto));
  CHECK(dom.find(">objective 1</th>") != std::string::npos);
  CHECK(dom.find(">Pareto</th>") != std::string::npos);
  const auto front = hpt::reports::get_pareto_info(trials, mo.directions).front.size();
  REQUIRE(front > 0);
  const size_t body = dom.find("id=\"trials-body\">");
  REQUIRE(body != std::string::npos);
  CHECK(count(dom.substr(body, dom.find("</tbody>", body) - body), "<td class=\"pareto\"") ==
        front);
}
