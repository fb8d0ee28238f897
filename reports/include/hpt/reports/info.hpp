#pragma once
// The report's data, step one of two: get_*_info(trials, ...) returns plain structs that the
// HTML renderer only formats. Every function accepts any trial list (0 trials, pruned and
// failed trials, params present in only some trials) and says why a plot is empty in `note`.

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hpt/tuner/importance.hpp"
#include "hpt/tuner/multi_objective.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt::reports {

struct RocCurve {
  std::vector<double> fpr;
  std::vector<double> tpr;
  std::optional<double> auc;
};

struct SummaryInfo {
  std::string study_name;
  Direction direction = Direction::Minimize;
  int n_trials = 0;
  std::map<TrialState, int> counts;  // Every state, zeros included.
  std::optional<int> best_index;     // Index into the trial list.
  std::optional<int> best_number;
  std::optional<double> best_value;
  Json best_params = Json::object();  // External values.
  // From the best trial's user attrs "roc_curve" {fpr, tpr[, auc]} and "confusion_matrix"
  // (a matrix [[tn, fp], [fn, tp]] or an object {tn, fp, fn, tp}); absent if malformed.
  std::optional<RocCurve> roc;
  std::optional<std::vector<std::vector<double>>> confusion_matrix;
  // "3 trials hold data hpt cannot read, left out where it stands (trial 4: …)", or "".
  std::string read_problems;
};

// The best trial's index: tuner's one rule (hpt/tuner/multi_objective.hpp).
using ::hpt::best_trial_index;
SummaryInfo get_summary_info(const std::string& study_name, Direction direction,
                             const std::vector<FrozenTrial>& trials);

struct HistoryPoint {
  int index;  // Into the trial list.
  int number;
  double value;
  double best_so_far;    // Of the feasible points up to this one; NaN before the first.
  bool feasible = true;  // is_feasible: an infeasible trial is never best (drawn grey).
};
struct HistoryInfo {
  std::vector<HistoryPoint> points;  // COMPLETE trials with finite values, by number.
  std::string note;
};
HistoryInfo get_history_info(const std::vector<FrozenTrial>& trials, Direction direction);

// One parameter axis: numeric (external values, log flag) or categorical (labels, x = index).
struct ParamAxis {
  std::string name;
  bool categorical = false;
  bool log = false;
  // Categorical choices as text (JSON for lists); where two choices' texts are the same (64
  // and "64", true and "true", null and "null") each is its JSON (strings quoted), and keys
  // holds every choice's choice_key text, by which trials find theirs.
  std::vector<std::string> labels;
  std::vector<std::string> keys;  // Empty when the labels tell every choice apart.
  double low = 0.0;               // External range over the shown trials (numeric axes).
  double high = 0.0;
};

// The positions in trials of the COMPLETE trials with a finite value: the trials plots draw.
std::vector<int> complete_indices(const std::vector<FrozenTrial>& trials);
// The names of the params of trials[indices], sorted.
std::set<std::string> param_names(const std::vector<FrozenTrial>& trials,
                                  const std::vector<int>& indices);
// present's names, most important first: in the order of the first ranking, then of the next
// for those it leaves out, then by name (the order contour, slice and parallel plots pick by).
std::vector<std::string> ranked_params(
    const std::set<std::string>& present,
    const std::vector<const std::vector<std::string>*>& rankings);

// The axis of param name over trials[indices]: range = the union of its distributions' bounds
// (numeric), labels = the union of their choices in order (categorical).
ParamAxis make_param_axis(const std::vector<FrozenTrial>& trials, const std::vector<int>& indices,
                          const std::string& name);
// A trial's coordinate on the axis: its external number, or its label index (-1 if unknown).
double axis_value(const ParamAxis& axis, const FrozenTrial& trial);
// Maps an axis coordinate to [0, 1] (log10 scale on log axes; 0.5 on one-value axes).
double axis_position(const ParamAxis& axis, double x);
// A categorical choice as text: strings as they are, anything else as JSON.
std::string choice_label(const Json& choice);

struct SliceParam {
  ParamAxis axis;
  std::vector<double> x;  // External value, or label index.
  std::vector<double> y;
  std::vector<int> index;  // Into the trial list.
};
// The most trials a slice or parallel-coordinates plot draws (one mark per trial and
// parameter); more are thinned evenly, with a note.
inline constexpr size_t k_max_plotted_trials = 1000;
// The most parameters a slice or parallel-coordinates plot draws: a wider study shows the
// k_max_plotted_params most important, with a note (1,000 parameters made a 100 MB report).
inline constexpr size_t k_max_plotted_params = 50;

struct SliceInfo {
  std::vector<SliceParam> params;  // Sorted by name.
  std::string note;
};
// ranked: the params, most important first (the fANOVA order); where it is empty or leaves
// some out, quick_param_ranking's order decides which k_max_plotted_params are drawn.
SliceInfo get_slice_info(const std::vector<FrozenTrial>& trials,
                         const std::vector<std::string>& ranked = {});

struct ContourPlot {
  ParamAxis x_axis;
  ParamAxis y_axis;
  // Grid centres in plot space ([0, 1]: log10 for log axes, category index for categoricals)
  // and z[iy][ix], interpolated by inverse squared distance from the trials.
  std::vector<double> grid_x;
  std::vector<double> grid_y;
  std::vector<std::vector<double>> z;
  std::vector<double> x;  // Trial dots in plot space.
  std::vector<double> y;
  std::vector<double> value;
  std::vector<int> index;
  double z_low = 0.0;
  double z_high = 0.0;
};
struct ContourInfo {
  std::vector<ContourPlot> plots;
  std::string note;
};
// Plots for the pairs of the top_params most important params (importance order given by
// `ranked`, else by name); grid_size cells per numeric axis.
ContourInfo get_contour_info(const std::vector<FrozenTrial>& trials,
                             const std::vector<std::string>& ranked, int top_params = 3,
                             int grid_size = 50);

struct ParallelInfo {
  std::vector<ParamAxis> axes;  // Objective first (name "objective"), then params by name.
  // pos[line][axis] in [0, 1]; NaN where the trial lacks the param.
  std::vector<std::vector<double>> pos;
  std::vector<double> value;
  std::vector<int> index;
  std::string note;
};
// ranked: as get_slice_info's.
ParallelInfo get_parallel_info(const std::vector<FrozenTrial>& trials, Direction direction,
                               const std::vector<std::string>& ranked = {});

// Why there are no importances when every shared parameter has one possible value.
inline constexpr const char* k_nothing_varies =
    "No parameter varies (each has one possible value): nothing to rank.";

struct ImportanceInfo {
  std::string target;                                       // "value" or "duration".
  std::vector<std::pair<std::string, double>> importances;  // Largest first.
  int n_trials_used = 0;
  std::string note;
};
ImportanceInfo get_importance_info(const std::vector<FrozenTrial>& trials, ImportanceTarget target,
                                   uint64_t seed = 0);
// The trials fANOVA fits for target over space when not all of them: with a categorical of more
// than 64 choices (fANOVA's time then grows with the square of the trials), 1,000 of the COMPLETE
// trials with a finite target, evenly spaced by number, and note says so. std::nullopt (all of
// trials) otherwise. get_importance_info and hpt importance use it.
std::optional<std::vector<FrozenTrial>> importance_trials(const std::vector<FrozenTrial>& trials,
                                                          const SearchSpace& space,
                                                          ImportanceTarget target,
                                                          std::string& note);
// info's params, most important first.
std::vector<std::string> ranked_names(const ImportanceInfo& info);

// Both fANOVA importances of a study: of the objective value and of the duration (the two
// forests fitted on two threads). They depend only on the study's COMPLETE trials.
struct StudyImportances {
  ImportanceInfo value;
  ImportanceInfo duration;
  std::vector<ImportanceInfo> objectives;  // Multi-objective studies: one per objective.
};
StudyImportances get_study_importances(const std::vector<FrozenTrial>& trials, uint64_t seed = 0);

// The params of COMPLETE trials with finite values, most telling first, in O(trials x params):
// ranked by the share of the value's variance explained by the mean per tenth of the param's
// axis (per choice for categoricals; the correlation ratio), ties by name. A quick stand-in
// for the fANOVA order while it is being computed.
std::vector<std::string> quick_param_ranking(const std::vector<FrozenTrial>& trials);

// Both importances of a study with these directions: of each objective (objectives, one per
// direction, computed on parallel threads; value is objectives[0]) and of the duration.
StudyImportances get_study_importances(const std::vector<FrozenTrial>& trials,
                                       const std::vector<Direction>& directions, uint64_t seed = 0);

// ---- multi-objective studies -------------------------------------------------------------

// The trials as one objective of a multi-objective study sees them: a copy of trials (same
// order) whose value is objective k's (values[k]; none when a trial lacks it), so that every
// single-objective get_*_info above draws that objective.
std::vector<FrozenTrial> objective_trials(const std::vector<FrozenTrial>& trials, size_t objective);
// "objective 0 (minimize)": how plots and tables name an objective (Optuna 3.1 stores no names).
std::string objective_label(size_t objective, Direction direction);

struct ParetoInfo {
  std::vector<Direction> directions;
  std::vector<std::string> labels;          // objective_label of each objective.
  std::vector<std::vector<double>> values;  // [point][objective], one point per usable trial.
  std::vector<int> index;                   // Into the trial list, per point.
  std::vector<bool> on_front;               // Per point: on the Pareto front (best_trials).
  std::vector<bool> feasible;               // Per point: is_feasible (never on the front if not).
  // The points on the front ordered by objective 0, then 1, ... (the line through a 2-D front).
  std::vector<int> front;
  int n_excluded = 0;  // COMPLETE trials left out: fewer values than objectives, NaN or ±inf.
  std::string note;
};
// The COMPLETE trials with one finite value per direction (in trial-list order) and which of
// them form the Pareto front, as hpt::best_trials (tuner/multi_objective.hpp) decides it: ties
// and duplicates included. A NOT_SET direction gives no points and a note.
ParetoInfo get_pareto_info(const std::vector<FrozenTrial>& trials,
                           const std::vector<Direction>& directions);

struct LearningCurve {
  int index;
  int number;
  TrialState state;
  std::vector<std::pair<int64_t, double>> points;  // Finite values only, maybe downsampled.
};
struct IntermediateInfo {
  std::vector<LearningCurve> curves;
  int n_with_values = 0;  // Trials that reported any value (curves may hold fewer).
  std::string note;
};
// At most max_curves curves (the best trial's included, the rest evenly spaced by number),
// each of at most max_points points.
IntermediateInfo get_intermediate_info(const std::vector<FrozenTrial>& trials, Direction direction,
                                       int max_curves = 300, int max_points = 200);

struct EdfInfo {
  std::vector<double> values;  // Sorted finite values of COMPLETE trials.
  std::string note;
};
EdfInfo get_edf_info(const std::vector<FrozenTrial>& trials);

// Optuna's plot_timeline: when each trial ran, by number, coloured by state.
struct TimelineBar {
  int index;  // Into the trial list.
  TrialState state;
  double start;  // Seconds since the first trial started.
  double end;    // Its completion, or (RUNNING, or no completion time) now.
};
struct TimelineInfo {
  std::vector<TimelineBar> bars;  // The trials that started, by number; at most
                                  // k_max_plotted_trials, evenly spaced, with a note.
  double span = 0.0;              // Seconds from the first start to the last end.
  std::string note;
};
// now ends the bars of RUNNING trials and of trials without a completion time (clamped so
// that no bar ends before it starts); trials that never started (WAITING) are left out.
TimelineInfo get_timeline_info(const std::vector<FrozenTrial>& trials, Clock::time_point now);

struct TrialRow {
  int index;
  int number;
  TrialState state;
  std::optional<double> value;
  std::optional<double> duration;
  Json params = Json::object();  // External.
  // Scalar user attrs, plus a fail reason if stored, and for a trial with constraint values
  // "constraints" (as text) and "feasible".
  Json attrs = Json::object();
  std::vector<double> values;  // Every objective's value when the trial has several.
};
// One trial's row; index is its position in the caller's trial list.
TrialRow get_trial_row(const FrozenTrial& trial, int index);
std::vector<TrialRow> get_trial_rows(const std::vector<FrozenTrial>& trials);

// A trial's ROC curve and confusion matrix from its user attrs (as SummaryInfo reads them for
// the best trial); std::nullopt if absent or malformed.
std::optional<RocCurve> get_trial_roc(const FrozenTrial& trial);
std::optional<std::vector<std::vector<double>>> get_trial_confusion(const FrozenTrial& trial);

}  // namespace hpt::reports
