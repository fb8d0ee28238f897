#include "hpt/tuner/multi_objective.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "hpt/tuner/constraints.hpp"

namespace hpt {

bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& directions) {
  bool better = false;
  for (size_t i = 0; i < directions.size(); ++i) {
    if (is_better(b[i], a[i], directions[i])) {
      return false;
    }
    better = better || is_better(a[i], b[i], directions[i]);
  }
  return better;
}

bool is_best_candidate(const FrozenTrial& t, size_t n_objectives) {
  if (t.state != TrialState::Complete) {
    return false;
  }
  const std::vector<double> v = t.objective_values();
  return v.size() == n_objectives &&
         std::none_of(v.begin(), v.end(), [](double x) { return std::isnan(x); }) && is_feasible(t);
}

std::optional<size_t> best_trial_index(const std::vector<FrozenTrial>& trials,
                                       Direction direction) {
  std::optional<size_t> best;
  double best_value = 0.0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = trials[i];
    if (!is_best_candidate(t, 1)) {
      continue;
    }
    const double v = t.objective_values().front();
    if (!best || is_better(v, best_value, direction) ||
        (v == best_value && t.number < trials[*best].number)) {
      best = i;
      best_value = v;
    }
  }
  return best;
}

std::vector<FrozenTrial> best_trials(const std::vector<FrozenTrial>& trials,
                                     const std::vector<Direction>& directions) {
  for (Direction d : directions) {
    if (d == Direction::NotSet) {
      throw std::invalid_argument(
          "the study's direction is NOT_SET, so no trial is better than another");
    }
  }
  std::vector<const FrozenTrial*> candidates;
  std::vector<std::vector<double>> values;
  for (const FrozenTrial& t : trials) {
    if (is_best_candidate(t, directions.size())) {
      candidates.push_back(&t);
      values.push_back(t.objective_values());
    }
  }
  std::vector<FrozenTrial> front;
  for (size_t i = 0; i < candidates.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < candidates.size() && !dominated; ++j) {
      dominated = j != i && dominates(values[j], values[i], directions);
    }
    if (!dominated) {
      front.push_back(*candidates[i]);
    }
  }
  return front;
}

std::vector<int> nondomination_ranks(const std::vector<std::vector<double>>& rows) {
  const size_t n = rows.size();
  // dominated_by[i][j]: row j dominates row i (no larger anywhere, smaller somewhere).
  std::vector<std::vector<bool>> dominated_by(n, std::vector<bool>(n, false));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      bool all_ge = true;
      bool any_gt = false;
      for (size_t k = 0; k < rows[i].size(); ++k) {
        all_ge = all_ge && rows[i][k] >= rows[j][k];
        any_gt = any_gt || rows[i][k] > rows[j][k];
      }
      dominated_by[i][j] = all_ge && any_gt;
    }
  }
  std::vector<int> ranks(n, -1);
  size_t unranked = n;
  for (int rank = 0; unranked > 0; ++rank) {
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (ranks[i] != -1) {
        continue;
      }
      bool dominated = false;
      for (size_t j = 0; j < n && !dominated; ++j) {
        dominated = ranks[j] == -1 && dominated_by[i][j];
      }
      if (!dominated) {
        front.push_back(i);
      }
    }
    if (front.empty()) {  // Only with NaN (no order): rank the rest together.
      for (size_t i = 0; i < n; ++i) {
        front.push_back(i);
      }
    }
    for (size_t i : front) {
      if (ranks[i] == -1) {
        ranks[i] = rank;
        --unranked;
      }
    }
  }
  return ranks;
}

}  // namespace hpt
