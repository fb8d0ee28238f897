#include "hpt/tuner/constraints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "hpt/tuner/multi_objective.hpp"

namespace hpt {

std::optional<std::vector<double>> trial_constraints(const FrozenTrial& t) {
  const auto it = t.system_attrs.find(k_constraints_attr);
  if (it == t.system_attrs.end() || !it->second.is_array() || it->second.empty()) {
    return std::nullopt;
  }
  std::vector<double> out;
  for (const Json& v : it->second) {
    if (!v.is_number() || std::isnan(v.get<double>())) {
      return std::nullopt;
    }
    out.push_back(v.get<double>());
  }
  return out;
}

double violation_of(const std::vector<double>& constraints) {
  double sum = 0.0;
  for (double v : constraints) {
    sum += v > 0.0 ? v : 0.0;
  }
  return sum;
}

std::optional<double> constraint_violation(const FrozenTrial& t) {
  const auto values = trial_constraints(t);
  return values ? std::optional<double>(violation_of(*values)) : std::nullopt;
}

bool is_feasible(const FrozenTrial& t) {
  if (const auto values = trial_constraints(t)) {
    return constraints_met(*values);
  }
  const auto it = t.system_attrs.find(k_constraints_attr);
  return it == t.system_attrs.end() || it->second.is_null() ||
         (it->second.is_array() && it->second.empty());
}

bool constraints_reported(const std::vector<FrozenTrial>& trials) {
  return std::any_of(trials.begin(), trials.end(),
                     [](const FrozenTrial& t) { return constraint_violation(t).has_value(); });
}

bool constrained_dominates(const FrozenTrial& a, const FrozenTrial& b,
                           const std::vector<Direction>& directions) {
  const auto va = constraint_violation(a);
  const auto vb = constraint_violation(b);
  if (va.has_value() != vb.has_value()) {
    return va.has_value();
  }
  if (va && (*va > 0.0 || *vb > 0.0)) {
    return *va == 0.0 || (*vb > 0.0 && *va < *vb);
  }
  return dominates(a.objective_values(), b.objective_values(), directions);
}

std::string constraints_count_problem(size_t count, const std::vector<FrozenTrial>& trials) {
  if (count > k_max_constraints) {
    return fmt::format("{} constraint values; at most {}", count, k_max_constraints);
  }
  for (const FrozenTrial& t : trials) {
    if (const auto c = trial_constraints(t)) {
      if (c->size() == count) {
        return "";
      }
      return fmt::format(
          "{} constraint value{}, but trial {} of the study reported {}: each trial reports the "
          "same constraints (Optuna cannot compare trials with different numbers of them)",
          count, count == 1 ? "" : "s", t.number, c->size());
    }
  }
  return "";
}

}  // namespace hpt
