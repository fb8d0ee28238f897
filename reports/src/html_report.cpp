// The static report page: the plot sections (plots_html.cpp), the trials table and the data
// behind tooltips and the table, as one self-contained file. The table and the interaction
// (tooltips, selection, zoom, sort, filters) are reports/web/report.js, shared with the
// dashboard.

#include <fmt/format.h>

#include <iterator>

#include "hpt/reports/html_page.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/reports/plots_html.hpp"
#include "hpt/reports/report.hpp"
#include "hpt/reports/svg.hpp"

namespace hpt::reports {

std::string render_report(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                          const TrialFolders& where) {
  const std::string sections = render_plot_sections(study, trials, where);
  const bool has_model = sections.find("<section id=\"model\">") != std::string::npos;
  std::string out;
  out.reserve(sections.size() + (1 << 20));
  out += "<h1>Study report: " + html_escape(study.name) + "</h1>";
  if (study.is_multi_objective()) {
    out +=
        "<nav><a href=\"#summary\">Summary</a><a href=\"#pareto\">Pareto front</a><a "
        "href=\"#history\">History</a><a href=\"#importance\">Importance</a><a "
        "href=\"#duration-importance\">Duration</a><a href=\"#slice\">Slice</a><a "
        "href=\"#intermediate\">Learning curves</a><a href=\"#timeline\">Timeline</a><a "
        "href=\"#trials\">Trials</a></nav>";
  } else {
    fmt::format_to(std::back_inserter(out),
                   "<nav><a href=\"#summary\">Summary</a>{0}<a href=\"#history\">History</a><a "
                   "href=\"#importance\">Importance</a><a href=\"#duration-importance\">Duration"
                   "</a><a href=\"#contour\">Contour</a><a href=\"#slice\">Slice</a><a "
                   "href=\"#parallel\">Parallel</a><a href=\"#intermediate\">Learning curves</a>"
                   "<a href=\"#edf\">EDF</a><a href=\"#timeline\">Timeline</a><a href=\"#trials\">"
                   "Trials</a></nav>",
                   has_model ? "<a href=\"#model\">Model</a>" : "");
  }
  out += "<div id=\"plots\">";
  out += sections;
  out +=
      "</div><section id=\"trials\"><h2>Trials</h2><div id=\"trials-table\"></div>"
      "<noscript><p class=\"note\">The trials table needs JavaScript.</p></noscript></section>";
  Json rows = Json::array();
  for (const TrialRow& row : get_trial_rows(trials)) {
    rows.push_back(trial_row_json(row));
  }
  out += "<script type=\"application/json\" id=\"hpt-data\">" + script_json(Json{{"rows", rows}}) +
         "</script>";
  return render_page("hpt report: " + study.name, out);
}

}  // namespace hpt::reports
