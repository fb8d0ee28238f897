#pragma once
// Small hand-made studies and an in-memory Storage for the reports tests.

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "hpt/storage/storage.hpp"

namespace hpt::test {

inline FrozenTrial make_trial(int number, TrialState state, std::optional<double> value,
                              std::map<std::string, std::pair<double, Distribution>> params = {}) {
  FrozenTrial t;
  t.id = number + 1;
  t.number = number;
  t.state = state;
  t.value = value;
  for (auto& [name, pd] : params) {
    t.params[name] = pd.first;
    t.distributions[name] = pd.second;
  }
  return t;
}

// A single-objective study's description.
inline StudyInfo study_info(int64_t id, const std::string& name,
                            Direction direction = Direction::Minimize) {
  StudyInfo s;
  s.id = id;
  s.name = name;
  s.directions = {direction};
  return s;
}

inline const FloatDistribution k_unit{0.0, 1.0, false, std::nullopt};
inline const FloatDistribution k_lr{1e-5, 1e-1, true, std::nullopt};
inline const IntDistribution k_layers{1, 4, false, 1};
inline const IntDistribution k_batch{16, 256, false, 16};
inline const CategoricalDistribution k_opt{{Json("adam"), Json("sgd"), Json::parse("[1,2]")}};

// The seeded draws of the sample studies.
class SampleDraws {
 public:
  explicit SampleDraws(uint64_t seed) : m_rng(seed) {}
  // Uniform in [0, 1).
  double unit() { return m_unit(m_rng); }
  // lr (log-uniform over k_lr), layers and batch on their distributions' grids, drawn in order.
  std::tuple<double, double, double> lr_layers_batch() {
    const double lr = std::exp(std::log(1e-5) + unit() * std::log(1e4));
    const double layers = 1 + std::floor(unit() * 4);
    return {lr, layers, 16 * (1 + std::floor(unit() * 16))};
  }

 private:
  std::mt19937_64 m_rng;
  std::uniform_real_distribution<double> m_unit{0.0, 1.0};
};

// Trial number i of a sample study starts at 100 i seconds and runs 1 + layers seconds.
inline void set_sample_times(FrozenTrial& t, int i, double layers) {
  t.datetime_start = Clock::time_point{} + std::chrono::seconds(100 * i);
  t.datetime_complete =
      *t.datetime_start + std::chrono::milliseconds(static_cast<int>(1000 * (1 + layers)));
}

// A seeded study of n trials over lr (log), layers (int), batch (step int), opt (categorical
// with a list choice), x (float, only in even trials); every 7th trial PRUNED, every 11th FAIL,
// intermediate values for all, durations of 1 + layers seconds.
inline std::vector<FrozenTrial> mixed_study(int n, uint64_t seed = 3) {
  SampleDraws draw(seed);
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    const auto [lr, layers, batch] = draw.lr_layers_batch();
    const double opt = std::floor(draw.unit() * 3);
    const double x = draw.unit();
    const double value = (std::log10(lr) + 3) * (std::log10(lr) + 3) + 0.5 * opt + 0.1 * layers;
    TrialState state = i % 11 == 10 ? TrialState::Fail
                       : i % 7 == 6 ? TrialState::Pruned
                                    : TrialState::Complete;
    std::map<std::string, std::pair<double, Distribution>> params = {{"lr", {lr, k_lr}},
                                                                     {"layers", {layers, k_layers}},
                                                                     {"batch", {batch, k_batch}},
                                                                     {"opt", {opt, k_opt}}};
    if (i % 2 == 0) {
      params["x"] = {x, k_unit};
    }
    FrozenTrial t = make_trial(
        i, state, state == TrialState::Fail ? std::nullopt : std::optional<double>(value), params);
    for (int s = 0; s < (state == TrialState::Pruned ? 3 : 10); ++s) {
      t.intermediate_values[s] = value + 1.0 / (s + 1);
    }
    set_sample_times(t, i, layers);
    t.user_attrs["recall_at_1"] = 0.5;
    trials.push_back(std::move(t));
  }
  return trials;
}

// A COMPLETE (or given state) trial with several objective values, as a storage reads a
// multi-objective trial (values set, value none).
inline FrozenTrial make_mo_trial(int number, std::vector<double> values,
                                 TrialState state = TrialState::Complete) {
  FrozenTrial t = make_trial(number, state, std::nullopt, {{"x", {0.1 * number, k_unit}}});
  t.values = std::move(values);
  return t;
}

// A seeded multi-objective study of n trials over lr, layers, batch (as mixed_study):
// objective 0 = (log10 lr + 3)^2 (driven by lr), objective 1 = layers (+ noise), objective 2
// (when n_objectives == 3) = batch / 16; every 9th trial FAIL (no values), durations 1 + layers.
inline std::vector<FrozenTrial> mo_study(int n, int n_objectives = 2, uint64_t seed = 5) {
  SampleDraws draw(seed);
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    const auto [lr, layers, batch] = draw.lr_layers_batch();
    const double noise = 0.01 * draw.unit();
    FrozenTrial t = make_trial(
        i, i % 9 == 8 ? TrialState::Fail : TrialState::Complete, std::nullopt,
        {{"lr", {lr, k_lr}}, {"layers", {layers, k_layers}}, {"batch", {batch, k_batch}}});
    if (t.state == TrialState::Complete) {
      t.values = {(std::log10(lr) + 3) * (std::log10(lr) + 3), layers + noise};
      if (n_objectives == 3) {
        t.values.push_back(batch / 16);
      }
    }
    set_sample_times(t, i, layers);
    trials.push_back(std::move(t));
  }
  return trials;
}

// Keeps studies and trials in memory; only what the reports read is implemented.
class MemoryStorage : public Storage {
 public:
  using Storage::create_study;
  int64_t create_study(const std::string& name, const std::vector<Direction>& directions) override {
    StudyInfo s = study_info(static_cast<int64_t>(m_studies.size() + 1), name, directions.at(0));
    s.directions = directions;
    m_studies.push_back(s);
    return s.id;
  }
  std::optional<StudyInfo> find_study(const std::string& name) override {
    for (const auto& s : m_studies) {
      if (s.name == name) {
        return s;
      }
    }
    return std::nullopt;
  }
  std::vector<StudyInfo> list_studies() override { return m_studies; }
  void delete_study(int64_t study_id) override {
    m_studies.erase(std::remove_if(m_studies.begin(), m_studies.end(),
                                   [&](const StudyInfo& s) { return s.id == study_id; }),
                    m_studies.end());
    m_trials.erase(study_id);
  }
  void set_study_user_attr(int64_t, const std::string&, const Json&) override {}
  void set_study_system_attr(int64_t, const std::string&, const Json&) override {}
  std::map<std::string, Json> study_user_attrs(int64_t) override { return {}; }
  std::map<std::string, Json> study_system_attrs(int64_t) override { return {}; }
  Json study_system_attr_once(int64_t, const std::string&, const Json& v) override { return v; }
  std::optional<TrialClaim> claim_trial(int64_t, int, const Json&,
                                        const std::function<bool(const FrozenTrial&)>&) override {
    throw std::logic_error("not implemented");
  }
  int64_t create_trial(int64_t study_id, const FrozenTrial& templ) override {
    m_trials[study_id].push_back(templ);
    return static_cast<int64_t>(m_trials[study_id].size());
  }
  int64_t import_study(const StudyImport&) override { throw StorageError("not implemented"); }
  void set_trial_param(int64_t, const std::string&, double, const Distribution&) override {}
  void set_trial_intermediate_values(int64_t,
                                     const std::vector<std::pair<int64_t, double>>&) override {}
  void set_trial_user_attr(int64_t, const std::string&, const Json&) override {}
  void set_trial_system_attr(int64_t, const std::string&, const Json&) override {}
  bool set_trial_state_values(int64_t, TrialState, const std::vector<double>&, const Json*,
                              const Json*) override {
    return false;
  }
  void record_heartbeat(int64_t) override {}
  void disown_trial(int64_t) override {}
  std::optional<double> heartbeat_age(int64_t) override { return std::nullopt; }
  FrozenTrial get_trial(int64_t) override { throw StorageError("not implemented"); }
  void save_copy(const std::string&) override { throw StorageError("not implemented"); }
  std::vector<FrozenTrial> get_all_trials(int64_t study_id,
                                          const std::vector<TrialState>& = {}) override {
    return m_trials[study_id];
  }
  int count_trials(int64_t study_id, const std::vector<TrialState>& = {}) override {
    return static_cast<int>(m_trials[study_id].size());
  }

 private:
  std::vector<StudyInfo> m_studies;
  std::map<int64_t, std::vector<FrozenTrial>> m_trials;
};

// n COMPLETE trials over x in [0, 1) and "pick", a categorical of 65 choices (more than the
// 64 past which importances thin the trials); the value follows x, pick barely.
inline std::vector<FrozenTrial> many_choice_study(int n) {
  Choices names;
  for (int c = 0; c < 65; ++c) {
    names.push_back(Json("c" + std::to_string(c)));
  }
  const Distribution many = CategoricalDistribution{names};
  std::vector<FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    const double x = (i % 97) / 97.0;
    trials.push_back(make_trial(i, TrialState::Complete, 10 * x + (i % 65) * 0.01,
                                {{"x", {x, k_unit}}, {"pick", {i % 65, many}}}));
  }
  return trials;
}

}  // namespace hpt::test
