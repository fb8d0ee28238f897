#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "hpt/reports/info.hpp"
#include "hpt/tuner/constraints.hpp"

namespace hpt::reports {
namespace {

bool has_finite_value(const FrozenTrial& t) {
  return t.state == TrialState::Complete && t.value && std::isfinite(*t.value);
}

const char* k_not_enough = "Not enough trials: no COMPLETE trial with a finite value yet.";

}  // namespace

std::vector<int> complete_indices(const std::vector<FrozenTrial>& trials) {
  std::vector<int> out;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (has_finite_value(trials[i])) {
      out.push_back(static_cast<int>(i));
    }
  }
  return out;
}

// At most max of idx, evenly spaced (the first and the last kept), so that a plot of one mark
// per trial and parameter stays light in a study of 20,000 trials; note says so.
std::vector<int> plotted(const std::vector<int>& idx, size_t max, std::string& note,
                         const char* what = "complete") {
  if (idx.size() <= max) {
    return idx;
  }
  std::vector<int> out;
  for (size_t k = 0; k < max; ++k) {
    out.push_back(idx[k * (idx.size() - 1) / (max - 1)]);
  }
  note = fmt::format("Showing {} of the {} {} trials, evenly spaced by number.", max, idx.size(),
                     what);
  return out;
}

// The params of idx's trials that a slice or parallel plot draws: all of them, or of more than
// k_max_plotted_params the most important (ranked first, then quick_param_ranking's order), by
// name; note says so.
std::set<std::string> plotted_params(const std::vector<FrozenTrial>& trials,
                                     const std::vector<int>& idx,
                                     const std::vector<std::string>& ranked, std::string& note) {
  const std::set<std::string> names = param_names(trials, idx);
  if (names.size() <= k_max_plotted_params) {
    return names;
  }
  // quick_param_ranking (O(trials x params)) only when ranked leaves some of the places.
  const auto given = static_cast<size_t>(std::count_if(
      ranked.begin(), ranked.end(), [&](const std::string& n) { return names.count(n) > 0; }));
  const std::vector<std::string> quick =
      given < k_max_plotted_params ? quick_param_ranking(trials) : std::vector<std::string>{};
  const std::vector<std::string> order = ranked_params(names, {&ranked, &quick});
  const std::set<std::string> kept(order.begin(), order.begin() + k_max_plotted_params);
  const std::string thinned = note.empty() ? "" : " " + note;
  note = fmt::format("Showing the {} most important of the {} parameters.{}", kept.size(),
                     names.size(), thinned);
  return kept;
}

std::set<std::string> param_names(const std::vector<FrozenTrial>& trials,
                                  const std::vector<int>& indices) {
  std::set<std::string> names;
  for (int i : indices) {
    for (const auto& [name, v] : trials[i].params) {
      names.insert(name);
    }
  }
  return names;
}

std::vector<std::string> ranked_params(
    const std::set<std::string>& present,
    const std::vector<const std::vector<std::string>*>& rankings) {
  std::vector<std::string> out;
  std::set<std::string> placed;
  auto place = [&](const std::string& name) {
    if (present.count(name) > 0 && placed.insert(name).second) {
      out.push_back(name);
    }
  };
  for (const auto* ranking : rankings) {
    for (const std::string& name : *ranking) {
      place(name);
    }
  }
  for (const std::string& name : present) {
    place(name);
  }
  return out;
}

std::string choice_label(const Json& choice) {
  return choice.is_string() ? choice.get<std::string>() : choice.dump();
}

ParamAxis make_param_axis(const std::vector<FrozenTrial>& trials, const std::vector<int>& indices,
                          const std::string& name) {
  ParamAxis axis;
  axis.name = name;
  std::vector<Json> choices;  // The categorical choices, one per key.
  bool first = true;
  const Distribution* previous = nullptr;
  for (int i : indices) {
    auto it = trials[i].distributions.find(name);
    if (it == trials[i].distributions.end()) {
      continue;
    }
    const Distribution& d = it->second;
    if (previous && *previous == d) {
      continue;  // Trials mostly share one distribution: fold it in once.
    }
    previous = &d;
    if (const auto* c = std::get_if<CategoricalDistribution>(&d)) {
      axis.categorical = true;
      for (const Json& choice : c->choices) {
        const std::string key = choice_key(choice).dump();
        if (std::find(axis.keys.begin(), axis.keys.end(), key) == axis.keys.end()) {
          axis.keys.push_back(key);
          axis.labels.push_back(choice_label(choice));
          choices.push_back(choice);
        }
      }
      continue;
    }
    double low = 0.0;
    double high = 0.0;
    if (const auto* f = std::get_if<FloatDistribution>(&d)) {
      low = f->low;
      high = f->high;
    } else {
      const auto& n = std::get<IntDistribution>(d);
      low = static_cast<double>(n.low);
      high = static_cast<double>(n.high);
    }
    axis.log = axis.log || is_log(d);
    axis.low = first ? low : std::min(axis.low, low);
    axis.high = first ? high : std::max(axis.high, high);
    first = false;
  }
  if (axis.log && !(axis.low > 0.0)) {
    axis.log = false;  // A log axis needs positive values.
  }
  // Choices of one text (64 and "64"): each shown as its JSON, found by its key.
  const std::set<std::string> texts(axis.labels.begin(), axis.labels.end());
  if (texts.size() < axis.labels.size()) {
    for (size_t i = 0; i < choices.size(); ++i) {
      axis.labels[i] = choices[i].dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  } else {
    axis.keys.clear();
  }
  return axis;
}

double axis_value(const ParamAxis& axis, const FrozenTrial& trial) {
  auto it = trial.params.find(axis.name);
  if (it == trial.params.end()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  auto dist = trial.distributions.find(axis.name);
  if (!axis.categorical) {
    if (dist == trial.distributions.end()) {
      return it->second;
    }
    // to_external without building a Json (this runs for every trial of every plot).
    if (std::holds_alternative<IntDistribution>(dist->second)) {
      return std::trunc(it->second);
    }
    return it->second;
  }
  const auto* c = dist == trial.distributions.end()
                      ? nullptr
                      : std::get_if<CategoricalDistribution>(&dist->second);
  const double i = std::round(it->second);
  if (!c || !(i >= 0) || i >= static_cast<double>(c->choices.size())) {
    return -1;
  }
  const Json& choice = c->choices[static_cast<size_t>(i)];
  if (!axis.keys.empty()) {
    auto pos = std::find(axis.keys.begin(), axis.keys.end(), choice_key(choice).dump());
    return pos == axis.keys.end() ? -1 : static_cast<double>(pos - axis.keys.begin());
  }
  const std::string dumped = choice.is_string() ? std::string() : choice_label(choice);
  const std::string& label = choice.is_string() ? choice.get_ref<const std::string&>() : dumped;
  auto pos = std::find(axis.labels.begin(), axis.labels.end(), label);
  return pos == axis.labels.end() ? -1 : static_cast<double>(pos - axis.labels.begin());
}

double axis_position(const ParamAxis& axis, double x) {
  if (axis.categorical) {
    return axis.labels.size() <= 1 ? 0.5 : x / static_cast<double>(axis.labels.size() - 1);
  }
  if (axis.log) {
    const double span = std::log10(axis.high) - std::log10(axis.low);
    return span > 0.0 ? (std::log10(x) - std::log10(axis.low)) / span : 0.5;
  }
  const double span = axis.high - axis.low;
  return span > 0.0 ? (x - axis.low) / span : 0.5;
}

HistoryInfo get_history_info(const std::vector<FrozenTrial>& trials, Direction direction) {
  HistoryInfo info;
  std::vector<int> idx = complete_indices(trials);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int a, int b) { return trials[a].number < trials[b].number; });
  double best = std::numeric_limits<double>::quiet_NaN();
  for (int i : idx) {
    const double v = *trials[i].value;
    const bool feasible = is_feasible(trials[i]);
    if (feasible && (std::isnan(best) || is_better(v, best, direction))) {
      best = v;
    }
    info.points.push_back({i, trials[i].number, v, best, feasible});
  }
  if (info.points.empty()) {
    info.note = k_not_enough;
  }
  return info;
}

SliceInfo get_slice_info(const std::vector<FrozenTrial>& trials,
                         const std::vector<std::string>& ranked) {
  SliceInfo info;
  const std::vector<int> idx = complete_indices(trials);
  const std::vector<int> shown = plotted(idx, k_max_plotted_trials, info.note);
  for (const std::string& name : plotted_params(trials, idx, ranked, info.note)) {
    SliceParam p;
    p.axis = make_param_axis(trials, idx, name);
    for (int i : shown) {
      const double x = axis_value(p.axis, trials[i]);
      if (std::isnan(x) || (x < 0.0 && p.axis.categorical)) {
        continue;
      }
      p.x.push_back(x);
      p.y.push_back(*trials[i].value);
      p.index.push_back(i);
    }
    info.params.push_back(std::move(p));
  }
  if (idx.empty()) {
    info.note = k_not_enough;
  } else if (info.params.empty()) {
    info.note = "The trials have no parameters.";
  }
  return info;
}

ParallelInfo get_parallel_info(const std::vector<FrozenTrial>& trials, Direction direction,
                               const std::vector<std::string>& ranked) {
  ParallelInfo info;
  const std::vector<int> idx = complete_indices(trials);
  if (idx.empty()) {
    info.note = k_not_enough;
    return info;
  }
  ParamAxis objective;
  objective.name = std::string("objective (") +
                   (direction == Direction::Minimize ? "minimize" : "maximize") + ")";
  objective.low = *trials[idx[0]].value;
  objective.high = objective.low;
  for (int i : idx) {
    objective.low = std::min(objective.low, *trials[i].value);
    objective.high = std::max(objective.high, *trials[i].value);
  }
  info.axes.push_back(objective);
  const std::vector<int> shown = plotted(idx, k_max_plotted_trials, info.note);
  for (const std::string& name : plotted_params(trials, idx, ranked, info.note)) {
    info.axes.push_back(make_param_axis(trials, idx, name));
  }
  for (int i : shown) {
    std::vector<double> pos;
    pos.push_back(axis_position(info.axes[0], *trials[i].value));
    for (size_t a = 1; a < info.axes.size(); ++a) {
      const double x = axis_value(info.axes[a], trials[i]);
      pos.push_back(std::isnan(x) || (info.axes[a].categorical && x < 0)
                        ? std::numeric_limits<double>::quiet_NaN()
                        : axis_position(info.axes[a], x));
    }
    info.pos.push_back(std::move(pos));
    info.value.push_back(*trials[i].value);
    info.index.push_back(i);
  }
  if (info.axes.size() == 1) {
    info.note = "The trials have no parameters.";
  }
  return info;
}

IntermediateInfo get_intermediate_info(const std::vector<FrozenTrial>& trials, Direction direction,
                                       int max_curves, int max_points) {
  IntermediateInfo info;
  std::vector<int> with_values;
  int only_non_finite = 0;  // Trials whose every intermediate value is NaN or infinite.
  std::optional<int> best;
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = trials[i];
    only_non_finite += t.intermediate_values.empty() ? 0 : 1;
    bool any = false;
    for (const auto& [step, v] : t.intermediate_values) {
      any = any || std::isfinite(v);
    }
    if (!any) {
      continue;
    }
    --only_non_finite;
    with_values.push_back(static_cast<int>(i));
    if (has_finite_value(t) && (!best || is_better(*t.value, *trials[*best].value, direction))) {
      best = static_cast<int>(i);
    }
  }
  info.n_with_values = static_cast<int>(with_values.size());
  std::vector<int> chosen = with_values;
  if (static_cast<int>(with_values.size()) > max_curves && max_curves > 0) {
    chosen.clear();
    const double stride = static_cast<double>(with_values.size()) / max_curves;
    for (int k = 0; k < max_curves; ++k) {
      chosen.push_back(with_values[static_cast<size_t>(k * stride)]);
    }
    if (best && std::find(chosen.begin(), chosen.end(), *best) == chosen.end()) {
      chosen.back() = *best;
    }
    std::sort(chosen.begin(), chosen.end());
    info.note = "Showing " + std::to_string(chosen.size()) + " of " +
                std::to_string(with_values.size()) +
                " learning curves (evenly spaced by trial number, the best trial included).";
  }
  for (int i : chosen) {
    const FrozenTrial& t = trials[i];
    LearningCurve c{i, t.number, t.state, {}};
    for (const auto& [step, v] : t.intermediate_values) {
      if (std::isfinite(v)) {
        c.points.emplace_back(step, v);
      }
    }
    if (max_points > 1 && static_cast<int>(c.points.size()) > max_points) {
      std::vector<std::pair<int64_t, double>> sampled;
      const double stride = static_cast<double>(c.points.size() - 1) / (max_points - 1);
      for (int k = 0; k < max_points; ++k) {
        sampled.push_back(c.points[static_cast<size_t>(std::llround(k * stride))]);
      }
      c.points = std::move(sampled);
    }
    info.curves.push_back(std::move(c));
  }
  if (with_values.empty()) {
    info.note = only_non_finite == 0
                    ? "No trial reported intermediate values."
                    : fmt::format(
                          "{} trial{} reported intermediate values, none of them finite "
                          "(NaN or infinite).",
                          only_non_finite, only_non_finite == 1 ? "" : "s");
  }
  return info;
}

EdfInfo get_edf_info(const std::vector<FrozenTrial>& trials) {
  EdfInfo info;
  for (int i : complete_indices(trials)) {
    info.values.push_back(*trials[i].value);
  }
  std::sort(info.values.begin(), info.values.end());
  if (info.values.empty()) {
    info.note = k_not_enough;
  }
  return info;
}

TimelineInfo get_timeline_info(const std::vector<FrozenTrial>& trials, Clock::time_point now) {
  TimelineInfo info;
  std::vector<int> started;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (trials[i].datetime_start) {
      started.push_back(static_cast<int>(i));
    }
  }
  std::stable_sort(started.begin(), started.end(),
                   [&](int a, int b) { return trials[a].number < trials[b].number; });
  if (started.empty()) {
    // Finished trials without a start time come from a tool that did not record it.
    info.note = trials.empty() || std::all_of(trials.begin(), trials.end(),
                                              [](const FrozenTrial& t) {
                                                return t.state == TrialState::Waiting;
                                              })
                    ? "No trial has started yet."
                    : "No trial has a start time: the tool that ran them did not record one.";
    return info;
  }
  // In seconds since the epoch, as doubles: the difference of two time points centuries apart
  // (a hostile database) overflows their 64-bit nanoseconds.
  const auto epoch_seconds = [](Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  double first = epoch_seconds(*trials[started[0]].datetime_start);
  for (int i : started) {
    first = std::min(first, epoch_seconds(*trials[i].datetime_start));
  }
  const auto seconds = [&](Clock::time_point t) { return epoch_seconds(t) - first; };
  for (int i : plotted(started, k_max_plotted_trials, info.note, "started")) {
    const FrozenTrial& t = trials[i];
    const double start = seconds(*t.datetime_start);
    const double end = t.datetime_complete && t.state != TrialState::Running
                           ? seconds(*t.datetime_complete)
                           : seconds(now);
    info.bars.push_back({i, t.state, start, std::max(start, end)});
    info.span = std::max(info.span, info.bars.back().end);
  }
  return info;
}

}  // namespace hpt::reports
