#pragma once
// The plots of a study as HTML: one code path for the static report (`hpt report`) and the
// live dashboard (`hpt dashboard`). Every mark of a plot sits in a <g data-t="n1,n2,...">
// whose k-th child belongs to trial number n_k; reports/web/report.js reads these to show a
// trial on hover, to select trials in one plot and highlight them in the others, and to zoom.

#include <string>
#include <vector>

#include "hpt/reports/info.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt::reports {

// The plot sections (summary, the best trial's model view when it has one (model_view.hpp),
// history, importances, contour, slice, parallel coordinates, learning curves, EDF, timeline)
// of the study's trials, each a <section id="...">. A multi-objective study gets instead:
// summary with the Pareto front's trials, the Pareto front (<section id="pareto"
// data-front="n1,...">: a scatter for 2 objectives, parallel coordinates over the objectives
// for more), history, importances and slice plots per objective, duration importance,
// learning curves, timeline. Never
// throws on odd studies: a plot that cannot be drawn carries a note instead.
std::string render_plot_sections(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                                 const TrialFolders& where = {});
// The same with importances given (computed earlier, maybe for fewer trials), or, when
// importances is null, without waiting for them: the importance sections say they are being
// computed and the contour plots pick their pairs by quick_param_ranking. importances of a
// multi-objective study come from get_study_importances(trials, directions). The best trial's
// model view is looked for in where (load_trial_model_view).
std::string render_plot_sections(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                                 const StudyImportances* importances,
                                 const TrialFolders& where = {});

// The ROC curve (SVG) and confusion-matrix table of one trial's built-in-trainer user attrs;
// an empty string when it has neither.
std::string render_trial_metrics(const FrozenTrial& trial);

// The learning curve of one trial (its intermediate values), as the report draws curves; a note
// when it reported none.
std::string render_trial_curve(const FrozenTrial& trial);

// One trial as the trials table and tooltips read it (and as the dashboard's API lists it):
// {"number", "state", "value", "duration", "params": {name: external value}, "attrs": {...}},
// plus "values": [v0, v1, ...] for a trial with several objective values. Values that are not
// finite are page_number's strings; a duration that is not, null.
Json trial_row_json(const TrialRow& row);
// A number for the pages' JSON: finite as itself; NaN and the infinities, which JSON lacks, as
// the strings JavaScript's Number() reads ("NaN", "Infinity", "-Infinity"), so a page shows a
// trial of value -inf as such (null read as no value).
Json page_number(double v);

}  // namespace hpt::reports
