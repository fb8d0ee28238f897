#include "optuna_encoding.hpp"

#include <cmath>

namespace hpt {

StoredValue encode_value(double v) {
  if (std::isnan(v)) {
    return {std::nullopt, "NAN"};
  }
  if (std::isinf(v)) {
    return {std::nullopt, v > 0 ? "INF_POS" : "INF_NEG"};
  }
  return {v, "FINITE"};
}

double decode_value(const std::optional<double>& value, const std::string& type) {
  if (type == "INF_POS") {
    return HUGE_VAL;
  }
  if (type == "INF_NEG") {
    return -HUGE_VAL;
  }
  if (type == "NAN" || !value) {
    return std::nan("");
  }
  return *value;
}

std::string states_sql(const std::vector<TrialState>& states) {
  std::string out;
  for (auto s : states) {
    out += (out.empty() ? "'" : ", '") + trial_state_name(s) + "'";
  }
  return out;
}

std::string now_local() { return format_sql_datetime(Clock::now(), TimeZone::Local); }

std::optional<Clock::time_point> parse_local(const std::optional<std::string>& text) {
  return text ? parse_sql_datetime(*text, TimeZone::Local) : std::nullopt;
}

std::optional<std::string> format_local(const std::optional<Clock::time_point>& t) {
  return t ? std::optional<std::string>(format_sql_datetime(*t, TimeZone::Local)) : std::nullopt;
}

}  // namespace hpt
