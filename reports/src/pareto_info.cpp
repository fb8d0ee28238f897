// The report's data for multi-objective studies: the Pareto front (membership decided by the
// tuner's best_trials, never a second dominance check here) and per-objective trial views.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "hpt/reports/info.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"

namespace hpt::reports {

std::vector<FrozenTrial> objective_trials(const std::vector<FrozenTrial>& trials,
                                          size_t objective) {
  std::vector<FrozenTrial> out = trials;
  for (FrozenTrial& t : out) {
    if (objective < t.values.size()) {
      t.value = t.values[objective];
    } else if (!(t.values.empty() && objective == 0)) {
      t.value.reset();  // A trial without this objective's value (values empty: value is it).
    }
  }
  return out;
}

std::string objective_label(size_t objective, Direction direction) {
  return fmt::format("objective {} ({})", objective,
                     direction == Direction::Maximize   ? "maximize"
                     : direction == Direction::Minimize ? "minimize"
                                                        : "direction not set");
}

ParetoInfo get_pareto_info(const std::vector<FrozenTrial>& trials,
                           const std::vector<Direction>& directions) {
  ParetoInfo info;
  info.directions = directions;
  for (size_t k = 0; k < directions.size(); ++k) {
    info.labels.push_back(objective_label(k, directions[k]));
  }
  std::vector<FrozenTrial> front;
  try {
    front = best_trials(trials, directions);
  } catch (const std::invalid_argument& e) {
    info.note = std::string("No Pareto front: ") + e.what() + ".";
    return info;
  }
  std::set<int> front_numbers;
  for (const FrozenTrial& t : front) {
    front_numbers.insert(t.number);
  }
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = trials[i];
    if (t.state != TrialState::Complete) {
      continue;
    }
    const std::vector<double> v = t.objective_values();
    if (v.size() != directions.size() ||
        !std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); })) {
      ++info.n_excluded;
      continue;
    }
    info.on_front.push_back(front_numbers.count(t.number) > 0);
    info.feasible.push_back(is_feasible(t));
    if (info.on_front.back()) {
      info.front.push_back(static_cast<int>(info.values.size()));
    }
    info.values.push_back(v);
    info.index.push_back(static_cast<int>(i));
  }
  std::stable_sort(info.front.begin(), info.front.end(),
                   [&](int a, int b) { return info.values[a] < info.values[b]; });
  if (info.values.empty()) {
    info.note = "Not enough trials: no COMPLETE trial with a finite value for every objective yet.";
  } else if (info.n_excluded > 0) {
    info.note = fmt::format(
        "{} COMPLETE trial{} without a finite value for every objective {} left out.",
        info.n_excluded, info.n_excluded == 1 ? "" : "s", info.n_excluded == 1 ? "is" : "are");
  }
  return info;
}

}  // namespace hpt::reports
