#include "optuna_encoding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "hpt/io/python_json.hpp"

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

Json stored_json_or_note(const std::string& text, std::string* problem) {
  std::string why = fmt::format("JSON nested deeper than {} levels", k_max_json_depth);
  if (json_nesting_depth(text, k_max_json_depth) <= k_max_json_depth) {
    try {
      return python_json_loads(text);
    } catch (const std::exception& e) {  // Whatever the text, never more than this trial's note.
      why = e.what();
    }
  }
  if (problem != nullptr) {
    *problem = why;
  }
  return Json("<unreadable: " + why + ">");
}

Direction direction_from_stored(const std::string& text) {
  if (text == "MINIMIZE") {
    return Direction::Minimize;
  }
  return text == "MAXIMIZE" ? Direction::Maximize : Direction::NotSet;
}

std::vector<Direction> directions_from_rows(std::vector<std::pair<int64_t, std::string>> rows) {
  std::sort(rows.begin(), rows.end());
  std::vector<Direction> out;
  for (const auto& [objective, text] : rows) {
    out.push_back(direction_from_stored(text));
  }
  if (out.empty()) {
    out.push_back(Direction::NotSet);
  }
  return out;
}

std::string states_sql(const std::vector<TrialState>& states) {
  std::string out;
  for (auto s : states) {
    out += (out.empty() ? "'" : ", '") + trial_state_name(s) + "'";
  }
  return out;
}

std::string now_local() { return format_datetime(Clock::now(), TimeZone::Local); }

std::optional<Clock::time_point> parse_local(const std::optional<std::string>& text) {
  return text ? parse_datetime(*text, TimeZone::Local) : std::nullopt;
}

std::optional<std::string> format_local(const std::optional<Clock::time_point>& t) {
  return t ? std::optional<std::string>(format_datetime(*t, TimeZone::Local)) : std::nullopt;
}

}  // namespace hpt
