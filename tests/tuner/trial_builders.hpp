#pragma once
// Small builders of FrozenTrial histories for the tuner tests.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/sampler.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt::test {

inline FrozenTrial make_trial(int number, TrialState state, std::optional<double> value,
                              std::map<std::string, double> params = {},
                              hpt::StepValues intermediate = {}) {
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

// COMPLETE trials numbered 0, 1, ... with one vector of objective values each.
inline std::vector<FrozenTrial> complete_with_values(
    const std::vector<std::vector<double>>& values) {
  std::vector<FrozenTrial> out;
  for (size_t i = 0; i < values.size(); ++i) {
    FrozenTrial t;
    t.number = static_cast<int>(i);
    t.state = TrialState::Complete;
    t.values = values[i];
    out.push_back(t);
  }
  return out;
}

// A training run's mixed space: a float, a log float, a stepped int and a categorical (CMA-ES's and
// QMC's tests: the numbers go to the sampler, the categorical to its independent sampler).
inline SearchSpace mixed_space() {
  return {{"x", FloatDistribution{-5, 5, false, {}}},
          {"lr", FloatDistribution{1e-5, 1e-1, true, {}}},
          {"units", IntDistribution{16, 256, false, 16}},
          {"opt", CategoricalDistribution{{"sgd", "adam"}}}};
}

// The trial numbers, in order.
inline std::vector<int> numbers(const std::vector<const FrozenTrial*>& trials) {
  std::vector<int> out;
  for (const auto* t : trials) {
    out.push_back(t->number);
  }
  return out;
}

// Runs n trials one after another (each finished before the next is sampled, as jobs: 1), each
// keeping the system attributes the sampler set, finished at second i.
inline std::vector<FrozenTrial> run(
    Sampler& sampler, int n, const SearchSpace& space,
    const std::function<double(const std::map<std::string, double>&)>& f,
    Direction direction = Direction::Minimize) {
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    std::map<std::string, Json> attrs;
    SampleContext ctx(direction, &trials, i, {}, &attrs);
    FrozenTrial t;
    t.number = i;
    t.params = sampler.sample(space, ctx);
    t.system_attrs = attrs;
    t.state = TrialState::Complete;
    t.value = f(t.params);
    t.datetime_complete = Clock::time_point(std::chrono::seconds(i));
    trials.push_back(std::move(t));
  }
  return trials;
}

// On mixed_space(): (x - 1)² + (log10 lr + 3)² + ((units - 128) / 64)², plus 1 for sgd: minimum 0
// at x = 1, lr = 1e-3, units = 128, adam.
inline double mixed_objective(const std::map<std::string, double>& p) {
  const double a = p.at("x") - 1;
  const double b = std::log10(p.at("lr")) + 3;
  const double c = (p.at("units") - 128) / 64;
  return a * a + b * b + c * c + (p.at("opt") == 0 ? 1.0 : 0.0);
}

// The lowest value of trials (COMPLETE ones with values).
inline double lowest_value(const std::vector<FrozenTrial>& trials) {
  double b = std::numeric_limits<double>::infinity();
  for (const auto& t : trials) {
    b = std::min(b, *t.value);
  }
  return b;
}

}  // namespace hpt::test
