#include "hpt/tuner/trial.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"

namespace hpt {

std::string trial_state_name(TrialState s) {
  switch (s) {
    case TrialState::Running:
      return "RUNNING";
    case TrialState::Complete:
      return "COMPLETE";
    case TrialState::Pruned:
      return "PRUNED";
    case TrialState::Fail:
      return "FAIL";
    case TrialState::Waiting:
      return "WAITING";
  }
  return "FAIL";
}

TrialState trial_state_from_name(const std::string& name) {
  for (auto s : {TrialState::Running, TrialState::Complete, TrialState::Pruned, TrialState::Fail,
                 TrialState::Waiting}) {
    if (trial_state_name(s) == name) {
      return s;
    }
  }
  throw std::invalid_argument("unknown trial state '" + name + "'");
}

bool is_finished(TrialState s) {
  return s == TrialState::Complete || s == TrialState::Pruned || s == TrialState::Fail;
}

std::string direction_name(Direction d) {
  switch (d) {
    case Direction::Minimize:
      return "MINIMIZE";
    case Direction::Maximize:
      return "MAXIMIZE";
    case Direction::NotSet:
      break;
  }
  return "NOT_SET";
}

Direction direction_from_name(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up == "MINIMIZE") {
    return Direction::Minimize;
  }
  if (up == "MAXIMIZE") {
    return Direction::Maximize;
  }
  std::string low = name;  // "Minimise", "MAXIMISE": the hint in the case Optuna spells.
  std::transform(low.begin(), low.end(), low.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  throw std::invalid_argument("direction must be 'minimize' or 'maximize', but got '" + name + "'" +
                              did_you_mean(low, {"minimize", "maximize"}));
}

bool is_better(double a, double b, Direction d) {
  if (std::isnan(a)) {
    return false;
  }
  if (std::isnan(b)) {
    return true;
  }
  return d == Direction::Maximize ? a > b : a < b;
}

std::optional<int64_t> FrozenTrial::last_step() const {
  if (intermediate_values.empty()) {
    return std::nullopt;
  }
  return intermediate_values.rbegin()->first;
}

std::vector<double> FrozenTrial::objective_values() const {
  if (!values.empty()) {
    return values;
  }
  return value ? std::vector<double>{*value} : std::vector<double>{};
}

Json FrozenTrial::external_params() const {
  Json out = Json::object();
  for (const auto& [name, internal] : params) {
    auto it = distributions.find(name);
    out[name] = it == distributions.end() ? Json(internal) : to_external(it->second, internal);
  }
  return out;
}

std::optional<double> FrozenTrial::duration_seconds() const {
  if (!datetime_start || !datetime_complete) {
    return std::nullopt;
  }
  return std::chrono::duration<double>(*datetime_complete - *datetime_start).count();
}

}  // namespace hpt
