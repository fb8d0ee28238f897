#include "hpt/engine/study_match.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "hpt/storage/attribute_names.hpp"

namespace hpt {

std::string directions_text(const std::vector<Direction>& directions) {
  std::string out;
  for (Direction d : directions) {
    out += (out.empty() ? "" : ", ") + direction_name(d);
  }
  return directions.size() == 1 ? out : "[" + out + "]";
}

namespace {

[[noreturn]] void refuse_change(const std::string& study_name, const std::string& name,
                                const std::string& problem, const std::string& source,
                                const Distribution& stored, const Distribution& declared) {
  throw std::invalid_argument(fmt::format(
      "study '{}': search_space.{}: {} ({}: {}; the config: {}); Optuna refuses "
      "such a change, so hpt does too: use another study name",
      study_name, name, problem, source, distribution_text(stored), distribution_text(declared)));
}

}  // namespace

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
  // Trials share the Choices of one stored categorical (the storage's DistributionCache):
  // each list is checked once, not once a trial (5,000 choices x 20,000 trials).
  std::map<std::string, Choices> checked;
  for (const FrozenTrial& t : *storage.trials_snapshot(study->id)) {
    for (const auto& [name, stored] : t.distributions) {
      auto it = declared.find(name);
      if (it == declared.end()) {
        continue;
      }
      const auto* categorical = std::get_if<CategoricalDistribution>(&stored);
      if (categorical && checked.count(name) && checked[name].shares(categorical->choices)) {
        continue;
      }
      if (auto problem = compatibility_problem(stored, *it->second)) {
        refuse_change(study_name, name, *problem, fmt::format("stored by trial {}", t.number),
                      stored, *it->second);
      }
      if (categorical) {
        checked[name] = categorical->choices;
      }
    }
  }
}

void claim_search_space(Storage& storage, int64_t study_id, const std::string& study_name,
                        const SearchSpace& space) {
  Json mine = Json::object();
  for (const auto& [name, d] : space) {
    mine[name] = Json::parse(distribution_to_json(d));
  }
  Json recorded = storage.study_system_attr_once(study_id, k_search_space_attr, mine);
  if (!recorded.is_object()) {
    recorded = Json::object();  // Not hpt's record: the trials' check stands alone.
  }
  bool added = false;
  for (const auto& [name, d] : space) {
    const auto it = recorded.find(name);
    if (it == recorded.end()) {
      recorded[name] = mine[name];
      added = true;
      continue;
    }
    std::optional<Distribution> stored;
    try {
      stored = distribution_from_json(it->dump());
    } catch (const std::invalid_argument&) {
      continue;
    }
    if (auto problem = compatibility_problem(*stored, d)) {
      refuse_change(study_name, name, *problem, "recorded by an earlier run", *stored, d);
    }
  }
  if (added) {
    storage.set_study_system_attr(study_id, k_search_space_attr, recorded);
  }
}

std::vector<std::string> record_run_settings(Storage& storage, int64_t study_id,
                                             const RunSettings& settings) {
  const Json now = {{"fixed", settings.fixed},
                    {"command", settings.command},
                    {"parameters", settings.parameters}};
  const auto attrs = storage.study_system_attrs(study_id);
  const auto it = attrs.find(k_run_settings_attr);
  std::vector<std::string> warnings;
  if (it != attrs.end() && it->second.is_object()) {
    const Json& before = it->second;
    const Json fixed = before.value("fixed", Json::object());
    if (fixed != settings.fixed && fixed.is_object()) {
      std::vector<std::string> changed;
      for (const auto& [key, value] : settings.fixed.items()) {
        if (!fixed.contains(key) || fixed.at(key) != value) {
          changed.push_back(key);
        }
      }
      for (const auto& [key, value] : fixed.items()) {
        if (!settings.fixed.contains(key)) {
          changed.push_back(key);
        }
      }
      warnings.push_back(fmt::format(
          "fixed differs from the study's last run ({} changed): its earlier trials ran with the "
          "old values, and they are compared with the new ones",
          fmt::join(changed, ", ")));
    }
    if (before.value("command", Json()) != now.at("command")) {
      warnings.push_back(fmt::format(
          "objective.command differs from the study's last run ({} before): its earlier trials "
          "ran another objective, and they are compared with the new ones",
          before.value("command", Json()).dump()));
    }
    const Json names = before.value("parameters", Json::array());
    if (names != now.at("parameters") && names.is_array()) {
      // The names in list that are not in other.
      const auto missing = [](const Json& list, const Json& other) {
        std::vector<std::string> out;
        for (const auto& name : list) {
          if (std::find(other.begin(), other.end(), name) == other.end()) {
            out.push_back(name.is_string() ? name.get<std::string>() : name.dump());
          }
        }
        return out;
      };
      const auto added = missing(now.at("parameters"), names);
      const auto dropped = missing(names, now.at("parameters"));
      if (!added.empty() || !dropped.empty()) {
        warnings.push_back(fmt::format(
            "the search space {}{}{} since the study's last run: earlier trials have other "
            "parameters",
            added.empty() ? "" : fmt::format("adds {}", fmt::join(added, ", ")),
            !added.empty() && !dropped.empty() ? " and " : "",
            dropped.empty() ? "" : fmt::format("drops {}", fmt::join(dropped, ", "))));
      }
    }
  }
  if (it == attrs.end() || it->second != now) {
    storage.set_study_system_attr(study_id, k_run_settings_attr, now);
  }
  return warnings;
}

}  // namespace hpt
