#include "trial_assembler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "hpt/io/utf8.hpp"
#include "hpt/storage/storage.hpp"
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
    t.number = static_cast<int>(r.number);
    if (!r.unread_number.empty()) {
      note_problem(t, fmt::format("trial number '{}' is not an integer, read as -1",
                                  utf8_prefix(r.unread_number, 40)));
    } else if (r.number < std::numeric_limits<int>::min() ||
               r.number > std::numeric_limits<int>::max()) {
      t.number = -1;
      note_problem(t,
                   fmt::format("trial number {} is beyond what hpt reads, read as -1", r.number));
    }
    try {
      t.state = trial_state_from_name(r.state);
    } catch (const std::invalid_argument& e) {
      t.state = TrialState::Fail;  // Neither sampled from nor counted as finished work.
      note_problem(t, std::string(e.what()) + ", read as FAIL");
    }
    t.datetime_start = parse_local(r.start);
    t.datetime_complete = parse_local(r.complete);
    for (const auto& [column, text, parsed] :
         {std::tuple{"datetime_start", r.start, t.datetime_start.has_value()},
          std::tuple{"datetime_complete", r.complete, t.datetime_complete.has_value()}}) {
      if (text && !parsed) {
        note_problem(
            t, fmt::format("{} '{}' is not a date hpt can read", column, utf8_prefix(*text, 40)));
      }
    }
    m_index.emplace(r.id, i);
  }
}

FrozenTrial* TrialAssembler::find(int64_t trial_id) {
  auto it = m_index.find(trial_id);
  return it == m_index.end() ? nullptr : &m_trials[it->second];
}

namespace {

void note_problem_in(std::map<std::string, Json>& notes, const std::string& problem) {
  Json& list = notes[k_read_problems_attr];
  if (!list.is_array()) {
    list = Json::array();
  }
  list.push_back(problem);
}

}  // namespace

void read_attr_row(std::map<std::string, Json>& attrs, std::map<std::string, Json>& notes,
                   const char* kind, std::string key, const std::string& value_json) {
  if (key == k_read_problems_attr && &attrs == &notes) {
    return;
  }
  std::string problem;
  Json value = stored_json_or_note(value_json, &problem);
  if (!problem.empty()) {
    note_problem_in(notes, fmt::format("{} attribute {}: {}", kind, utf8_prefix(key, 60),
                                       utf8_prefix(problem, 200)));
  }
  attrs[std::move(key)] = std::move(value);
}

void TrialAssembler::note_problem(FrozenTrial& t, const std::string& problem) {
  note_problem_in(t.system_attrs, problem);
}

void TrialAssembler::add_param(int64_t trial_id, const std::string& name, double internal,
                               const std::string& distribution_json) {
  FrozenTrial* t = find(trial_id);
  if (!t) {
    return;
  }
  try {
    const Distribution& d = m_distributions.parse(distribution_json);
    validate(d);
    if (!std::isfinite(internal) ||
        (std::holds_alternative<CategoricalDistribution>(d) && !contains(d, internal))) {
      note_problem(*t,
                   fmt::format("param {}: value {} is not in its distribution", name, internal));
      return;
    }
    t->params[name] = internal;
    t->distributions[name] = d;
  } catch (const std::invalid_argument& e) {
    note_problem(*t, "param " + name + ": " + e.what());
  }
}

void TrialAssembler::add_value(int64_t trial_id, int64_t objective,
                               const std::optional<double>& value, const std::string& type) {
  if (FrozenTrial* t = find(trial_id)) {
    const double v = decode_value(value, type);
    if (std::isnan(v)) {  // Optuna stores no NaN value: NULL or text where a number belongs.
      note_problem(*t, fmt::format("value of objective {}: not a number", objective));
    }
    m_values[trial_id].emplace_back(objective, v);
  }
}

void TrialAssembler::add_intermediate(int64_t trial_id, int64_t step,
                                      const std::optional<double>& value, const std::string& type) {
  if (FrozenTrial* t = find(trial_id)) {
    t->intermediate_values[step] = decode_value(value, type);
  }
}

void TrialAssembler::add_attr(int64_t trial_id, bool system, std::string key,
                              const std::string& value_json) {
  if (FrozenTrial* t = find(trial_id)) {
    read_attr_row(system ? t->system_attrs : t->user_attrs, t->system_attrs,
                  system ? "system" : "user", std::move(key), value_json);
  }
}

std::vector<FrozenTrial> TrialAssembler::take() {
  for (auto& [id, values] : m_values) {
    FrozenTrial& t = *find(id);
    std::sort(values.begin(), values.end());
    t.values.clear();
    for (const auto& [objective, v] : values) {
      if (objective == static_cast<int64_t>(t.values.size())) {
        t.values.push_back(v);
      } else {
        note_problem(t,
                     fmt::format("value of objective {}: {}, left out", objective,
                                 objective < 0 || objective < static_cast<int64_t>(t.values.size())
                                     ? "not an objective's index, or a second value for one"
                                     : fmt::format("objective {} has no value", t.values.size())));
      }
    }
    t.value = t.values.size() == 1 ? std::optional<double>(t.values[0]) : std::nullopt;
  }
  m_values.clear();
  m_index.clear();  // Rows added from now on belong to no trial.
  return std::move(m_trials);
}

std::optional<ReadProblems> read_problems_of(const std::vector<FrozenTrial>& trials) {
  std::optional<ReadProblems> out;
  for (const FrozenTrial& t : trials) {
    const auto it = t.system_attrs.find(k_read_problems_attr);
    if (it == t.system_attrs.end()) {
      continue;
    }
    if (!out) {
      const Json& problems = it->second;
      out = ReadProblems{0, t.number,
                         problems.is_array() && !problems.empty() && problems[0].is_string()
                             ? problems[0].get<std::string>()
                             : problems.dump(-1, ' ', false, Json::error_handler_t::replace)};
    }
    ++out->trials;
  }
  return out;
}

}  // namespace hpt
