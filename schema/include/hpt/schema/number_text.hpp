#pragma once
// Numbers typed by people (config values, command-line flags), read one strict way.

#include <cstdint>
#include <optional>
#include <string_view>

namespace hpt {

// How text reads as a decimal integer.
enum class IntText { ok, not_an_integer, out_of_range };

// Reads the whole of text as a decimal integer: an optional sign, then digits only. Leading
// zeros stay decimal ("0010" is 10, never octal 8); no hex, spaces, fractions or exponents.
// Sets value only when the result is IntText::ok.
IntText parse_decimal_int(std::string_view text, int64_t& value);

// The whole of text as a floating-point number ("1.5e-3", "-2", ".5"); std::nullopt for
// anything else, hex floats, inf/nan words, or a magnitude beyond double.
std::optional<double> parse_decimal_double(std::string_view text);

// A span of time as seconds: a decimal number (parse_decimal_double, no exponent) with an
// optional unit, s, m, h or d ("90", "90s", "1.5h", "2d"); std::nullopt for anything else.
std::optional<double> parse_duration_seconds(std::string_view text);

}  // namespace hpt
