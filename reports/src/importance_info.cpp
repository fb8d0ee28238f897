#include <algorithm>
#include <cmath>
#include <future>
#include <set>
#include <stdexcept>

#include "hpt/reports/info.hpp"

namespace hpt::reports {

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
  for (const FrozenTrial& t : trials) {
    const auto v = target == ImportanceTarget::Value ? t.value : t.duration_seconds();
    info.n_trials_used += t.state == TrialState::Complete && v && std::isfinite(*v) ? 1 : 0;
  }
  FanovaOptions options;
  options.seed = seed;
  try {
    info.importances = sorted_by_importance(fanova_importance(trials, space, target, options));
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
