// fANOVA importances (Optuna's _fanova/_tree.py), computed over each tree's leaf boxes:
// the marginal of a group of columns is piecewise constant on the grid of that tree's split
// values, so every leaf adds value * (its volume outside the group) to a box of grid cells,
// done with a multi-dimensional difference array instead of one tree walk per cell.

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "hpt/tuner/importance.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt {
namespace {

// Above this many grid cells a categorical's marginal is taken over its one-hot points only.
constexpr size_t k_max_cells = size_t{1} << 20;

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

double weighted_variance(const std::vector<double>& values, const std::vector<double>& weights) {
  double w_sum = 0.0;
  double mean = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    w_sum += weights[i];
    mean += weights[i] * values[i];
  }
  if (w_sum <= 0.0) {
    return 0.0;
  }
  mean /= w_sum;
  double var = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    var += weights[i] * (values[i] - mean) * (values[i] - mean);
  }
  return std::max(0.0, var / w_sum);
}

// Requires: leaves partition the box. Ensures: the variance of the group's marginal over the
// product grid of the tree's split values (edges[c]) for the group's columns.
double marginal_variance(const std::vector<Leaf>& leaves, const std::vector<int>& group,
                         const std::vector<std::vector<double>>& edges,
                         const std::vector<std::pair<double, double>>& bounds) {
  const size_t k = group.size();
  auto width_fraction = [&](const Leaf& leaf, int c) {
    const double range = bounds[c].second - bounds[c].first;
    return range > 0.0 ? (leaf.high[c] - leaf.low[c]) / range : 1.0;
  };
  size_t cells = 1;
  for (int c : group) {
    cells *= edges[c].size() - 1;
    if (cells > k_max_cells) {
      break;
    }
  }
  if (cells > k_max_cells) {
    // One-hot points only: column c = 1, the others 0, equally weighted.
    std::vector<double> values;
    for (int hot : group) {
      double s = 0.0;
      double w = 0.0;
      for (const Leaf& leaf : leaves) {
        bool inside = true;
        double group_width = 1.0;
        for (int c : group) {
          const double v = c == hot ? 1.0 : 0.0;
          inside = inside && leaf.low[c] <= v && v <= leaf.high[c];
          group_width *= width_fraction(leaf, c);
        }
        if (inside && group_width > 0.0) {
          s += leaf.value * leaf.volume / group_width;
          w += leaf.volume / group_width;
        }
      }
      values.push_back(w > 0.0 ? s / w : 0.0);
    }
    return weighted_variance(values, std::vector<double>(values.size(), 1.0));
  }

  // Difference arrays over the (m_c + 1)-sized grid; strides in that grid.
  std::vector<size_t> dims(k);
  std::vector<size_t> strides(k);
  size_t total = 1;
  for (size_t j = 0; j < k; ++j) {
    dims[j] = edges[group[j]].size() - 1;
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
      const int c = group[j];
      const auto& e = edges[c];
      lo[j] = static_cast<size_t>(std::lower_bound(e.begin(), e.end(), leaf.low[c]) - e.begin());
      hi[j] = static_cast<size_t>(std::lower_bound(e.begin(), e.end(), leaf.high[c]) - e.begin());
      group_width *= width_fraction(leaf, c);
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
      const auto& e = edges[group[j]];
      const double range = bounds[group[j]].second - bounds[group[j]].first;
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
                                     const std::vector<std::vector<int>>& groups) {
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
      sums[g] += marginal_variance(leaves, groups[g], edges, bounds) / total_variance;
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
  // Columns: one per numeric param, one-hot per categorical choice.
  std::vector<std::pair<double, double>> bounds;
  std::vector<std::vector<int>> groups;
  for (const auto& [name, dist] : active) {
    std::vector<int> group;
    if (const auto* c = std::get_if<CategoricalDistribution>(&dist)) {
      for (size_t i = 0; i < c->choices.size(); ++i) {
        group.push_back(static_cast<int>(bounds.size()));
        bounds.emplace_back(0.0, 1.0);
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
      group.push_back(static_cast<int>(bounds.size()));
      bounds.emplace_back(low, high);
    }
    groups.push_back(std::move(group));
  }
  const size_t d = bounds.size();
  std::vector<double> x;
  std::vector<double> y;
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
          row[groups[p][static_cast<size_t>(index)]] = 1.0;
        }
      } else {
        const double value =
            options.transform_log && is_log(dist) ? std::log(it->second) : it->second;
        usable = std::isfinite(value);
        row[groups[p][0]] = value;
      }
    }
    if (usable) {
      x.insert(x.end(), row.begin(), row.end());
      y.push_back(*v);
    }
  }
  const size_t n = y.size();
  if (n < 2) {
    throw std::invalid_argument(
        "fANOVA needs at least 2 complete trials with every param and a "
        "finite " +
        importance_target_name(target) + ", but got " + std::to_string(n));
  }
  if (active.empty()) {
    return result;
  }
  std::vector<RegressionTree> forest;
  forest.reserve(static_cast<size_t>(options.n_trees));
  std::vector<int> counts(n);
  for (int t = 0; t < options.n_trees; ++t) {
    Rng rng(derive_seed(options.seed, t, "fanova-bootstrap"));
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      ++counts[rng() % n];
    }
    forest.push_back(fit_regression_tree(x, d, y, counts, options,
                                         derive_seed(options.seed, t, "fanova-split")));
  }
  std::vector<double> fractions = fanova_fractions(forest, bounds, groups);
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

std::vector<std::pair<std::string, double>> sorted_by_importance(
    const std::map<std::string, double>& importances) {
  std::vector<std::pair<std::string, double>> out(importances.begin(), importances.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace hpt
