// The plots of a study as HTML (the report's and the dashboard's one code path). Renderers
// only format the get_*_info structs; marks carry trial numbers in data-t (see plots_html.hpp).

#include "hpt/reports/plots_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <future>
#include <iterator>

#include "hpt/reports/html_page.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/reports/model_view.hpp"
#include "hpt/reports/svg.hpp"
#include "hpt/reports/trial_model_view.hpp"

namespace hpt::reports {
namespace {

using Out = std::back_insert_iterator<std::string>;

// Opens the group of a plot's marks: data-t lists the trial number of each child mark.
void index_group(std::string& out, const std::vector<FrozenTrial>& trials,
                 const std::vector<int>& index, const char* cls) {
  out += "<g class=\"";
  out += cls;
  out += "\" data-t=\"";
  for (size_t i = 0; i < index.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += std::to_string(trials[static_cast<size_t>(index[i])].number);
  }
  out += "\">";
}

Axis to_axis(const ParamAxis& p) {
  Axis a;
  a.label = p.name;
  if (p.categorical) {
    a.categories = p.labels;
  } else {
    a.low = p.low;
    a.high = p.high;
    a.log = p.log;
  }
  return a;
}

Axis value_axis(const std::vector<double>& values, const std::string& label) {
  if (values.empty()) {
    Axis a;
    a.label = label;
    return a;
  }
  const auto range = std::minmax_element(values.begin(), values.end());
  if (*range.second > *range.first) {
    return padded_axis(*range.first, *range.second, label);
  }
  Axis a;  // One value: Frame pads it itself.
  a.label = label;
  a.low = a.high = *range.first;
  return a;
}

// Small deterministic horizontal jitter for dots on a categorical axis.
double jitter(int i) {
  return ((static_cast<unsigned>(i) * 2654435761U) % 1000U) / 1000.0 * 0.3 - 0.15;
}

// The ROC curve and the confusion matrix of the built-in trainer, when present.
void render_metrics(std::string& out, const std::optional<RocCurve>& roc,
                    const std::optional<std::vector<std::vector<double>>>& confusion) {
  out += "<div class=\"grid\">";
  if (roc && !roc->fpr.empty()) {
    Axis x;
    x.label = "false positive rate";
    Axis y;
    y.label = "true positive rate";
    Frame f(x, y, 420, 360);
    f.open(out, roc->auc ? "ROC curve (AUC " + format_number(*roc->auc) + ")" : "ROC curve");
    fmt::format_to(Out(out),
                   "<line class=\"grd\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>",
                   f.px(0), f.py(0), f.px(1), f.py(1));
    out += "<polyline class=\"best\" points=\"";
    for (size_t i = 0; i < roc->fpr.size(); ++i) {
      fmt::format_to(Out(out), "{:.1f},{:.1f} ", f.px(roc->fpr[i]), f.py(roc->tpr[i]));
    }
    out += "\"/>";
    Frame::close(out);
  }
  out += "</div>";
  constexpr size_t k_max_classes = 50;  // A table of more would not be read (1,000 x 1,000: 20 MB).
  if (confusion && confusion->size() > k_max_classes) {
    out += "<h3>Confusion matrix</h3>";
    append_note(out, fmt::format("{} classes: more than {} are not shown as a table.",
                                 confusion->size(), k_max_classes));
  } else if (confusion) {
    const auto& m = *confusion;
    out += "<h3>Confusion matrix</h3><table><tr><th>actual \\ predicted</th>";
    const bool binary = m.size() == 2;
    for (size_t j = 0; j < m.size(); ++j) {
      fmt::format_to(Out(out), "<th>{}</th>",
                     binary ? (j == 0 ? "different" : "same") : std::to_string(j));
    }
    out += "</tr>";
    for (size_t i = 0; i < m.size(); ++i) {
      fmt::format_to(Out(out), "<tr><th>{}</th>",
                     binary ? (i == 0 ? "different" : "same") : std::to_string(i));
      for (double v : m[i]) {
        fmt::format_to(Out(out), "<td class=\"n\">{}</td>", format_number(v));
      }
      out += "</tr>";
    }
    out += "</table>";
  }
}

// Opens the summary section: the study's name, direction(s), trial count and counts by state.
void summary_head(std::string& out, const SummaryInfo& s, const char* direction_key,
                  const std::string& direction) {
  fmt::format_to(Out(out),
                 "<section id=\"summary\"><h2>Summary</h2><table><tr><th>Study</th><td>{}</td></tr>"
                 "<tr><th>{}</th><td>{}</td></tr><tr><th>Trials</th><td>{}</td></tr>",
                 html_escape(s.study_name), direction_key, direction, s.n_trials);
  for (const auto& [state, count] : s.counts) {
    fmt::format_to(Out(out), "<tr><th>{}</th><td class=\"n\">{}</td></tr>", trial_state_name(state),
                   count);
  }
  out += "</table>";
  append_note(out, s.read_problems);  // Data left out of what follows.
}

void render_summary(std::string& out, const SummaryInfo& s) {
  summary_head(out, s, "Direction", direction_name(s.direction));
  if (!s.best_number) {
    append_note(out,
                "No COMPLETE trial with a finite value (and its constraints met) yet: there "
                "is no best trial.");
    out += "</section>";
    return;
  }
  fmt::format_to(Out(out),
                 "<h3>Best trial: #{} (value {})</h3><table><tr><th>Parameter</th><th>Value</th>"
                 "</tr>",
                 *s.best_number, format_number(*s.best_value));
  for (const auto& [name, v] : s.best_params.items()) {
    fmt::format_to(
        Out(out), "<tr><td>{}</td><td>{}</td></tr>", html_escape(name),
        html_escape(v.is_string() ? v.get<std::string>()
                                  : v.dump(-1, ' ', false, Json::error_handler_t::replace)));
  }
  out += "</table>";
  render_metrics(out, s.roc, s.confusion_matrix);
  out += "</section>";
}

// "<n> of the <total> trials violate their constraints (grey): <consequence>." when n > 0.
void append_infeasible_note(std::string& out, std::ptrdiff_t n, size_t total,
                            const char* consequence) {
  if (n > 0) {
    append_note(out, fmt::format("{} of the {} trials violate their constraints (grey): {}.", n,
                                 total, consequence));
  }
}

// One optimization-history plot: the trials' values and the best value so far.
void history_plot(std::string& out, const HistoryInfo& h, const std::vector<FrozenTrial>& trials,
                  const std::string& title, const std::string& value_label) {
  {
    std::vector<double> numbers;
    std::vector<double> values;
    std::vector<int> index;
    for (const auto& p : h.points) {
      numbers.push_back(p.number);
      values.push_back(p.value);
      index.push_back(p.index);
    }
    Axis x = value_axis(numbers, "trial number");
    Frame f(x, value_axis(values, value_label));
    f.open(out, title);
    out += "<polyline class=\"best\" points=\"";  // From the first feasible point on.
    for (size_t i = 0; i < h.points.size(); ++i) {
      if (std::isnan(h.points[i].best_so_far)) {
        continue;
      }
      if (i > 0 && !std::isnan(h.points[i - 1].best_so_far)) {
        fmt::format_to(Out(out), "{:.1f},{:.1f} ", f.px(numbers[i]),
                       f.py(h.points[i - 1].best_so_far));
      }
      fmt::format_to(Out(out), "{:.1f},{:.1f} ", f.px(numbers[i]), f.py(h.points[i].best_so_far));
    }
    out += "\"/>";
    index_group(out, trials, index, "pts");
    for (size_t i = 0; i < h.points.size(); ++i) {
      fmt::format_to(Out(out), "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\"{}/>", f.px(numbers[i]),
                     f.py(values[i]), h.points[i].feasible ? "" : " class=\"infeasible\"");
    }
    out += "</g>";
    Frame::close(out);
  }
}

void render_history(std::string& out, const HistoryInfo& h, Direction dir,
                    const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"history\"><h2>Optimization history</h2>";
  append_note(out, h.note);
  append_infeasible_note(out,
                         std::count_if(h.points.begin(), h.points.end(),
                                       [](const HistoryPoint& q) { return !q.feasible; }),
                         h.points.size(), "the best value (red line) counts only feasible ones");
  if (!h.points.empty()) {
    history_plot(out, h, trials,
                 std::string("Optimization history (") +
                     (dir == Direction::Minimize ? "minimize" : "maximize") + ")",
                 "objective value");
  }
  out += "</section>";
}

// One bar chart of importances, largest first; requires non-empty info.importances.
void importance_chart(std::string& out, const ImportanceInfo& info, const std::string& title) {
  {
    const double row = 22;
    const double height = 40 + row * info.importances.size();
    const double left = 180;
    const double width = 640;
    fmt::format_to(Out(out),
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" class=\"plot\" "
                   "role=\"img\"><title>{}</title><text class=\"ttl\" x=\"{}\" y=\"18\">{} "
                   "(fANOVA, {} trials)</text>",
                   width, height, title, width / 2, title, info.n_trials_used);
    for (size_t i = 0; i < info.importances.size(); ++i) {
      const auto& [name, v] = info.importances[i];
      const double y = 30 + row * i;
      const std::string label = shorten(name, 26);
      fmt::format_to(
          Out(out),
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>"
          "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>"
          "<text x=\"{:.1f}\" y=\"{:.1f}\">{:.1f}%</text>",
          left - 6, y + 14, html_escape(label), left, y + 3, (width - left - 70) * v, row - 6,
          left + (width - left - 70) * v + 4, y + 14, 100 * v);
    }
    out += "</svg>";
  }
}

void render_importance(std::string& out, const ImportanceInfo& info, const char* id,
                       const char* title) {
  fmt::format_to(Out(out), "<section id=\"{}\"><h2>{}</h2>", id, title);
  append_note(out, info.note);
  if (!info.importances.empty()) {
    importance_chart(out, info, title);
  }
  out += "</section>";
}

// Plot-space contour coordinate -> the axis's data coordinate (what Frame maps).
double from_plot(const ParamAxis& a, double t) {
  if (a.categorical) {
    return t * static_cast<double>(a.labels.size()) - 0.5;
  }
  if (a.log) {
    return std::pow(10.0, std::log10(a.low) + t * (std::log10(a.high) - std::log10(a.low)));
  }
  return a.high > a.low ? a.low + t * (a.high - a.low) : a.low - 1 + 2 * t;
}

Axis contour_axis(const ParamAxis& p) {
  Axis a = to_axis(p);
  if (!p.categorical && !(p.high > p.low)) {
    a.low = p.low - 1;
    a.high = p.low + 1;
    a.log = false;
  }
  return a;
}

void render_contour(std::string& out, const ContourInfo& c, Direction dir,
                    const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"contour\"><h2>Contour plots (most important parameter pairs)</h2>";
  append_note(out, c.note);
  out += "<div class=\"grid\">";
  for (const ContourPlot& p : c.plots) {
    ParamAxis xa = p.x_axis;
    ParamAxis ya = p.y_axis;
    if (!xa.categorical && !(xa.high > xa.low)) {
      xa.log = false;
    }
    if (!ya.categorical && !(ya.high > ya.low)) {
      ya.log = false;
    }
    Frame f(contour_axis(xa), contour_axis(ya), 520, 430);
    f.set_top(44);
    f.open(out, xa.name + " \u00d7 " + ya.name);
    // In halves: from -1.8e308 to 1.8e308 the span itself overflows (every cell one colour).
    const double span = p.z_high / 2 - p.z_low / 2;
    auto color = [&](double v) {
      double t = span > 0 ? (v / 2 - p.z_low / 2) / span : 0.5;
      return ramp_color(dir == Direction::Minimize ? 1 - t : t);
    };
    const double hx = 0.5 / p.grid_x.size();
    const double hy = 0.5 / p.grid_y.size();
    out += "<g>";
    for (size_t iy = 0; iy < p.grid_y.size(); ++iy) {
      const double y0 = f.py(from_plot(ya, p.grid_y[iy] + hy));
      const double y1 = f.py(from_plot(ya, p.grid_y[iy] - hy));
      for (size_t ix = 0; ix < p.grid_x.size(); ++ix) {
        const double x0 = f.px(from_plot(xa, p.grid_x[ix] - hx));
        const double x1 = f.px(from_plot(xa, p.grid_x[ix] + hx));
        fmt::format_to(Out(out),
                       "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"{}\"/>",
                       x0, y0, x1 - x0 + 0.3, y1 - y0 + 0.3, color(p.z[iy][ix]));
      }
    }
    out += "</g>";
    index_group(out, trials, p.index, "pts");
    for (size_t i = 0; i < p.x.size(); ++i) {
      fmt::format_to(Out(out), "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\"/>",
                     f.px(from_plot(xa, p.x[i])), f.py(from_plot(ya, p.y[i])));
    }
    out += "</g>";
    fmt::format_to(Out(out),
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">colour: worst {} \u2192 "
                   "best {}</text>",
                   f.right(), f.top() - 8,
                   format_number(dir == Direction::Minimize ? p.z_high : p.z_low),
                   format_number(dir == Direction::Minimize ? p.z_low : p.z_high));
    Frame::close(out);
  }
  out += "</div></section>";
}

// The slice plots of s, one per param, in a grid; value_label names the y axis.
void slice_grid(std::string& out, const SliceInfo& s, const std::vector<FrozenTrial>& trials,
                const std::string& value_label) {
  out += "<div class=\"grid\">";
  for (const SliceParam& p : s.params) {
    if (p.x.empty()) {
      continue;
    }
    Frame f(to_axis(p.axis), value_axis(p.y, value_label), 520, 320);
    f.open(out, p.axis.name);
    index_group(out, trials, p.index, "pts");
    for (size_t i = 0; i < p.x.size(); ++i) {
      const double x = p.axis.categorical ? p.x[i] + jitter(p.index[i]) : p.x[i];
      fmt::format_to(Out(out), "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\"/>", f.px(x),
                     f.py(p.y[i]));
    }
    out += "</g>";
    Frame::close(out);
  }
  out += "</div>";
}

void render_slice(std::string& out, const SliceInfo& s, const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"slice\"><h2>Slice plots</h2>";
  append_note(out, s.note);
  slice_grid(out, s, trials, "objective value");
  out += "</section>";
}

// A parallel-coordinates plot of p's lines (requires p.pos non-empty) titled name; stroke(l) is
// line l's colour; axis names are cut to label_chars.
void parallel_plot(std::string& out, const ParallelInfo& p, const std::vector<FrozenTrial>& trials,
                   const std::string& name, const std::function<std::string(size_t)>& stroke,
                   size_t label_chars = 18) {
  {
    const size_t n = p.axes.size();
    const double width = std::max(640.0, 110.0 * n);
    const double height = 380;
    const double top = 50;
    const double bottom = height - 40;
    const double left = 60;
    const double step = n > 1 ? (width - 2 * left) / (n - 1) : 0;
    auto ax = [&](size_t a) { return n > 1 ? left + step * a : width / 2; };
    auto ay = [&](double t) { return bottom - t * (bottom - top); };
    fmt::format_to(
        Out(out),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" class=\"plot wide\" "
        "role=\"img\"><title>{3}</title><text class=\"ttl\" x=\"{2}\" "
        "y=\"16\">{3}</text>",
        width, height, width / 2, html_escape(name));
    // A trial without an axis's parameter passes below that axis, at "(none)": a line straight
    // across it would read as a value there.
    const double none_y = bottom + 16;
    std::vector<bool> has_none(n, false);
    index_group(out, trials, p.index, "lines");
    for (size_t l = 0; l < p.pos.size(); ++l) {
      out += "<polyline stroke=\"" + stroke(l) + "\" points=\"";
      for (size_t a = 0; a < n; ++a) {
        const bool none = std::isnan(p.pos[l][a]);
        has_none[a] = has_none[a] || none;
        fmt::format_to(Out(out), "{:.1f},{:.1f} ", ax(a), none ? none_y : ay(p.pos[l][a]));
      }
      out += "\"/>";
    }
    out += "</g>";
    for (size_t a = 0; a < n; ++a) {
      if (has_none[a]) {
        fmt::format_to(Out(out), "<text class=\"tk\" x=\"{:.1f}\" y=\"{:.1f}\">(none)</text>",
                       ax(a) + 3, none_y + 4);
      }
    }
    for (size_t a = 0; a < n; ++a) {
      const ParamAxis& axis = p.axes[a];
      const std::string name = shorten(axis.name, label_chars);
      fmt::format_to(
          Out(out),
          "<line class=\"ax\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
          "<text class=\"lbl\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
          ax(a), top, bottom, top - 12, html_escape(name));
      std::vector<std::pair<double, std::string>> ticks;
      if (axis.categorical) {
        const size_t every = axis.labels.size() > 12 ? (axis.labels.size() + 11) / 12 : 1;
        for (size_t i = 0; i < axis.labels.size(); i += every) {
          ticks.emplace_back(axis_position(axis, static_cast<double>(i)),
                             shorten(axis.labels[i], 12));
        }
      } else {
        ticks.emplace_back(0.0, format_number(axis.low));
        ticks.emplace_back(1.0, format_number(axis.high));
        if (axis.high > axis.low) {
          const double mid =
              axis.log ? std::sqrt(axis.low * axis.high) : (axis.low + axis.high) / 2;
          ticks.emplace_back(0.5, format_number(mid));
        }
      }
      for (const auto& [t, label] : ticks) {
        fmt::format_to(Out(out), "<text class=\"tk\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
                       ax(a) + 3, ay(t) + 4, html_escape(label));
      }
    }
    out += "</svg>";
  }
}

void render_parallel(std::string& out, const ParallelInfo& p, Direction dir,
                     const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"parallel\"><h2>Parallel coordinates</h2>";
  append_note(out, p.note);
  if (!p.pos.empty()) {
    const auto [vlo, vhi] = std::minmax_element(p.value.begin(), p.value.end());
    const std::string title = fmt::format("Parallel coordinates ({} trials)", p.pos.size());
    parallel_plot(out, p, trials, title, [&, vlo = vlo, vhi = vhi](size_t l) {
      const double t = *vhi > *vlo ? (p.value[l] - *vlo) / (*vhi - *vlo) : 0.5;
      return ramp_color(dir == Direction::Minimize ? 1 - t : t);
    });
  }
  out += "</section>";
}

void render_intermediate(std::string& out, const IntermediateInfo& info,
                         const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"intermediate\"><h2>Intermediate values (learning curves)</h2>";
  append_note(out, info.note);
  if (!info.curves.empty()) {
    std::vector<double> steps;
    std::vector<double> values;
    std::vector<int> index;
    for (const auto& c : info.curves) {
      index.push_back(c.index);
      for (const auto& [s, v] : c.points) {
        steps.push_back(static_cast<double>(s));
        values.push_back(v);
      }
    }
    Frame f(value_axis(steps, "step"), value_axis(values, "intermediate value"));
    f.open(out, "Learning curves (dashed orange: pruned)");
    index_group(out, trials, index, "lines");
    for (const auto& c : info.curves) {
      const char* color = c.state == TrialState::Pruned     ? "#e67e22"
                          : c.state == TrialState::Complete ? "#3b6fb6"
                                                            : "#888";
      fmt::format_to(Out(out), "<polyline{} stroke=\"{}\" points=\"",
                     c.state == TrialState::Pruned ? " class=\"pr\"" : "", color);
      for (const auto& [s, v] : c.points) {
        fmt::format_to(Out(out), "{:.1f},{:.1f} ", f.px(static_cast<double>(s)), f.py(v));
      }
      if (c.points.size() == 1) {  // A one-point curve still shows as a short tick.
        fmt::format_to(Out(out), "{:.1f},{:.1f}", f.px(static_cast<double>(c.points[0].first)) + 2,
                       f.py(c.points[0].second));
      }
      out += "\"/>";
    }
    out += "</g>";
    Frame::close(out);
  }
  out += "</section>";
}

void render_edf(std::string& out, const EdfInfo& e) {
  out += "<section id=\"edf\"><h2>Empirical distribution of objective values</h2>";
  append_note(out, e.note);
  if (!e.values.empty()) {
    Axis y;
    y.label = "cumulative probability";
    Frame f(value_axis(e.values, "objective value"), y);
    f.open(out, "Empirical distribution function");
    const double n = static_cast<double>(e.values.size());
    fmt::format_to(Out(out), "<path class=\"best\" d=\"M{:.1f},{:.1f}", f.left(), f.py(0));
    for (size_t i = 0; i < e.values.size(); ++i) {
      if (i + 1 < e.values.size() && e.values[i + 1] == e.values[i]) {
        continue;
      }
      fmt::format_to(Out(out), "H{:.1f}V{:.1f}", f.px(e.values[i]), f.py((i + 1) / n));
    }
    fmt::format_to(Out(out), "H{:.1f}\"/>", f.right());
    Frame::close(out);
  }
  out += "</section>";
}

// When each trial ran (Optuna's plot_timeline): one bar per trial, its row its number, its
// colour its state (report.css .bars .s-<state>).
void render_timeline(std::string& out, const TimelineInfo& t,
                     const std::vector<FrozenTrial>& trials) {
  out += "<section id=\"timeline\"><h2>Timeline</h2>";
  append_note(out, t.note);
  if (!t.bars.empty()) {
    const auto [unit, unit_name] = t.span > 7200  ? std::pair(3600.0, "h")
                                   : t.span > 120 ? std::pair(60.0, "min")
                                                  : std::pair(1.0, "s");
    Axis x;
    x.label = fmt::format("time since the first trial started ({})", unit_name);
    x.high = std::max(t.span / unit, 1e-9);
    std::vector<double> numbers;
    std::vector<int> index;
    for (const auto& b : t.bars) {
      numbers.push_back(trials[static_cast<size_t>(b.index)].number);
      index.push_back(b.index);
    }
    const double height = std::clamp(100.0 + 4.0 * t.bars.size(), 240.0, 640.0);
    Frame f(x, value_axis(numbers, "trial number"), 640, height);
    f.open(out, "Timeline (COMPLETE blue, PRUNED orange, FAIL red, RUNNING green)");
    const double width =
        std::clamp((f.bottom() - f.top()) / static_cast<double>(t.bars.size()) * 0.8, 1.0, 8.0);
    index_group(out, trials, index, "bars");
    for (size_t i = 0; i < t.bars.size(); ++i) {
      const TimelineBar& b = t.bars[i];
      std::string state = trial_state_name(b.state);
      std::transform(state.begin(), state.end(), state.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      // A bar shorter than a pixel still shows: its line is drawn at least 1.5 px long.
      const double x1 = f.px(b.start / unit);
      const double x2 = std::max(f.px(b.end / unit), x1 + 1.5);
      fmt::format_to(Out(out),
                     "<line class=\"s-{}\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
                     "y2=\"{:.1f}\" stroke-width=\"{:.1f}\"/>",
                     state, x1, f.py(numbers[i]), x2, f.py(numbers[i]), width);
    }
    out += "</g>";
    Frame::close(out);
  }
  out += "</section>";
}

// ---- multi-objective studies ----------------------------------------------------------------

// The Pareto front's trial numbers, comma-separated (the section's data-front: the trials
// table marks them).
std::string front_numbers(const ParetoInfo& p, const std::vector<FrozenTrial>& trials) {
  std::string out;
  for (int i : p.front) {
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(trials[static_cast<size_t>(p.index[static_cast<size_t>(i)])].number);
  }
  return out;
}

// Summary of a multi-objective study: counts by state and the trials on the Pareto front.
void render_mo_summary(std::string& out, const SummaryInfo& s, const ParetoInfo& p,
                       const std::vector<FrozenTrial>& trials) {
  std::string directions;
  for (size_t k = 0; k < p.directions.size(); ++k) {
    directions += (k > 0 ? ", " : "") + direction_name(p.directions[k]);
  }
  summary_head(out, s, "Directions", directions);
  if (p.front.empty()) {
    append_note(out, p.note.empty() ? "No Pareto front yet." : p.note);
    out += "</section>";
    return;
  }
  constexpr size_t k_max_rows = 200;
  fmt::format_to(Out(out), "<h3>Pareto front: {} trial{}</h3><table><tr><th>#</th>", p.front.size(),
                 p.front.size() == 1 ? "" : "s");
  for (const std::string& label : p.labels) {
    fmt::format_to(Out(out), "<th>{}</th>", html_escape(label));
  }
  out += "<th>parameters</th></tr>";
  for (size_t r = 0; r < p.front.size() && r < k_max_rows; ++r) {
    const size_t point = static_cast<size_t>(p.front[r]);
    const FrozenTrial& t = trials[static_cast<size_t>(p.index[point])];
    fmt::format_to(Out(out), "<tr><td class=\"n\">{}</td>", t.number);
    for (double v : p.values[point]) {
      fmt::format_to(Out(out), "<td class=\"n\">{}</td>", format_number(v));
    }
    fmt::format_to(
        Out(out), "<td>{}</td></tr>",
        html_escape(shorten(
            t.external_params().dump(-1, ' ', false, Json::error_handler_t::replace), 300)));
  }
  out += "</table>";
  if (p.front.size() > k_max_rows) {
    append_note(out, fmt::format("The first {} of {} trials on the front (by objective 0); the "
                                 "trials table marks them all.",
                                 k_max_rows, p.front.size()));
  }
  if (p.n_excluded > 0) {
    append_note(out, p.note);
  }
  out += "</section>";
}

// The Pareto front: a scatter of every usable trial with the front highlighted and joined
// (2 objectives), or parallel coordinates over the objectives with the front on top (3+).
// Two objectives: a scatter of every trial, the front's line and marks on top.
void render_pareto_scatter(std::string& out, const ParetoInfo& p,
                           const std::vector<FrozenTrial>& trials, const std::string& title) {
  std::vector<double> xs;
  std::vector<double> ys;
  std::vector<int> others;
  for (size_t i = 0; i < p.values.size(); ++i) {
    xs.push_back(p.values[i][0]);
    ys.push_back(p.values[i][1]);
    if (!p.on_front[i]) {
      others.push_back(static_cast<int>(i));
    }
  }
  Frame f(value_axis(xs, p.labels[0]), value_axis(ys, p.labels[1]), 640, 440);
  f.open(out, title);
  out += "<polyline class=\"front-line\" points=\"";
  for (int i : p.front) {
    fmt::format_to(Out(out), "{:.1f},{:.1f} ", f.px(xs[i]), f.py(ys[i]));
  }
  out += "\"/>";
  // Two groups of marks: dominated trials, then the front on top.
  const std::vector<int>* groups[] = {&others, &p.front};
  for (const std::vector<int>* group : groups) {
    std::vector<int> index;
    for (int i : *group) {
      index.push_back(p.index[static_cast<size_t>(i)]);
    }
    const bool is_front = group == &p.front;
    index_group(out, trials, index, is_front ? "pts front" : "pts");
    for (int i : *group) {
      fmt::format_to(Out(out), "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"{}/>", f.px(xs[i]),
                     f.py(ys[i]), is_front ? "4.5" : "3",
                     p.feasible[static_cast<size_t>(i)] ? "" : " class=\"infeasible\"");
    }
    out += "</g>";
  }
  Frame::close(out);
}

// Three or more objectives: one axis per objective over its range, dominated lines first.
void render_pareto_parallel(std::string& out, const ParetoInfo& p,
                            const std::vector<FrozenTrial>& trials, const std::string& title) {
  const size_t k = p.directions.size();
  ParallelInfo par;
  for (size_t a = 0; a < k; ++a) {
    ParamAxis axis;
    axis.name = p.labels[a];
    axis.low = axis.high = p.values[0][a];
    for (const auto& v : p.values) {
      axis.low = std::min(axis.low, v[a]);
      axis.high = std::max(axis.high, v[a]);
    }
    par.axes.push_back(axis);
  }
  std::vector<size_t> order;
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (!p.on_front[i]) {
      order.push_back(i);
    }
  }
  for (int i : p.front) {
    order.push_back(static_cast<size_t>(i));
  }
  for (size_t i : order) {
    std::vector<double> pos;
    for (size_t a = 0; a < k; ++a) {
      pos.push_back(axis_position(par.axes[a], p.values[i][a]));
    }
    par.pos.push_back(std::move(pos));
    par.value.push_back(p.on_front[i] ? 1.0 : 0.0);
    par.index.push_back(p.index[i]);
  }
  parallel_plot(
      out, par, trials, title,
      [&par](size_t l) { return std::string(par.value[l] > 0 ? "#d62728" : "#9aa7b8"); }, 24);
}

void render_pareto(std::string& out, const ParetoInfo& p, const std::vector<FrozenTrial>& trials) {
  fmt::format_to(Out(out), "<section id=\"pareto\" data-front=\"{}\"><h2>Pareto front</h2>",
                 front_numbers(p, trials));
  append_note(out, p.note);
  append_infeasible_note(out, std::count(p.feasible.begin(), p.feasible.end(), false),
                         p.feasible.size(), "they are never on the front");
  if (!p.values.empty()) {
    const std::string title =
        fmt::format("Pareto front ({} of {} trials, red)", p.front.size(), p.values.size());
    (p.directions.size() == 2 ? render_pareto_scatter : render_pareto_parallel)(out, p, trials,
                                                                                title);
  }
  out += "</section>";
}

// The history, importance and slice sections with one plot (or grid) per objective.
void render_mo_objectives(std::string& out, const StudyInfo& study,
                          const std::vector<std::vector<FrozenTrial>>& by_objective,
                          const StudyImportances* importances) {
  const auto& dirs = study.directions;
  out +=
      "<section id=\"history\"><h2>Optimization history (per objective)</h2><div class=\"grid\">";
  for (size_t k = 0; k < dirs.size(); ++k) {
    const std::string label = objective_label(k, dirs[k]);
    const HistoryInfo h = get_history_info(by_objective[k], dirs[k]);
    if (h.points.empty()) {
      append_note(out, label + ": " + h.note);
    } else {
      history_plot(out, h, by_objective[k], "Optimization history: " + label, label);
    }
  }
  out += "</div></section><section id=\"importance\"><h2>Parameter importance (per objective)</h2>";
  if (!importances) {
    append_note(out, "Computing the fANOVA importances\u2026");
  }
  for (size_t k = 0; importances && k < dirs.size(); ++k) {
    const std::string label = objective_label(k, dirs[k]);
    if (k >= importances->objectives.size()) {
      append_note(out, label + ": not computed.");
      continue;
    }
    const ImportanceInfo& info = importances->objectives[k];
    if (!info.note.empty()) {
      append_note(out, label + ": " + info.note);
    }
    if (!info.importances.empty()) {
      importance_chart(out, info, "Importance for " + label);
    }
  }
  out += "</section><section id=\"slice\"><h2>Slice plots (per objective)</h2>";
  for (size_t k = 0; k < dirs.size(); ++k) {
    const std::string label = objective_label(k, dirs[k]);
    const SliceInfo slice =
        get_slice_info(by_objective[k], importances && k < importances->objectives.size()
                                            ? ranked_names(importances->objectives[k])
                                            : std::vector<std::string>{});
    fmt::format_to(Out(out),
                   "<details class=\"objective\" data-objective=\"{}\"{}><summary>{}</summary>", k,
                   k == 0 ? " open" : "", html_escape(label));
    append_note(out, slice.note);
    slice_grid(out, slice, by_objective[k], label);
    out += "</details>";
  }
  out += "</section>";
}

// Every section of a multi-objective study.
std::string render_mo_sections(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                               const StudyImportances* importances) {
  const ParetoInfo pareto = get_pareto_info(trials, study.directions);
  std::vector<std::vector<FrozenTrial>> by_objective;
  for (size_t k = 0; k < study.directions.size(); ++k) {
    by_objective.push_back(objective_trials(trials, k));
  }
  std::string out;
  out.reserve(1 << 20);
  render_mo_summary(out, get_summary_info(study.name, study.direction(), trials), pareto, trials);
  render_pareto(out, pareto, trials);
  render_mo_objectives(out, study, by_objective, importances);
  if (importances) {
    render_importance(out, importances->duration, "duration-importance", "Duration importance");
  } else {
    ImportanceInfo pending;
    pending.note = "Computing the fANOVA importances\u2026";
    render_importance(out, pending, "duration-importance", "Duration importance");
  }
  render_intermediate(out, get_intermediate_info(trials, study.direction()), trials);
  render_timeline(out, get_timeline_info(trials, Clock::now()), trials);
  return out;
}

}  // namespace

std::string render_plot_sections(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                                 const TrialFolders& where) {
  const StudyImportances importances = get_study_importances(trials, study.directions);
  return render_plot_sections(study, trials, &importances, where);
}

std::string render_plot_sections(const StudyInfo& study, const std::vector<FrozenTrial>& trials,
                                 const StudyImportances* importances, const TrialFolders& where) {
  if (study.is_multi_objective()) {
    return render_mo_sections(study, trials, importances);
  }
  const Direction dir = study.direction();
  const SummaryInfo summary = get_summary_info(study.name, dir, trials);
  const std::vector<std::string> ranked =
      importances ? ranked_names(importances->value) : quick_param_ranking(trials);
  // The three largest plots are drawn on their own threads, the rest on this one.
  auto section = [&trials](auto draw) {
    return std::async(std::launch::async, [draw, &trials] {
      std::string s;
      draw(s, trials);
      return s;
    });
  };
  auto contour = section([&ranked, dir](std::string& s, const std::vector<FrozenTrial>& t) {
    render_contour(s, get_contour_info(t, ranked), dir, t);
  });
  auto slice = section([&ranked](std::string& s, const std::vector<FrozenTrial>& t) {
    render_slice(s, get_slice_info(t, ranked), t);
  });
  auto parallel = section([&ranked, dir](std::string& s, const std::vector<FrozenTrial>& t) {
    render_parallel(s, get_parallel_info(t, dir, ranked), dir, t);
  });
  std::string out;
  out.reserve(1 << 20);
  render_summary(out, summary);
  if (summary.best_index) {
    if (auto view =
            load_trial_model_view(trials[static_cast<size_t>(*summary.best_index)], where)) {
      out += render_model_view(
          *view, fmt::format("What the model learned (best trial #{})", *summary.best_number));
    }
  }
  render_history(out, get_history_info(trials, dir), dir, trials);
  if (importances) {
    render_importance(out, importances->value, "importance", "Parameter importance");
    render_importance(out, importances->duration, "duration-importance", "Duration importance");
  } else {
    ImportanceInfo pending;
    pending.note =
        "Computing the fANOVA importances\u2026 (the contour plots below show the "
        "pairs of the params whose value means differ most meanwhile)";
    render_importance(out, pending, "importance", "Parameter importance");
    pending.note = "Computing the fANOVA importances\u2026";
    render_importance(out, pending, "duration-importance", "Duration importance");
  }
  std::string rest;
  render_intermediate(rest, get_intermediate_info(trials, dir), trials);
  render_edf(rest, get_edf_info(trials));
  render_timeline(rest, get_timeline_info(trials, Clock::now()), trials);
  out += contour.get();
  out += slice.get();
  out += parallel.get();
  out += rest;
  return out;
}

std::string render_trial_metrics(const FrozenTrial& trial) {
  std::string out;
  render_metrics(out, get_trial_roc(trial), get_trial_confusion(trial));
  return out == "<div class=\"grid\"></div>" ? std::string() : out;
}

std::string render_trial_curve(const FrozenTrial& trial) {
  const std::vector<FrozenTrial> one{trial};
  std::string out;
  render_intermediate(out, get_intermediate_info(one, Direction::Minimize, 1, 2000), one);
  return out;
}

Json page_number(double v) {
  if (std::isfinite(v)) {
    return v;
  }
  return std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

Json trial_row_json(const TrialRow& row) {
  auto number = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? Json(*v) : Json();
  };
  Json j{{"number", row.number},
         {"state", trial_state_name(row.state)},
         {"value", row.value ? page_number(*row.value) : Json()},
         {"duration",
          number(row.duration ? std::optional<double>(std::round(*row.duration * 1000) / 1000)
                              : std::nullopt)},
         {"params", row.params},
         {"attrs", row.attrs}};
  if (!row.values.empty()) {
    Json values = Json::array();
    for (double v : row.values) {
      values.push_back(page_number(v));
    }
    j["values"] = std::move(values);
  }
  return j;
}

}  // namespace hpt::reports
