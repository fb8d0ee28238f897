#pragma once
// Hyperparameter importance: fANOVA over a random forest (Hutter et al. 2014), computed
// as Optuna 3.1's FanovaImportanceEvaluator does (sklearn RandomForestRegressor defaults:
// 64 trees, max_depth 64, bootstrap, all features per split, splits at midpoints).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

enum class ImportanceTarget { Value, Duration };

// "value" / "duration" and back; importance_target_from_name throws std::invalid_argument.
std::string importance_target_name(ImportanceTarget t);
ImportanceTarget importance_target_from_name(const std::string& name);

struct FanovaOptions {
  int n_trees = 64;
  int max_depth = 64;
  int min_samples_split = 2;
  int min_samples_leaf = 1;
  uint64_t seed = 0;
  // Optuna 3.1 measures log params on their linear scale (transform_log=False); true
  // measures them uniformly in log space instead.
  bool transform_log = false;
  // A categorical's marginal over more grid cells (2^splits on its one-hot columns) than this
  // is computed from pairs of leaf boxes instead: the same value, in time independent of the
  // number of choices.
  size_t max_grid_cells = 4096;
};

// Optuna's intersection_search_space: the params that every COMPLETE trial has, with the
// same distribution in each, sorted by name. Empty if there is no complete trial.
SearchSpace intersection_search_space(const std::vector<FrozenTrial>& trials);

// fANOVA importance of each param of space for target, from the COMPLETE trials that have
// every param of space and a finite target. Returns param -> importance >= 0 summing to 1
// (single-valued params get 0), or an empty map when every param is single-valued, as Optuna.
// Throws std::invalid_argument if fewer than 2 such trials or the target is constant (zero
// variance in every tree).
std::map<std::string, double> fanova_importance(const std::vector<FrozenTrial>& trials,
                                                const SearchSpace& space, ImportanceTarget target,
                                                const FanovaOptions& options = {});
// Same over intersection_search_space(trials).
std::map<std::string, double> fanova_importance(const std::vector<FrozenTrial>& trials,
                                                ImportanceTarget target,
                                                const FanovaOptions& options = {});

// The power of two 2^-e that brings the largest finite |value| into [0.5, 1) (1 if there is
// none or it is 0; at most 2^1023 for subnormal values). Multiplying by it is exact (short of
// underflow) and leaves variance ratios unchanged, and it keeps sums of squares finite where values
// near DBL_MAX overflow.
double unit_scale(const std::vector<double>& values);

// (name, importance) pairs, largest first (ties by name).
std::vector<std::pair<std::string, double>> sorted_by_importance(
    const std::map<std::string, double>& importances);

// A regression tree fitted like sklearn's DecisionTreeRegressor (squared error, best split
// over all features visited in random order, threshold at the midpoint of adjacent values).
struct RegressionTree {
  // Node i: feature[i] < 0 marks a leaf; x[feature] <= threshold goes left.
  std::vector<int> feature;
  std::vector<double> threshold;
  std::vector<int> left;
  std::vector<int> right;
  std::vector<double> value;  // Weighted mean of the node's training targets.
  size_t n_nodes() const { return feature.size(); }
  // The leaf value for the row x.
  double predict(const double* x) const;
};

// Fits a tree on rows x (n x d row-major) with targets y and integer sample weights
// (bootstrap counts; a weight of 0 leaves the row out). Requires: y.size() == n, weights.size()
// == n, d > 0. rng_seed orders the features visited at each node.
RegressionTree fit_regression_tree(const std::vector<double>& x, size_t d,
                                   const std::vector<double>& y, const std::vector<int>& weights,
                                   const FanovaOptions& options, uint64_t rng_seed);

// fANOVA on a fitted forest over the box bounds (d pairs of [low, high]): for each group of
// raw columns (a categorical's one-hot columns, or one numeric column) the mean over trees
// with positive variance of (marginal variance of the group / tree's total variance).
// Groups of several columns whose grid exceeds max_grid_cells use the pairwise method.
// Ensures: one non-negative fraction per group (not normalised).
std::vector<double> fanova_fractions(const std::vector<RegressionTree>& forest,
                                     const std::vector<std::pair<double, double>>& bounds,
                                     const std::vector<std::vector<int>>& groups,
                                     size_t max_grid_cells = FanovaOptions{}.max_grid_cells);

}  // namespace hpt
