#include "hpt/tuner/multi_objective.hpp"

#include <cmath>
#include <stdexcept>

namespace hpt {

namespace {

// The trial's objective values: values as read from a storage, else its single value.
std::vector<double> objective_values_of(const FrozenTrial& t) {
  if (!t.values.empty()) {
    return t.values;
  }
  return t.value ? std::vector<double>{*t.value} : std::vector<double>{};
}

}  // namespace

bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& directions) {
  bool better = false;
  for (size_t i = 0; i < directions.size(); ++i) {
    const bool minimize = directions[i] == Direction::Minimize;
    const double x = minimize ? a[i] : -a[i];
    const double y = minimize ? b[i] : -b[i];
    if (x > y) {
      return false;
    }
    better = better || x < y;
  }
  return better;
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
    std::vector<double> v = objective_values_of(t);
    bool usable = t.state == TrialState::Complete && v.size() == directions.size();
    for (double x : v) {
      usable = usable && std::isfinite(x);
    }
    if (usable) {
      candidates.push_back(&t);
      values.push_back(std::move(v));
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

}  // namespace hpt
