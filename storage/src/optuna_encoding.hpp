#pragma once
// Internal to the storage backends: how Optuna 3.1's RDB schema encodes values, states and
// datetimes, shared by the SQLite and PostgreSQL backends.

#include <optional>
#include <string>
#include <vector>

#include "hpt/io/datetime_text.hpp"
#include "hpt/tuner/trial.hpp"

namespace hpt {

// A value as Optuna's TrialValueModel / TrialIntermediateValueModel store it: finite
// values as they are; NaN and infinities as NULL plus the type "NAN" / "INF_POS" / "INF_NEG".
struct StoredValue {
  std::optional<double> value;  // std::nullopt stands for SQL NULL.
  const char* type = "FINITE";
};

StoredValue encode_value(double v);

// The inverse of encode_value; value is std::nullopt for SQL NULL (read as NaN).
double decode_value(const std::optional<double>& value, const std::string& type);

// An attribute column (value_json) as read from a database that may hold anything:
// python_json_loads(text), or, when that fails or the text is nested deeper than
// k_max_json_depth, a string "<unreadable: why>" in its place (the database is not changed),
// and why in *problem when given.
Json stored_json_or_note(const std::string& text, std::string* problem = nullptr);

// A study_directions.direction text: MINIMIZE / MAXIMIZE, anything else (Optuna's NOT_SET,
// text hpt cannot read) is Direction::NotSet.
Direction direction_from_stored(const std::string& text);

// The directions of a study from its study_directions rows (objective, direction text) in
// any order: by objective; {NotSet} when there is none.
std::vector<Direction> directions_from_rows(std::vector<std::pair<int64_t, std::string>> rows);

// "'COMPLETE', 'PRUNED'": the states as an SQL list for "state IN (...)".
std::string states_sql(const std::vector<TrialState>& states);

// Now as Optuna writes datetime_start / datetime_complete (local time, no zone).
std::string now_local();

// Local datetime text <-> time point; std::nullopt (SQL NULL) passes through.
std::optional<Clock::time_point> parse_local(const std::optional<std::string>& text);
std::optional<std::string> format_local(const std::optional<Clock::time_point>& t);

}  // namespace hpt
