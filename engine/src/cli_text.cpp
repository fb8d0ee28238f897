#include "cli_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>

#include "hpt/cli/run_app.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/io/datetime_text.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/tuner/constraints.hpp"

namespace hpt {

namespace {

std::string time_text(const std::optional<Clock::time_point>& t) {
  return t ? format_datetime(*t, TimeZone::Local, 0) : "";
}

// NaN and infinities stay numbers: python_json_dumps prints NaN, Infinity, -Infinity.
Json value_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

std::string param_text(const Json& v) {
  if (v.is_number_float() && !std::isfinite(v.get<double>())) {
    return python_json_dumps(v);  // NaN, Infinity, -Infinity (dump() writes null).
  }
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string values_cell(const std::vector<double>& values, const char* fmt_spec) {
  std::string out;
  for (double v : values) {
    out += (out.empty() ? "" : ", ") + fmt::format(fmt::runtime(fmt_spec), v);
  }
  return "[" + out + "]";
}

Json trial_json(const FrozenTrial& t) {
  Json j{{"number", t.number},
         {"state", trial_state_name(t.state)},
         {"value", value_json(t.value)},
         {"params", t.external_params()},
         {"datetime_start", t.datetime_start ? Json(time_text(t.datetime_start)) : Json()},
         {"datetime_complete",
          t.datetime_complete ? Json(time_text(t.datetime_complete)) : Json()},  // null, as None
         {"duration", t.duration_seconds() ? Json(*t.duration_seconds()) : Json(nullptr)},
         {"user_attrs", t.user_attrs}};
  Json iv = Json::object();
  for (const auto& [step, v] : t.intermediate_values) {
    iv[std::to_string(step)] = v;
  }
  j["intermediate_values"] = iv;
  if (t.values.size() > 1) {
    j["values"] = t.values;  // A multi-objective trial: every objective's value.
  }
  if (t.system_attrs.count(k_fail_reason_attr)) {
    j["fail_reason"] = t.system_attrs.at(k_fail_reason_attr);
  }
  if (const auto constraints = trial_constraints(t)) {
    j["constraints"] = *constraints;
  }
  return j;
}

std::string hide_credentials(const std::string& message) { return redact_credentials(message); }

void report_error(const std::string& message) { print_error(message, hide_credentials); }

}  // namespace hpt
