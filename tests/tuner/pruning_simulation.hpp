#pragma once
// Runs a pruner over the synthetic learning curves of optuna_pruner_decisions.py, the way
// hpt's orchestrator does: one trial at a time, a decision after every reported step, the
// decision's system attributes stored on the trial.

#include <limits>
#include <vector>

#include "hpt/tuner/pruner.hpp"

namespace hpt::test {

// Trial i's value at step s (optuna_pruner_decisions.py's curve()).
inline double learning_curve(int i, int64_t s) {
  const double a = static_cast<double>((i * 7919) % 101) / 101.0;
  const double b = static_cast<double>((static_cast<int64_t>(i) * 104729) % 97) / 97.0;
  return a + 2.0 * b / static_cast<double>(s + 1);
}

// Curves that stall and rise, NaN at step 6 of trials 4, 13, 22, ... (optuna_pruner_decisions.py's
// bumpy()).
inline double bumpy_curve(int i, int64_t s) {
  if (i % 9 == 4 && s == 6) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return learning_curve(i, s) + static_cast<double>((i * 31 + s * 17) % 11) / 110.0;
}

// For each trial, the step it was pruned at, or -1 if it completed. steps: those reported;
// curve: trial i's value at step s.
inline std::vector<int64_t> pruned_steps(Pruner& pruner, int n_trials,
                                         const std::vector<int64_t>& steps, Direction direction,
                                         const std::string& study_name,
                                         std::vector<FrozenTrial>* history = nullptr,
                                         double (*curve)(int, int64_t) = learning_curve) {
  std::vector<FrozenTrial> trials;
  std::vector<int64_t> out;
  const double sign = direction == Direction::Minimize ? 1.0 : -1.0;
  for (int i = 0; i < n_trials; ++i) {
    trials.emplace_back();
    trials.back().number = i;
    trials.back().id = i + 1;
    int64_t pruned_at = -1;
    double v = 0.0;
    for (int64_t s : steps) {
      v = sign * curve(i, s);
      trials.back().intermediate_values[s] = v;
      const FrozenTrial running = trials.back();
      PruneDecision d = pruner.decide(PruneContext{direction, &trials, study_name}, running);
      for (const auto& [key, value] : d.system_attrs) {
        trials.back().system_attrs[key] = value;
      }
      if (d.prune) {
        pruned_at = s;
        break;
      }
    }
    trials.back().state = pruned_at < 0 ? TrialState::Complete : TrialState::Pruned;
    if (pruned_at < 0) {
      trials.back().value = v;
    }
    out.push_back(pruned_at);
  }
  if (history) {
    *history = std::move(trials);
  }
  return out;
}

inline std::vector<int64_t> step_range(int64_t begin, int64_t end, int64_t stride = 1) {
  std::vector<int64_t> out;
  for (int64_t s = begin; s < end; s += stride) {
    out.push_back(s);
  }
  return out;
}

}  // namespace hpt::test
