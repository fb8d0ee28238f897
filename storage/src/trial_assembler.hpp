#pragma once
// Internal to the storage backends: building FrozenTrials from the rows of the trials
// table and of the per-trial tables (params, values, intermediate values, attributes).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hpt/storage/attribute_names.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

// One row of the trials table; datetimes as stored (local time text, std::nullopt for NULL).
struct TrialRow {
  int64_t id = -1;
  int64_t number = -1;  // As stored: another tool's may not fit FrozenTrial::number.
  std::string state;
  std::optional<std::string> start;
  std::optional<std::string> complete;
  std::string unread_number;  // A stored number that is not an integer ('x', 2.5), as text.
};

// An attribute row (key, value_json) read into attrs (a trial's or a study's user or system
// attributes): its JSON, or for text hpt cannot read a placeholder, with a line naming it (kind:
// "user" or "system") added to notes' k_read_problems_attr list. A row keyed k_read_problems_attr
// in the map that holds the notes (hpt's own in-memory note) is never read back from a database.
void read_attr_row(std::map<std::string, Json>& attrs, std::map<std::string, Json>& notes,
                   const char* kind, std::string key, const std::string& value_json);

// distribution_json texts parsed once (a study has few distinct ones).
class DistributionCache {
 public:
  // Throws what distribution_from_json throws for malformed text.
  const Distribution& parse(const std::string& text);

 private:
  std::unordered_map<std::string, Distribution> m_parsed;
};

// Collects the trials of rows and then the rows of the per-trial tables, matched by trial
// id; rows of trials not in rows are ignored. Values and attributes use Optuna's encodings.
// Whatever a database holds, nothing throws: a row hpt cannot read (malformed or too deeply
// nested JSON, an unknown state, a choice index out of range) is left out or replaced, and
// each such problem is listed in the trial's system attribute k_read_problems_attr.
class TrialAssembler {
 public:
  TrialAssembler(const std::vector<TrialRow>& rows, DistributionCache& distributions);

  void add_param(int64_t trial_id, const std::string& name, double internal,
                 const std::string& distribution_json);
  // value is std::nullopt for SQL NULL; type is the value_type column.
  void add_value(int64_t trial_id, int64_t objective, const std::optional<double>& value,
                 const std::string& type);
  void add_intermediate(int64_t trial_id, int64_t step, const std::optional<double>& value,
                        const std::string& type);
  // A row of trial_system_attributes when system, else of trial_user_attributes.
  void add_attr(int64_t trial_id, bool system, std::string key, const std::string& value_json);

  // The trials, in the order of rows, their values by objective (value set when a trial has
  // exactly one); values from objective 0 up to the first missing one, the others left out
  // with a note. The assembler is empty afterwards.
  std::vector<FrozenTrial> take();

 private:
  // nullptr when trial_id is not among the rows.
  FrozenTrial* find(int64_t trial_id);
  static void note_problem(FrozenTrial& t, const std::string& problem);

  std::vector<FrozenTrial> m_trials;
  std::unordered_map<int64_t, size_t> m_index;  // Trial id -> position.
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, double>>> m_values;
  DistributionCache& m_distributions;
};

}  // namespace hpt
