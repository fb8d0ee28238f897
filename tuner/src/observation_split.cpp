#include "hpt/tuner/observation_split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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
  std::sort(keys.begin(), keys.end(), [](const RankKey& a, const RankKey& b) {
    if (a.step != b.step) {
      return a.step < b.step;
    }
    if (a.score != b.score) {
      return a.score < b.score;
    }
    return a.number < b.number;
  });
  const size_t n_below = std::min(keys.size(), static_cast<size_t>(gamma(n_finished)));
  auto by_number = [](const RankKey& a, const RankKey& b) { return a.number < b.number; };
  std::sort(keys.begin(), keys.begin() + n_below, by_number);
  std::sort(keys.begin() + n_below, keys.end(), by_number);
  ObservationSplit split;
  split.n_finished = n_finished;
  for (size_t i = 0; i < keys.size(); ++i) {
    (i < n_below ? split.below : split.above).push_back(keys[i].trial);
  }
  return split;
}

}  // namespace hpt
