#pragma once
// Datetimes as SQLAlchemy stores them in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff".
// Optuna writes trials.datetime_* in local time (datetime.now()) and heartbeats in
// UTC (SQL CURRENT_TIMESTAMP).

#include <optional>
#include <string>

#include "hpt/tuner/trial.hpp"

namespace hpt {

enum class TimeZone { Local, Utc };

// Formats t with microseconds in the given zone.
std::string format_sql_datetime(Clock::time_point t, TimeZone zone);
// Parses "YYYY-MM-DD[ HH:MM[:SS[.f...]]]" (also a 'T' separator) read in the given zone.
// Returns std::nullopt if the text is not such a datetime.
std::optional<Clock::time_point> parse_sql_datetime(const std::string& text, TimeZone zone);

}  // namespace hpt
