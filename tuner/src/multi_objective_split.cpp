#include "hpt/tuner/multi_objective_split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/hypervolume.hpp"
#include "hpt/tuner/multi_objective.hpp"

namespace hpt {

namespace {

constexpr double k_eps = 1e-12;
constexpr double k_inf = std::numeric_limits<double>::infinity();

// Optuna's _calculate_weights_below_for_multi_objective over the feasible below trials.
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

// MOTPE's choice of the n best of points: the whole non-domination ranks 0, 1, ... that fit,
// then from the next rank the points chosen greedily for hypervolume; positions into points,
// in the order chosen.
std::vector<size_t> motpe_below(const std::vector<Point>& points, size_t n_below) {
  const std::vector<int> ranks = nondomination_ranks(points);
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
    std::vector<Point> rank_points;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] == rank) {
        candidates.push_back(i);
        rank_points.push_back(points[i]);
      }
    }
    for (size_t k : hypervolume_subset(rank_points, n_below - below.size(),
                                       motpe_reference_point(rank_points))) {
      below.push_back(candidates[k]);
    }
  }
  return below;
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
  std::vector<size_t> below;
  std::vector<bool> feasible(used.size(), true);
  if (constraints_reported(trials)) {
    std::vector<double> violations;
    for (size_t i = 0; i < used.size(); ++i) {
      violations.push_back(constraint_violation(*used[i]).value_or(k_inf));
      feasible[i] = violations.back() == 0.0;
    }
    below =
        constrained_below(violations, n_below, [&](const std::vector<size_t>& positions, size_t n) {
          std::vector<Point> points;
          for (size_t i : positions) {
            points.push_back(losses[i]);
          }
          std::vector<size_t> out;
          for (size_t k : motpe_below(points, n)) {
            out.push_back(positions[k]);
          }
          return out;
        });
  } else {
    below = motpe_below(losses, n_below);
  }
  // Hypervolume weights among the feasible below trials; an infeasible one weighs 1e-12
  // (Optuna's EPS).
  std::vector<bool> is_below(used.size(), false);
  std::vector<Point> feasible_losses;
  for (size_t i : below) {
    is_below[i] = true;
    split.below.push_back(used[i]);
    if (feasible[i]) {
      feasible_losses.push_back(losses[i]);
    }
  }
  const std::vector<double> weights = below_weights(feasible_losses);
  size_t next = 0;
  for (size_t i : below) {
    split.below_weights.push_back(feasible[i] ? weights[next++] : k_eps);
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!is_below[i]) {
      split.above.push_back(used[i]);
    }
  }
  return split;
}

}  // namespace hpt
