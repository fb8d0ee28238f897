#include <cmath>
#include <stdexcept>

#include "hpt/reports/info.hpp"

namespace hpt::reports {

ImportanceInfo get_importance_info(const std::vector<FrozenTrial>& trials, ImportanceTarget target,
                                   uint64_t seed) {
  ImportanceInfo info;
  info.target = importance_target_name(target);
  const SearchSpace space = intersection_search_space(trials);
  if (space.empty()) {
    info.note = "Not enough trials: no parameter is shared by all COMPLETE trials.";
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
  } catch (const std::invalid_argument& e) {
    info.note = std::string("Not available: ") + e.what() + ".";
    info.importances.clear();
  }
  return info;
}

}  // namespace hpt::reports
