#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "hpt/reports/info.hpp"

namespace hpt::reports {
namespace {

constexpr int k_neighbours = 8;
// The most choices a categorical contour axis draws (a cell per pair of choices).
constexpr size_t k_max_choices = 100;

// Plot space of a contour axis: numeric as axis_position, category i of n at (i + 0.5) / n.
double contour_position(const ParamAxis& axis, double x) {
  if (axis.categorical) {
    return (x + 0.5) / static_cast<double>(axis.labels.size());
  }
  return axis_position(axis, x);
}

// A categorical axis keeps the choices the plotted trials took, in order, as Optuna's contour
// does (a choice no trial took has no value of its own to draw, and two 5,000-choice
// parameters made 25 million cells); coords (label indices) are renumbered to match.
void keep_taken_choices(ParamAxis& axis, std::vector<double>& coords) {
  if (!axis.categorical) {
    return;
  }
  std::set<double> taken(coords.begin(), coords.end());
  std::vector<std::string> labels;
  std::vector<std::string> keys;
  std::map<double, double> renumbered;
  for (double index : taken) {
    renumbered[index] = static_cast<double>(labels.size());
    labels.push_back(axis.labels[static_cast<size_t>(index)]);
    if (!axis.keys.empty()) {
      keys.push_back(axis.keys[static_cast<size_t>(index)]);
    }
  }
  axis.labels = std::move(labels);
  axis.keys = std::move(keys);
  for (double& c : coords) {
    c = renumbered.at(c);
  }
}

std::vector<double> grid_centres(const ParamAxis& axis, int grid_size) {
  const int n = axis.categorical ? static_cast<int>(axis.labels.size()) : grid_size;
  std::vector<double> c;
  for (int k = 0; k < n; ++k) {
    c.push_back((k + 0.5) / n);
  }
  return c;
}

// Requires: xs, ys, vs of equal non-zero size. Ensures: the inverse-squared-distance mean of
// the k_neighbours nearest values (the value itself where a trial sits on the point).
double interpolate(double gx, double gy, const std::vector<double>& xs,
                   const std::vector<double>& ys, const std::vector<double>& vs) {
  std::array<std::pair<double, double>, k_neighbours> near;  // (d^2, value), ascending.
  size_t count = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double d2 = (xs[i] - gx) * (xs[i] - gx) + (ys[i] - gy) * (ys[i] - gy);
    if (count == near.size() && d2 >= near[count - 1].first) {
      continue;
    }
    size_t pos = count < near.size() ? count++ : count - 1;
    while (pos > 0 && near[pos - 1].first > d2) {
      near[pos] = near[pos - 1];
      --pos;
    }
    near[pos] = {d2, vs[i]};
  }
  // Weights summed first, so that each value counts by a share of at most 1: values near the
  // largest double (a failure penalty of sys.float_info.max) overflowed w_k * v to inf. The
  // mean lies within its values (rounding could step past the largest double).
  double w = 0.0;
  double low = near[0].second;
  double high = near[0].second;
  for (size_t k = 0; k < count; ++k) {
    w += 1.0 / (near[k].first + 1e-12);
    low = std::min(low, near[k].second);
    high = std::max(high, near[k].second);
  }
  double s = 0.0;
  for (size_t k = 0; k < count; ++k) {
    s += (1.0 / (near[k].first + 1e-12)) / w * near[k].second;
  }
  return std::clamp(s, low, high);
}

}  // namespace

ContourInfo get_contour_info(const std::vector<FrozenTrial>& trials,
                             const std::vector<std::string>& ranked, int top_params,
                             int grid_size) {
  ContourInfo info;
  const std::vector<int> idx = complete_indices(trials);
  std::vector<std::string> names = ranked_params(param_names(trials, idx), {&ranked});
  if (static_cast<int>(names.size()) > top_params) {
    names.resize(static_cast<size_t>(std::max(top_params, 0)));
  }
  if (names.size() < 2) {
    info.note = idx.size() < 2 ? "Not enough trials: contour plots need 2 COMPLETE trials."
                               : "Contour plots need at least 2 parameters.";
    return info;
  }
  std::vector<std::string> too_many;  // Pairs not drawn: a categorical of too many choices.
  for (size_t a = 0; a < names.size(); ++a) {
    for (size_t b = a + 1; b < names.size(); ++b) {
      ContourPlot plot;
      plot.x_axis = make_param_axis(trials, idx, names[a]);
      plot.y_axis = make_param_axis(trials, idx, names[b]);
      std::vector<double> xs;
      std::vector<double> ys;
      for (int i : idx) {
        const double x = axis_value(plot.x_axis, trials[i]);
        const double y = axis_value(plot.y_axis, trials[i]);
        if (std::isnan(x) || std::isnan(y) || (plot.x_axis.categorical && x < 0) ||
            (plot.y_axis.categorical && y < 0)) {
          continue;
        }
        xs.push_back(x);
        ys.push_back(y);
        plot.value.push_back(*trials[i].value);
        plot.index.push_back(i);
      }
      if (plot.value.size() < 2) {
        continue;
      }
      keep_taken_choices(plot.x_axis, xs);
      keep_taken_choices(plot.y_axis, ys);
      if (plot.x_axis.labels.size() > k_max_choices || plot.y_axis.labels.size() > k_max_choices) {
        too_many.push_back(names[a] + " x " + names[b]);
        continue;
      }
      for (size_t k = 0; k < xs.size(); ++k) {
        plot.x.push_back(contour_position(plot.x_axis, xs[k]));
        plot.y.push_back(contour_position(plot.y_axis, ys[k]));
      }
      plot.z_low = *std::min_element(plot.value.begin(), plot.value.end());
      plot.z_high = *std::max_element(plot.value.begin(), plot.value.end());
      plot.grid_x = grid_centres(plot.x_axis, grid_size);
      plot.grid_y = grid_centres(plot.y_axis, grid_size);
      for (double gy : plot.grid_y) {
        std::vector<double> row;
        row.reserve(plot.grid_x.size());
        for (double gx : plot.grid_x) {
          row.push_back(interpolate(gx, gy, plot.x, plot.y, plot.value));
        }
        plot.z.push_back(std::move(row));
      }
      info.plots.push_back(std::move(plot));
    }
  }
  if (!too_many.empty()) {
    info.note = fmt::format(
        "Not drawn: {} (a categorical parameter whose trials took more than {} choices: a cell "
        "per pair of choices would not fit a page).",
        fmt::join(too_many, ", "), k_max_choices);
  } else if (info.plots.empty()) {
    info.note = "Not enough trials: no 2 COMPLETE trials share a pair of parameters.";
  }
  return info;
}

}  // namespace hpt::reports
