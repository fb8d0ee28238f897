#include "hpt/engine/protocol.hpp"

#include <cmath>
#include <stdexcept>

#include "hpt/storage/optuna_json.hpp"

namespace hpt {

std::optional<WorkerMessage> parse_worker_line(const std::string& raw) {
  size_t b = raw.find_first_not_of(" \t\r");
  if (b == std::string::npos || raw[b] != '{') {
    return std::nullopt;
  }
  Json j;
  try {
    j = python_json_loads(raw);  // JSON plus Python's NaN / Infinity tokens.
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  if (!j.is_object() || !j.contains("value")) {
    return std::nullopt;
  }
  for (const auto& [key, v] : j.items()) {
    if (key != "value" && key != "step" && key != "user_attrs") {
      return std::nullopt;
    }
  }
  const Json& value = j["value"];
  if (!value.is_number() || value.is_boolean()) {
    return std::nullopt;
  }
  WorkerMessage m;
  m.value = value.get<double>();
  if (j.contains("step")) {
    const Json& s = j["step"];
    if (!s.is_number_integer() &&
        !(s.is_number_float() && s.get<double>() == std::floor(s.get<double>()))) {
      return std::nullopt;
    }
    m.kind = WorkerMessage::Kind::Intermediate;
    m.step = s.get<int64_t>();
  }
  if (j.contains("user_attrs")) {
    if (!j["user_attrs"].is_object()) {
      return std::nullopt;
    }
    m.user_attrs = j["user_attrs"];
  }
  return m;
}

std::vector<std::string> substitute_placeholders(const std::vector<std::string>& args,
                                                 const Json& values) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const auto& arg : args) {
    std::string result;
    size_t i = 0;
    while (i < arg.size()) {
      size_t open = arg.find('{', i);
      if (open == std::string::npos) {
        result += arg.substr(i);
        break;
      }
      size_t close = arg.find('}', open + 1);
      if (close == std::string::npos) {
        result += arg.substr(i);
        break;
      }
      const std::string name = arg.substr(open + 1, close - open - 1);
      result += arg.substr(i, open - i);
      if (values.is_object() && values.contains(name)) {
        const Json& v = values.at(name);
        result += v.is_string() ? v.get<std::string>() : v.dump();
        i = close + 1;
      } else {
        result += '{';
        i = open + 1;
      }
    }
    out.push_back(result);
  }
  return out;
}

}  // namespace hpt
