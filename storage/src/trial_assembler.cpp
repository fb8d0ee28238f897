#include "trial_assembler.hpp"

#include <utility>

#include "hpt/storage/optuna_json.hpp"
#include "optuna_encoding.hpp"

namespace hpt {

const Distribution& DistributionCache::parse(const std::string& text) {
  auto it = m_parsed.find(text);
  if (it == m_parsed.end()) {
    it = m_parsed.emplace(text, distribution_from_json(text)).first;
  }
  return it->second;
}

TrialAssembler::TrialAssembler(const std::vector<TrialRow>& rows, DistributionCache& distributions)
    : m_trials(rows.size()), m_distributions(distributions) {
  m_index.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    FrozenTrial& t = m_trials[i];
    t.id = r.id;
    t.number = r.number;
    t.state = trial_state_from_name(r.state);
    t.datetime_start = parse_local(r.start);
    t.datetime_complete = parse_local(r.complete);
    m_index.emplace(r.id, i);
  }
}

FrozenTrial* TrialAssembler::find(int64_t trial_id) {
  auto it = m_index.find(trial_id);
  return it == m_index.end() ? nullptr : &m_trials[it->second];
}

void TrialAssembler::add_param(int64_t trial_id, const std::string& name, double internal,
                               const std::string& distribution_json) {
  if (FrozenTrial* t = find(trial_id)) {
    t->params[name] = internal;
    t->distributions[name] = m_distributions.parse(distribution_json);
  }
}

void TrialAssembler::add_value(int64_t trial_id, const std::optional<double>& value,
                               const std::string& type) {
  if (FrozenTrial* t = find(trial_id)) {
    t->value = decode_value(value, type);
  }
}

void TrialAssembler::add_intermediate(int64_t trial_id, int64_t step,
                                      const std::optional<double>& value, const std::string& type) {
  if (FrozenTrial* t = find(trial_id)) {
    t->intermediate_values[step] = decode_value(value, type);
  }
}

void TrialAssembler::add_user_attr(int64_t trial_id, std::string key,
                                   const std::string& value_json) {
  if (FrozenTrial* t = find(trial_id)) {
    t->user_attrs[std::move(key)] = python_json_loads(value_json);
  }
}

void TrialAssembler::add_system_attr(int64_t trial_id, std::string key,
                                     const std::string& value_json) {
  if (FrozenTrial* t = find(trial_id)) {
    t->system_attrs[std::move(key)] = python_json_loads(value_json);
  }
}

}  // namespace hpt
