#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "hpt/reports/info.hpp"

namespace hpt::reports {

namespace {

// fANOVA's exact marginal of a categorical of many choices is pairwise over each tree's leaves:
// its time grows with the square of the trials (a 1,000-choice categorical: minutes at a few
// thousand trials, about an hour at 20,000). Such a study's importances come from at most
// k_trials_with_many_choices of its trials, evenly spaced by number.
constexpr size_t k_many_choices = 64;
constexpr size_t k_trials_with_many_choices = 1000;

// The categorical of space with the most choices, if it has more than k_many_choices.
std::optional<std::pair<std::string, size_t>> many_choices(const SearchSpace& space) {
  std::optional<std::pair<std::string, size_t>> out;
  for (const auto& [name, dist] : space) {
    const auto* c = std::get_if<CategoricalDistribution>(&dist);
    if (c && c->choices.size() > k_many_choices && (!out || c->choices.size() > out->second)) {
      out.emplace(name, c->choices.size());
    }
  }
  return out;
}

// Whether fANOVA fits t for target: COMPLETE, with a finite target.
bool fitted(const FrozenTrial& t, ImportanceTarget target) {
  const auto v = target == ImportanceTarget::Value ? t.value : t.duration_seconds();
  return t.state == TrialState::Complete && v && std::isfinite(*v);
}

}  // namespace

std::optional<std::vector<FrozenTrial>> importance_trials(const std::vector<FrozenTrial>& trials,
                                                          const SearchSpace& space,
                                                          ImportanceTarget target,
                                                          std::string& note) {
  const auto many = many_choices(space);
  if (!many) {
    return std::nullopt;
  }
  std::vector<size_t> used;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (fitted(trials[i], target)) {
      used.push_back(i);
    }
  }
  if (used.size() <= k_trials_with_many_choices) {
    return std::nullopt;
  }
  std::vector<FrozenTrial> kept;
  for (size_t k = 0; k < k_trials_with_many_choices; ++k) {
    kept.push_back(trials[used[k * (used.size() - 1) / (k_trials_with_many_choices - 1)]]);
  }
  note = fmt::format(
      "From {} of the {} COMPLETE trials, evenly spaced by number: {} has {} choices, and "
      "fANOVA's time grows with the square of the trials for such a parameter.",
      kept.size(), used.size(), many->first, many->second);
  return kept;
}

ImportanceInfo get_importance_info(const std::vector<FrozenTrial>& trials, ImportanceTarget target,
                                   uint64_t seed) {
  ImportanceInfo info;
  info.target = importance_target_name(target);
  const SearchSpace space = intersection_search_space(trials);
  if (space.empty()) {
    const bool any_complete = std::any_of(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Complete;
    });
    info.note = any_complete ? "Not enough trials: no parameter is shared by all COMPLETE trials."
                             : "Not available: no trial is COMPLETE yet.";
    return info;
  }
  info.n_trials_used = static_cast<int>(std::count_if(
      trials.begin(), trials.end(), [target](const FrozenTrial& t) { return fitted(t, target); }));
  const auto thinned = importance_trials(trials, space, target, info.note);
  if (thinned) {
    info.n_trials_used = static_cast<int>(thinned->size());
  }
  FanovaOptions options;
  options.seed = seed;
  try {
    info.importances = sorted_by_importance(
        fanova_importance(thinned ? *thinned : trials, space, target, options));
    if (info.importances.empty()) {
      info.note = k_nothing_varies;
    }
  } catch (const std::invalid_argument& e) {
    info.note = std::string("Not available: ") + e.what() + ".";
    info.importances.clear();
  }
  return info;
}

StudyImportances get_study_importances(const std::vector<FrozenTrial>& trials,
                                       const std::vector<Direction>& directions, uint64_t seed) {
  if (directions.size() <= 1) {
    return get_study_importances(trials, seed);
  }
  auto duration = std::async(std::launch::async, [&trials, seed] {
    return get_importance_info(trials, ImportanceTarget::Duration, seed);
  });
  std::vector<std::future<ImportanceInfo>> each;
  for (size_t k = 0; k < directions.size(); ++k) {
    each.push_back(std::async(std::launch::async, [&trials, k, seed] {
      return get_importance_info(objective_trials(trials, k), ImportanceTarget::Value, seed);
    }));
  }
  StudyImportances out;
  for (auto& f : each) {
    out.objectives.push_back(f.get());
  }
  out.value = out.objectives.front();
  out.duration = duration.get();
  return out;
}

StudyImportances get_study_importances(const std::vector<FrozenTrial>& trials, uint64_t seed) {
  auto duration = std::async(std::launch::async, [&trials, seed] {
    return get_importance_info(trials, ImportanceTarget::Duration, seed);
  });
  StudyImportances out;
  out.value = get_importance_info(trials, ImportanceTarget::Value, seed);
  out.duration = duration.get();
  return out;
}

std::vector<std::string> ranked_names(const ImportanceInfo& info) {
  std::vector<std::string> out;
  for (const auto& [name, importance] : info.importances) {
    out.push_back(name);
  }
  return out;
}

std::vector<std::string> quick_param_ranking(const std::vector<FrozenTrial>& trials) {
  constexpr int k_bins = 10;
  const std::vector<int> idx = complete_indices(trials);
  const std::set<std::string> names = param_names(trials, idx);
  std::vector<std::pair<double, std::string>> scored;
  for (const std::string& name : names) {
    const ParamAxis axis = make_param_axis(trials, idx, name);
    const size_t n_bins = axis.categorical ? std::max<size_t>(axis.labels.size(), 1) : k_bins;
    std::vector<double> sum(n_bins, 0.0);
    std::vector<double> count(n_bins, 0.0);
    std::vector<std::pair<size_t, double>> points;  // (bin, value scaled into [-1, 1])
    std::vector<double> values;
    for (int i : idx) {
      values.push_back(*trials[i].value);
    }
    const double scale = unit_scale(values);  // Squares of values near DBL_MAX stay finite.
    for (int i : idx) {
      const double x = axis_value(axis, trials[i]);
      if (std::isnan(x) || (axis.categorical && x < 0)) {
        continue;
      }
      const size_t bin =
          axis.categorical
              ? std::min(static_cast<size_t>(x), n_bins - 1)
              : static_cast<size_t>(std::clamp(axis_position(axis, x) * k_bins, 0.0, k_bins - 1.0));
      points.emplace_back(bin, *trials[i].value * scale);
      sum[bin] += *trials[i].value * scale;
      count[bin] += 1;
    }
    double mean = 0.0;
    for (const auto& [bin, v] : points) {
      mean += v / static_cast<double>(points.size());
    }
    double total = 0.0;
    double between = 0.0;
    for (const auto& [bin, v] : points) {
      total += (v - mean) * (v - mean);
      const double bin_mean = sum[bin] / count[bin];
      between += (bin_mean - mean) * (bin_mean - mean);
    }
    const double eta = total > 0 && std::isfinite(total) ? between / total : 0.0;
    scored.emplace_back(std::isfinite(eta) ? eta : 0.0, name);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& [score, name] : scored) {
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace hpt::reports
