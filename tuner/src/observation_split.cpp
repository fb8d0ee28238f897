#include "hpt/tuner/observation_split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "hpt/tuner/constraints.hpp"

namespace hpt {

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

struct RankKey {
  double step;   // -inf complete, -last_step pruned, 1 pruned without steps, +inf running.
  double score;  // Sign-adjusted value (smaller is better); NaN mapped to +inf.
  int number;
  const FrozenTrial* trial;
};

double signed_score(double v, double sign) { return std::isnan(v) ? k_inf : sign * v; }

}  // namespace

int default_gamma(int n) { return Gamma{}(n); }

int Gamma::operator()(int n) const {
  const double x = sqrt ? std::sqrt(static_cast<double>(n)) : static_cast<double>(n);
  return static_cast<int>(std::min(std::ceil(factor * x), static_cast<double>(max)));
}

std::vector<size_t> constrained_below(
    const std::vector<double>& violations, size_t n_below,
    const std::function<std::vector<size_t>(const std::vector<size_t>&, size_t)>& rank) {
  std::vector<size_t> order(violations.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return violations[a] < violations[b]; });
  std::vector<size_t> below;
  if (n_below >= order.size() || violations[order[n_below]] > 0.0) {
    below.assign(order.begin(), order.begin() + std::min(n_below, order.size()));
  } else {  // At least n_below feasible candidates: the best of them by objective.
    std::vector<size_t> feasible;
    for (size_t i = 0; i < violations.size(); ++i) {
      if (violations[i] == 0.0) {
        feasible.push_back(i);
      }
    }
    below = rank(feasible, n_below);
  }
  std::sort(below.begin(), below.end());
  return below;
}

ObservationSplit split_observations(const std::vector<FrozenTrial>& trials, Direction direction,
                                    int exclude_number, bool constant_liar, const Gamma& gamma) {
  const double sign = direction == Direction::Maximize ? -1.0 : 1.0;
  std::vector<RankKey> keys;
  keys.reserve(trials.size());
  int n_finished = 0;
  for (const FrozenTrial& t : trials) {
    if (t.number == exclude_number) {
      continue;
    }
    switch (t.state) {
      case TrialState::Complete:
        if (!t.value) {
          continue;
        }
        keys.push_back({-k_inf, signed_score(*t.value, sign), t.number, &t});
        ++n_finished;
        break;
      case TrialState::Pruned:
        if (t.intermediate_values.empty()) {
          keys.push_back({1.0, 0.0, t.number, &t});
        } else {
          const auto& last = *t.intermediate_values.rbegin();
          keys.push_back(
              {-static_cast<double>(last.first), signed_score(last.second, sign), t.number, &t});
        }
        ++n_finished;
        break;
      case TrialState::Running:
        if (constant_liar) {
          keys.push_back({k_inf, k_inf, t.number, &t});
        }
        break;
      default:
        break;
    }
  }
  std::stable_sort(keys.begin(), keys.end(),
                   [](const RankKey& a, const RankKey& b) { return a.number < b.number; });
  // The n best of keys[positions] by (step, score, number).
  auto rank = [&](std::vector<size_t> positions, size_t n) {
    std::sort(positions.begin(), positions.end(), [&](size_t i, size_t j) {
      const RankKey& a = keys[i];
      const RankKey& b = keys[j];
      if (a.step != b.step) {
        return a.step < b.step;
      }
      if (a.score != b.score) {
        return a.score < b.score;
      }
      return a.number < b.number;
    });
    positions.resize(std::min(n, positions.size()));
    return positions;
  };
  const size_t n_below = std::min(keys.size(), static_cast<size_t>(gamma(n_finished)));
  std::vector<size_t> below;
  if (constraints_reported(trials)) {
    std::vector<double> violations;
    for (const RankKey& k : keys) {
      violations.push_back(k.trial->state == TrialState::Running
                               ? k_inf
                               : constraint_violation(*k.trial).value_or(k_inf));
    }
    below = constrained_below(violations, n_below, rank);
  } else {
    std::vector<size_t> all(keys.size());
    std::iota(all.begin(), all.end(), size_t{0});
    below = rank(std::move(all), n_below);
    std::sort(below.begin(), below.end());
  }
  ObservationSplit split;
  split.n_finished = n_finished;
  size_t next_below = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool is_below = next_below < below.size() && below[next_below] == i;
    next_below += is_below ? 1 : 0;
    (is_below ? split.below : split.above).push_back(keys[i].trial);
  }
  return split;
}

}  // namespace hpt
