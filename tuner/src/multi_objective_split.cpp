#include "hpt/tuner/multi_objective_split.hpp"

#include <algorithm>
#include <cmath>

#include "hpt/tuner/hypervolume.hpp"
#include "hpt/tuner/multi_objective.hpp"

namespace hpt {

namespace {

constexpr double k_eps = 1e-12;

// Optuna's _calculate_weights_below_for_multi_objective (no constraints).
std::vector<double> below_weights(const std::vector<Point>& points) {
  if (points.size() <= 1) {
    return std::vector<double>(points.size(), 1.0);
  }
  std::vector<double> contributions =
      hypervolume_contributions(points, motpe_reference_point(points));
  double largest = 0.0;
  for (double& c : contributions) {
    c += k_eps;
    largest = std::max(largest, c);
  }
  for (double& c : contributions) {
    c = std::min(std::max(c / largest, 0.0), 1.0);
  }
  // Infinite objective values make Optuna's arithmetic NaN (inf - inf); hpt weighs such a
  // below set equally instead, so that l(x) stays a distribution.
  if (!std::all_of(contributions.begin(), contributions.end(),
                   [](double c) { return std::isfinite(c) && c > 0; })) {
    std::fill(contributions.begin(), contributions.end(), 1.0);
  }
  return contributions;
}

}  // namespace

ObservationSplit split_observations_multi_objective(const std::vector<FrozenTrial>& trials,
                                                    const std::vector<Direction>& directions,
                                                    int exclude_number) {
  std::vector<const FrozenTrial*> used;
  std::vector<Point> losses;  // Minimised: maximised objectives negated.
  for (const FrozenTrial& t : trials) {
    if (t.number == exclude_number || t.state != TrialState::Complete ||
        t.values.size() != directions.size()) {
      continue;
    }
    Point loss;
    for (size_t k = 0; k < directions.size(); ++k) {
      loss.push_back(directions[k] == Direction::Maximize ? -t.values[k] : t.values[k]);
    }
    if (std::any_of(loss.begin(), loss.end(), [](double v) { return std::isnan(v); })) {
      continue;
    }
    used.push_back(&t);
    losses.push_back(std::move(loss));
  }
  ObservationSplit split;
  split.n_finished = static_cast<int>(used.size());
  const size_t n_below = static_cast<size_t>(default_gamma(split.n_finished));
  const std::vector<int> ranks = nondomination_ranks(losses);
  std::vector<size_t> below;
  int rank = 0;
  while (true) {  // Whole ranks while they fit.
    const auto in_rank = static_cast<size_t>(std::count(ranks.begin(), ranks.end(), rank));
    if (below.size() >= n_below || below.size() + in_rank > n_below) {
      break;
    }
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] == rank) {
        below.push_back(i);
      }
    }
    ++rank;
  }
  if (below.size() < n_below) {  // The rest from the next rank, by hypervolume.
    std::vector<size_t> candidates;
    std::vector<Point> points;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] == rank) {
        candidates.push_back(i);
        points.push_back(losses[i]);
      }
    }
    for (size_t k :
         hypervolume_subset(points, n_below - below.size(), motpe_reference_point(points))) {
      below.push_back(candidates[k]);
    }
  }
  std::vector<bool> is_below(used.size(), false);
  std::vector<Point> below_losses;
  for (size_t i : below) {
    is_below[i] = true;
    split.below.push_back(used[i]);
    below_losses.push_back(losses[i]);
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!is_below[i]) {
      split.above.push_back(used[i]);
    }
  }
  split.below_weights = below_weights(below_losses);
  return split;
}

}  // namespace hpt
