// fANOVA importances (Optuna's _fanova/_tree.py), computed over each tree's leaf boxes:
// the marginal of a group of columns is piecewise constant on the grid of that tree's split
// values, so every leaf adds value * (its volume outside the group) to a box of grid cells,
// done with a multi-dimensional difference array instead of one tree walk per cell. A
// categorical's one-hot columns would make that grid 2^splits cells, so past a budget its
// marginal variance comes from pairs of leaf boxes instead (same value, no enumeration).

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>

#include "hpt/tuner/importance.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt {
namespace {

struct Leaf {
  double value;
  double volume;            // Product of box widths as fractions of the bounds.
  std::vector<double> low;  // Box per column.
  std::vector<double> high;
};

std::vector<Leaf> leaf_boxes(const RegressionTree& tree,
                             const std::vector<std::pair<double, double>>& bounds) {
  const size_t d = bounds.size();
  std::vector<Leaf> leaves;
  struct Item {
    int node;
    std::vector<double> low;
    std::vector<double> high;
  };
  std::vector<Item> stack;
  Item root{0, std::vector<double>(d), std::vector<double>(d)};
  for (size_t c = 0; c < d; ++c) {
    root.low[c] = bounds[c].first;
    root.high[c] = bounds[c].second;
  }
  stack.push_back(std::move(root));
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    const int f = tree.feature[item.node];
    if (f < 0) {
      double volume = 1.0;
      for (size_t c = 0; c < d; ++c) {
        const double range = bounds[c].second - bounds[c].first;
        volume *= range > 0.0 ? (item.high[c] - item.low[c]) / range : 1.0;
      }
      leaves.push_back({tree.value[item.node], volume, std::move(item.low), std::move(item.high)});
      continue;
    }
    const double t = std::clamp(tree.threshold[item.node], bounds[f].first, bounds[f].second);
    Item right{tree.right[item.node], item.low, item.high};
    right.low[f] = std::max(right.low[f], t);
    item.high[f] = std::min(item.high[f], t);
    item.node = tree.left[item.node];
    stack.push_back(std::move(right));
    stack.push_back(std::move(item));
  }
  return leaves;
}

// The weighted mean of values (0 when the weights sum to 0).
double weighted_mean(const std::vector<double>& values, const std::vector<double>& weights) {
  double w_sum = 0.0;
  double mean = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    w_sum += weights[i];
    mean += weights[i] * values[i];
  }
  return w_sum > 0.0 ? mean / w_sum : 0.0;
}

double weighted_variance(const std::vector<double>& values, const std::vector<double>& weights) {
  double w_sum = 0.0;
  for (double w : weights) {
    w_sum += w;
  }
  if (w_sum <= 0.0) {
    return 0.0;
  }
  const double mean = weighted_mean(values, weights);
  double var = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    var += weights[i] * (values[i] - mean) * (values[i] - mean);
  }
  return std::max(0.0, var / w_sum);
}

double width_fraction(const Leaf& leaf, int c,
                      const std::vector<std::pair<double, double>>& bounds) {
  const double range = bounds[c].second - bounds[c].first;
  return range > 0.0 ? (leaf.high[c] - leaf.low[c]) / range : 1.0;
}

// The group's marginal as a sum of boxes: f(x) = sum_a coefficient_a * [x in box_a], where
// box_a is leaf a's box over the group's columns, kept sparse (only the columns it narrows).
struct GroupBox {
  std::vector<std::tuple<int, double, double>> narrowed;  // (column, low, high), by column.
  double fraction = 1.0;                                  // Its share of the group's box.
  double coefficient = 0.0;
};

// The fraction of the group's box inside both a and b.
double overlap_fraction(const GroupBox& a, const GroupBox& b,
                        const std::vector<std::pair<double, double>>& bounds) {
  double f = 1.0;
  size_t i = 0;
  size_t j = 0;
  auto fraction = [&](int c, double low, double high) {
    const double range = bounds[c].second - bounds[c].first;
    return range > 0.0 ? std::max(0.0, high - low) / range : 1.0;
  };
  while ((i < a.narrowed.size() || j < b.narrowed.size()) && f > 0.0) {
    const int ca = i < a.narrowed.size() ? std::get<0>(a.narrowed[i]) : INT_MAX;
    const int cb = j < b.narrowed.size() ? std::get<0>(b.narrowed[j]) : INT_MAX;
    if (ca == cb) {
      f *= fraction(ca, std::max(std::get<1>(a.narrowed[i]), std::get<1>(b.narrowed[j])),
                    std::min(std::get<2>(a.narrowed[i]), std::get<2>(b.narrowed[j])));
      ++i;
      ++j;
    } else if (ca < cb) {
      f *= fraction(ca, std::get<1>(a.narrowed[i]), std::get<2>(a.narrowed[i]));
      ++i;
    } else {
      f *= fraction(cb, std::get<1>(b.narrowed[j]), std::get<2>(b.narrowed[j]));
      ++j;
    }
  }
  return f;
}

// Requires: leaves partition the box; mean is their volume-weighted mean. Ensures: the variance
// of the group's marginal, exactly as the grid method computes it, from pairs of the leaves'
// distinct group boxes: Var = sum_ab c_a c_b |box_a & box_b| with values centred on the mean
// (the boxes of the leaves over any point x outside the group partition it, so centring the
// values centres f). Costs O(boxes^2 * depth), whatever the number of columns in the group.
double pairwise_marginal_variance(const std::vector<Leaf>& leaves, const std::vector<int>& group,
                                  const std::vector<std::pair<double, double>>& bounds,
                                  double mean) {
  std::map<std::vector<std::tuple<int, double, double>>, size_t> index;
  std::vector<GroupBox> boxes;
  for (const Leaf& leaf : leaves) {
    GroupBox box;
    for (int c : group) {
      const double fraction = width_fraction(leaf, c, bounds);
      if (leaf.low[c] > bounds[c].first || leaf.high[c] < bounds[c].second) {
        box.narrowed.emplace_back(c, leaf.low[c], leaf.high[c]);
      }
      box.fraction *= fraction;
    }
    if (box.fraction <= 0.0) {
      continue;
    }
    const double coefficient = (leaf.value - mean) * leaf.volume / box.fraction;
    auto [it, inserted] = index.emplace(box.narrowed, boxes.size());
    if (inserted) {
      boxes.push_back(std::move(box));
    }
    boxes[it->second].coefficient += coefficient;
  }
  double variance = 0.0;
  for (size_t a = 0; a < boxes.size(); ++a) {
    variance += boxes[a].coefficient * boxes[a].coefficient * boxes[a].fraction;
    for (size_t b = a + 1; b < boxes.size(); ++b) {
      variance += 2.0 * boxes[a].coefficient * boxes[b].coefficient *
                  overlap_fraction(boxes[a], boxes[b], bounds);
    }
  }
  return std::max(0.0, variance);
}

// Requires: leaves partition the box. Ensures: the variance of the group's marginal over the
// product grid of the tree's split values (edges[c]) for the group's columns (Optuna's
// midpoints). A group of several columns (a categorical's one-hot columns) whose grid has
// more than max_grid_cells cells goes to pairwise_marginal_variance instead, which gives the
// same value without enumerating the grid (2^splits cells).
double marginal_variance(const std::vector<Leaf>& leaves, const std::vector<int>& group,
                         const std::vector<std::vector<double>>& edges,
                         const std::vector<std::pair<double, double>>& bounds, double mean,
                         size_t max_grid_cells) {
  // Columns the tree never splits have one cell and change nothing: leave them out.
  std::vector<int> split;
  size_t cells = 1;
  for (int c : group) {
    if (edges[c].size() > 2) {
      split.push_back(c);
      cells = edges[c].size() - 1 > max_grid_cells / cells ? max_grid_cells + 1
                                                           : cells * (edges[c].size() - 1);
    }
  }
  if (split.empty()) {
    return 0.0;
  }
  if (split.size() > 1 && cells > max_grid_cells) {
    return pairwise_marginal_variance(leaves, split, bounds, mean);
  }
  const size_t k = split.size();
  cells = 1;
  for (int c : split) {
    cells *= edges[c].size() - 1;  // One column, or at most max_grid_cells in all.
  }

  // Difference arrays over the (m_c + 1)-sized grid; strides in that grid.
  std::vector<size_t> dims(k);
  std::vector<size_t> strides(k);
  size_t total = 1;
  for (size_t j = 0; j < k; ++j) {
    dims[j] = edges[split[j]].size() - 1;
    strides[j] = total;
    total *= dims[j] + 1;
  }
  std::vector<double> sum_grid(total, 0.0);
  std::vector<double> weight_grid(total, 0.0);
  std::vector<size_t> lo(k);
  std::vector<size_t> hi(k);
  for (const Leaf& leaf : leaves) {
    double group_width = 1.0;
    bool empty = false;
    for (size_t j = 0; j < k; ++j) {
      const int c = split[j];
      const auto& e = edges[c];
      lo[j] = static_cast<size_t>(std::lower_bound(e.begin(), e.end(), leaf.low[c]) - e.begin());
      hi[j] = static_cast<size_t>(std::lower_bound(e.begin(), e.end(), leaf.high[c]) - e.begin());
      group_width *= width_fraction(leaf, c, bounds);
      empty = empty || hi[j] <= lo[j];
    }
    if (empty || group_width <= 0.0) {
      continue;
    }
    const double w = leaf.volume / group_width;
    for (size_t mask = 0; mask < (size_t{1} << k); ++mask) {
      size_t index = 0;
      bool negative = false;
      for (size_t j = 0; j < k; ++j) {
        const bool upper = (mask >> j) & 1U;
        index += (upper ? hi[j] : lo[j]) * strides[j];
        negative ^= upper;
      }
      sum_grid[index] += negative ? -w * leaf.value : w * leaf.value;
      weight_grid[index] += negative ? -w : w;
    }
  }
  for (size_t j = 0; j < k; ++j) {
    for (size_t i = 0; i < total; ++i) {
      if ((i / strides[j]) % (dims[j] + 1) != 0) {
        sum_grid[i] += sum_grid[i - strides[j]];
        weight_grid[i] += weight_grid[i - strides[j]];
      }
    }
  }
  std::vector<double> values;
  std::vector<double> weights;
  values.reserve(cells);
  weights.reserve(cells);
  std::vector<size_t> cell(k, 0);
  for (size_t n = 0; n < cells; ++n) {
    size_t index = 0;
    double size = 1.0;
    for (size_t j = 0; j < k; ++j) {
      const auto& e = edges[split[j]];
      const double range = bounds[split[j]].second - bounds[split[j]].first;
      index += cell[j] * strides[j];
      size *= range > 0.0 ? (e[cell[j] + 1] - e[cell[j]]) / range : 1.0;
    }
    const double w = weight_grid[index];
    if (w > 1e-300 && size > 0.0) {
      values.push_back(sum_grid[index] / w);
      weights.push_back(w * size);
    }
    for (size_t j = 0; j < k; ++j) {
      if (++cell[j] < dims[j]) {
        break;
      }
      cell[j] = 0;
    }
  }
  return weighted_variance(values, weights);
}

bool is_finite_number(const std::optional<double>& v) { return v && std::isfinite(*v); }

}  // namespace

std::string importance_target_name(ImportanceTarget t) {
  return t == ImportanceTarget::Duration ? "duration" : "value";
}

ImportanceTarget importance_target_from_name(const std::string& name) {
  if (name == "value") {
    return ImportanceTarget::Value;
  }
  if (name == "duration") {
    return ImportanceTarget::Duration;
  }
  throw std::invalid_argument("importance target must be 'value' or 'duration', but got '" + name +
                              "'");
}

std::vector<double> fanova_fractions(const std::vector<RegressionTree>& forest,
                                     const std::vector<std::pair<double, double>>& bounds,
                                     const std::vector<std::vector<int>>& groups,
                                     size_t max_grid_cells) {
  std::vector<double> sums(groups.size(), 0.0);
  int used_trees = 0;
  for (const RegressionTree& tree : forest) {
    const std::vector<Leaf> leaves = leaf_boxes(tree, bounds);
    std::vector<double> values;
    std::vector<double> volumes;
    for (const Leaf& leaf : leaves) {
      values.push_back(leaf.value);
      volumes.push_back(leaf.volume);
    }
    const double total_variance = weighted_variance(values, volumes);
    const double mean = weighted_mean(values, volumes);
    if (!(total_variance > 0.0)) {
      continue;
    }
    ++used_trees;
    std::vector<std::vector<double>> edges(bounds.size());
    for (size_t i = 0; i < tree.n_nodes(); ++i) {
      if (tree.feature[i] >= 0) {
        const auto& b = bounds[tree.feature[i]];
        edges[tree.feature[i]].push_back(std::clamp(tree.threshold[i], b.first, b.second));
      }
    }
    for (size_t c = 0; c < bounds.size(); ++c) {
      auto& e = edges[c];
      std::sort(e.begin(), e.end());
      e.erase(std::unique(e.begin(), e.end()), e.end());
      e.insert(e.begin(), bounds[c].first);
      e.push_back(bounds[c].second);
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      sums[g] += marginal_variance(leaves, groups[g], edges, bounds, mean, max_grid_cells) /
                 total_variance;
    }
  }
  if (used_trees > 0) {
    for (double& s : sums) {
      s /= used_trees;
    }
  }
  return sums;
}

SearchSpace intersection_search_space(const std::vector<FrozenTrial>& trials) {
  std::optional<std::map<std::string, Distribution>> common;
  for (const FrozenTrial& t : trials) {
    if (t.state != TrialState::Complete) {
      continue;
    }
    if (!common) {
      common = t.distributions;
      continue;
    }
    for (auto it = common->begin(); it != common->end();) {
      auto found = t.distributions.find(it->first);
      if (found == t.distributions.end() || !(found->second == it->second)) {
        it = common->erase(it);
      } else {
        ++it;
      }
    }
  }
  SearchSpace space;
  if (common) {
    space.assign(common->begin(), common->end());
  }
  return space;
}

std::map<std::string, double> fanova_importance(const std::vector<FrozenTrial>& trials,
                                                ImportanceTarget target,
                                                const FanovaOptions& options) {
  return fanova_importance(trials, intersection_search_space(trials), target, options);
}

namespace {

// The forest's input columns: one per numeric parameter (over its range, log-scaled when the
// options say), one per choice of a categorical (one-hot, 0..1).
struct Columns {
  std::vector<std::pair<double, double>> bounds;  // Per column.
  std::vector<std::vector<int>> groups;           // Per parameter: its columns.
};

Columns encode_columns(const SearchSpace& active, const FanovaOptions& options) {
  Columns out;
  for (const auto& [name, dist] : active) {
    std::vector<int> group;
    if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
      for (size_t i = 0; i < c->choices.size(); ++i) {
        group.push_back(static_cast<int>(out.bounds.size()));
        out.bounds.emplace_back(0.0, 1.0);
      }
    } else {
      double low = 0.0;
      double high = 0.0;
      if (const auto* f = std::get_if<FloatDistribution>(&dist)) {
        low = f->low;
        high = f->high;
      } else {
        const auto& i = std::get<IntDistribution>(dist);
        low = static_cast<double>(i.low);
        high = static_cast<double>(i.high);
      }
      if (options.transform_log && is_log(dist)) {
        low = std::log(low);
        high = std::log(high);
      }
      group.push_back(static_cast<int>(out.bounds.size()));
      out.bounds.emplace_back(low, high);
    }
    out.groups.push_back(std::move(group));
  }
  return out;
}

// The rows the forest learns from: x row-major over the columns, y the target.
struct Rows {
  std::vector<double> x;
  std::vector<double> y;
};

// One row per COMPLETE trial with a finite target and a usable value of every active
// parameter (a categorical index among its choices, a finite number).
Rows encode_rows(const std::vector<FrozenTrial>& trials, const SearchSpace& active,
                 const Columns& columns, ImportanceTarget target, const FanovaOptions& options) {
  Rows out;
  const size_t d = columns.bounds.size();
  for (const FrozenTrial& t : trials) {
    if (t.state != TrialState::Complete) {
      continue;
    }
    const std::optional<double> v =
        target == ImportanceTarget::Value ? t.value : t.duration_seconds();
    if (!is_finite_number(v)) {
      continue;
    }
    std::vector<double> row(d, 0.0);
    bool usable = true;
    for (size_t p = 0; p < active.size() && usable; ++p) {
      auto it = t.params.find(active[p].first);
      if (it == t.params.end()) {
        usable = false;
        break;
      }
      const Distribution& dist = active[p].second;
      if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
        const double index = it->second;
        usable = index >= 0 && index < static_cast<double>(c->choices.size()) &&
                 index == std::floor(index);
        if (usable) {
          row[columns.groups[p][static_cast<size_t>(index)]] = 1.0;
        }
      } else {
        const double value =
            options.transform_log && is_log(dist) ? std::log(it->second) : it->second;
        usable = std::isfinite(value);
        row[columns.groups[p][0]] = value;
      }
    }
    if (usable) {
      out.x.insert(out.x.end(), row.begin(), row.end());
      out.y.push_back(*v);
    }
  }
  return out;
}

// options.n_trees trees, each fitted on a seeded bootstrap sample of the rows.
std::vector<RegressionTree> fit_forest(const Rows& rows, size_t d, const FanovaOptions& options) {
  const size_t n = rows.y.size();
  std::vector<RegressionTree> forest;
  forest.reserve(static_cast<size_t>(options.n_trees));
  std::vector<int> counts(n);
  for (int t = 0; t < options.n_trees; ++t) {
    Rng rng(derive_seed(options.seed, t, "fanova-bootstrap"));
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      ++counts[rng() % n];
    }
    forest.push_back(fit_regression_tree(rows.x, d, rows.y, counts, options,
                                         derive_seed(options.seed, t, "fanova-split")));
  }
  return forest;
}

}  // namespace

std::map<std::string, double> fanova_importance(const std::vector<FrozenTrial>& trials,
                                                const SearchSpace& space, ImportanceTarget target,
                                                const FanovaOptions& options) {
  std::map<std::string, double> result;
  SearchSpace active;
  for (const auto& [name, dist] : space) {
    result[name] = 0.0;
    if (!is_single(dist)) {
      active.emplace_back(name, dist);
    }
  }
  if (active.empty() && !space.empty()) {
    return {};  // Nothing varies: nothing to rank (Optuna returns an empty dict too).
  }
  const Columns columns = encode_columns(active, options);
  Rows rows = encode_rows(trials, active, columns, target, options);
  // Values whose squares could overflow the trees' sums (|y| > 2^400) are scaled into
  // [-1, 1] (importances are scale-free); smaller ones stay as they are (sklearn's numbers).
  if (const double scale = unit_scale(rows.y); scale < 0x1p-400) {
    for (double& v : rows.y) {
      v *= scale;
    }
  }
  const size_t n = rows.y.size();
  if (n < 2) {
    throw std::invalid_argument(
        "fANOVA needs at least 2 complete trials with every param and a "
        "finite " +
        importance_target_name(target) + ", but got " + std::to_string(n));
  }
  if (active.empty()) {
    return result;
  }
  const std::vector<double> fractions =
      fanova_fractions(fit_forest(rows, columns.bounds.size(), options), columns.bounds,
                       columns.groups, options.max_grid_cells);
  double total = 0.0;
  for (double f : fractions) {
    total += f;
  }
  if (!(total > 0.0)) {
    throw std::invalid_argument("fANOVA: the " + importance_target_name(target) +
                                " does not vary over the " + std::to_string(n) + " trials");
  }
  for (size_t p = 0; p < active.size(); ++p) {
    result[active[p].first] = fractions[p] / total;
  }
  return result;
}

double unit_scale(const std::vector<double>& values) {
  double largest = 0.0;
  for (double v : values) {
    if (std::isfinite(v)) {
      largest = std::max(largest, std::abs(v));
    }
  }
  if (largest == 0.0) {
    return 1.0;
  }
  int exponent = 0;
  std::frexp(largest, &exponent);                     // largest = m * 2^exponent, m in [0.5, 1).
  return std::ldexp(1.0, std::min(-exponent, 1023));  // 2^1024 is not a double.
}

std::vector<std::pair<std::string, double>> sorted_by_importance(
    const std::map<std::string, double>& importances) {
  std::vector<std::pair<std::string, double>> out(importances.begin(), importances.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace hpt
