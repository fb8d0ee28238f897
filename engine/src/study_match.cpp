#include "hpt/engine/study_match.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <stdexcept>

namespace hpt {

std::string directions_text(const std::vector<Direction>& directions) {
  std::string out;
  for (Direction d : directions) {
    out += (out.empty() ? "" : ", ") + direction_name(d);
  }
  return directions.size() == 1 ? out : "[" + out + "]";
}

void check_study_matches(Storage& storage, const std::string& study_name,
                         const std::vector<Direction>& directions, const SearchSpace& space) {
  const std::optional<StudyInfo> study = storage.find_study(study_name);
  if (!study) {
    return;
  }
  if (study->directions != directions) {
    throw std::invalid_argument(
        fmt::format("study '{}' exists with {} {}, but the config says {}; use another study name",
                    study_name, study->is_multi_objective() ? "directions" : "direction",
                    directions_text(study->directions), directions_text(directions)));
  }
  std::map<std::string, const Distribution*> declared;
  for (const auto& [name, d] : space) {
    declared[name] = &d;
  }
  for (const FrozenTrial& t : *storage.trials_snapshot(study->id)) {
    for (const auto& [name, stored] : t.distributions) {
      auto it = declared.find(name);
      if (it == declared.end()) {
        continue;
      }
      if (auto problem = compatibility_problem(stored, *it->second)) {
        throw std::invalid_argument(fmt::format(
            "study '{}': search_space.{}: {} (stored by trial {}: {}; the config: {}); Optuna "
            "refuses such a change, so hpt does too: use another study name",
            study_name, name, *problem, t.number, distribution_text(stored),
            distribution_text(*it->second)));
      }
    }
  }
}

}  // namespace hpt
