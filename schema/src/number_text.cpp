#include "hpt/schema/number_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

namespace hpt {

IntText parse_decimal_int(std::string_view text, int64_t& value) {
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return IntText::not_an_integer;
  }
  // from_chars takes '-' but not '+'.
  const std::string_view number = text[0] == '+' ? digits : text;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return IntText::out_of_range;
  }
  if (ec != std::errc() || end != number.data() + number.size()) {
    return IntText::not_an_integer;
  }
  value = v;
  return IntText::ok;
}

std::optional<double> parse_decimal_double(std::string_view text) {
  // Digits, sign, point and exponent only: strtod would also take hex, inf, nan and spaces.
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string_view::npos ||
      text.find_first_of("0123456789") == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  // Underflow reads as the nearest double (0 or a subnormal); overflow is refused.
  if (end != s.c_str() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<double> parse_duration_seconds(std::string_view text) {
  static constexpr std::pair<char, double> k_units[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  double unit = 1;
  for (const auto& [suffix, seconds] : k_units) {
    if (!text.empty() && text.back() == suffix) {
      unit = seconds;
      text.remove_suffix(1);
      break;
    }
  }
  if (text.find_first_of("eE") != std::string_view::npos) {
    return std::nullopt;  // "1e3" or "5e" are not durations people type.
  }
  const auto v = parse_decimal_double(text);
  if (!v || !std::isfinite(*v * unit)) {
    return std::nullopt;
  }
  return *v * unit;
}

}  // namespace hpt
