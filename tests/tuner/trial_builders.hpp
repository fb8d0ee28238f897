#pragma once
// Small builders of FrozenTrial histories for the tuner tests.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt::test {

inline FrozenTrial make_trial(int number, TrialState state, std::optional<double> value,
                              std::map<std::string, double> params = {},
                              std::map<int64_t, double> intermediate = {}) {
  FrozenTrial t;
  t.id = number + 1;
  t.number = number;
  t.state = state;
  t.value = value;
  t.params = std::move(params);
  t.intermediate_values = std::move(intermediate);
  return t;
}

inline FrozenTrial complete(int number, double value, std::map<std::string, double> params = {}) {
  return make_trial(number, TrialState::Complete, value, std::move(params));
}

}  // namespace hpt::test
