#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "hpt/reports/info.hpp"
#include "hpt/reports/svg.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/tuner/constraints.hpp"

namespace hpt::reports {
namespace {

std::optional<RocCurve> parse_roc(const Json& j) {
  if (!j.is_object() || !j.contains("fpr") || !j.contains("tpr") || !j["fpr"].is_array() ||
      !j["tpr"].is_array() || j["fpr"].size() != j["tpr"].size()) {
    return std::nullopt;
  }
  RocCurve roc;
  for (size_t i = 0; i < j["fpr"].size(); ++i) {
    if (!j["fpr"][i].is_number() || !j["tpr"][i].is_number()) {
      return std::nullopt;
    }
    roc.fpr.push_back(j["fpr"][i].get<double>());
    roc.tpr.push_back(j["tpr"][i].get<double>());
  }
  if (j.contains("auc") && j["auc"].is_number()) {
    roc.auc = j["auc"].get<double>();
  }
  return roc;
}

std::optional<std::vector<std::vector<double>>> parse_confusion(const Json& j) {
  if (j.is_object()) {
    for (const char* key : {"tn", "fp", "fn", "tp"}) {
      if (!j.contains(key) || !j[key].is_number()) {
        return std::nullopt;
      }
    }
    return std::vector<std::vector<double>>{{j["tn"].get<double>(), j["fp"].get<double>()},
                                            {j["fn"].get<double>(), j["tp"].get<double>()}};
  }
  if (!j.is_array() || j.empty()) {
    return std::nullopt;
  }
  std::vector<std::vector<double>> m;
  for (const Json& row : j) {
    if (!row.is_array() || row.size() != j.size()) {
      return std::nullopt;
    }
    m.emplace_back();
    for (const Json& v : row) {
      if (!v.is_number()) {
        return std::nullopt;
      }
      m.back().push_back(v.get<double>());
    }
  }
  return m;
}

}  // namespace

SummaryInfo get_summary_info(const std::string& study_name, Direction direction,
                             const std::vector<FrozenTrial>& trials) {
  SummaryInfo info;
  info.study_name = study_name;
  info.direction = direction;
  info.n_trials = static_cast<int>(trials.size());
  for (auto s : {TrialState::Complete, TrialState::Pruned, TrialState::Fail, TrialState::Running,
                 TrialState::Waiting}) {
    info.counts[s] = 0;
  }
  for (const FrozenTrial& t : trials) {
    ++info.counts[t.state];
  }
  if (const auto unreadable = read_problems_of(trials)) {
    info.read_problems = fmt::format(
        "{} {} data hpt cannot read, left out where it stands (trial {}: {}); hpt trials and "
        "hpt:read_problems in each trial's system attributes say what",
        unreadable->trials, unreadable->trials == 1 ? "trial holds" : "trials hold",
        unreadable->first_number, unreadable->first);
  }
  if (auto best = best_trial_index(trials, direction)) {
    const FrozenTrial& t = trials[*best];
    info.best_index = static_cast<int>(*best);
    info.best_number = t.number;
    info.best_value = t.value;
    info.best_params = t.external_params();
    info.roc = get_trial_roc(t);
    info.confusion_matrix = get_trial_confusion(t);
  }
  return info;
}

TrialRow get_trial_row(const FrozenTrial& t, int index) {
  TrialRow row{
      index,          t.number, t.state, t.value, t.duration_seconds(), t.external_params(),
      Json::object(), {}};
  if (t.values.size() > 1) {
    row.values = t.values;
  }
  for (const auto& [key, v] : t.user_attrs) {
    if (v.is_primitive() && !v.is_null()) {
      row.attrs[key] = v.is_string() ? Json(shorten(v.get<std::string>(), 200)) : v;
    }
  }
  for (const char* key : {k_fail_reason_attr, k_old_fail_reason_attr}) {
    if (auto it = t.system_attrs.find(key); it != t.system_attrs.end() && it->second.is_string()) {
      row.attrs["fail_reason"] = it->second;
    }
  }
  if (const auto constraints = trial_constraints(t)) {
    row.attrs["constraints"] = fmt::format("[{}]", fmt::join(*constraints, ", "));
    row.attrs["feasible"] = is_feasible(t);
  }
  return row;
}

std::vector<TrialRow> get_trial_rows(const std::vector<FrozenTrial>& trials) {
  std::vector<TrialRow> rows;
  rows.reserve(trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    rows.push_back(get_trial_row(trials[i], static_cast<int>(i)));
  }
  return rows;
}

std::optional<RocCurve> get_trial_roc(const FrozenTrial& t) {
  auto it = t.user_attrs.find("roc_curve");
  return it == t.user_attrs.end() ? std::nullopt : parse_roc(it->second);
}

std::optional<std::vector<std::vector<double>>> get_trial_confusion(const FrozenTrial& t) {
  auto it = t.user_attrs.find("confusion_matrix");
  return it == t.user_attrs.end() ? std::nullopt : parse_confusion(it->second);
}

}  // namespace hpt::reports
