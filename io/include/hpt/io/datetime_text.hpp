#pragma once
// Datetimes as text, "YYYY-MM-DD HH:MM:SS.ffffff" and its shorter forms, in local time or
// UTC: Optuna's datetime columns as SQLAlchemy stores them (trials.datetime_* in local time,
// heartbeats in UTC), hpt's trial tables and the dashboard's ISO 8601 times.

#include <chrono>
#include <optional>
#include <string>

namespace hpt {

enum class TimeZone { Local, Utc };

// t in zone as "YYYY-MM-DD HH:MM:SS" plus "." and the first fraction_digits (1 to 6) digits
// of its microseconds (nothing for 0); separator goes between the date and the time.
std::string format_datetime(std::chrono::system_clock::time_point t, TimeZone zone,
                            int fraction_digits = 6, char separator = ' ');
// Parses "YYYY-MM-DD[ HH:MM[:SS[.f...]]]" (also a 'T' separator) read in the given zone.
// Returns std::nullopt if the text is not such a datetime.
std::optional<std::chrono::system_clock::time_point> parse_datetime(const std::string& text,
                                                                    TimeZone zone);

}  // namespace hpt
