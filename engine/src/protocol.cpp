#include "hpt/engine/protocol.hpp"

#include <cmath>
#include <limits>

namespace hpt {

namespace {

// Python's json.dumps writes NaN / Infinity / -Infinity, which JSON lacks: turn the
// bare tokens (outside strings) into sentinel strings before parsing.
std::string quote_non_finite(const std::string& line, bool& changed) {
  std::string out;
  out.reserve(line.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (in_string) {
      out += ch;
      if (ch == '\\' && i + 1 < line.size()) {
        out += line[++i];
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
      out += ch;
      continue;
    }
    for (const char* tok : {"-Infinity", "Infinity", "NaN"}) {
      size_t n = std::char_traits<char>::length(tok);
      if (line.compare(i, n, tok) == 0) {
        out += std::string("\"__hpt_") + tok + "__\"";
        i += n - 1;
        changed = true;
        ch = 0;
        break;
      }
    }
    if (ch != 0) {
      out += ch;
    }
  }
  return out;
}

std::optional<double> number_of(const Json& v) {
  if (v.is_number() && !v.is_boolean()) {
    return v.get<double>();
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "__hpt_NaN__") {
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (s == "__hpt_Infinity__") {
      return std::numeric_limits<double>::infinity();
    }
    if (s == "__hpt_-Infinity__") {
      return -std::numeric_limits<double>::infinity();
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<WorkerMessage> parse_worker_line(const std::string& raw) {
  size_t b = raw.find_first_not_of(" \t\r");
  if (b == std::string::npos || raw[b] != '{') {
    return std::nullopt;
  }
  bool changed = false;
  const std::string text = quote_non_finite(raw, changed);
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("value")) {
    return std::nullopt;
  }
  for (const auto& [key, v] : j.items()) {
    if (key != "value" && key != "step" && key != "user_attrs") {
      return std::nullopt;
    }
  }
  auto value = number_of(j["value"]);
  if (!value) {
    return std::nullopt;
  }
  WorkerMessage m;
  m.value = *value;
  if (j.contains("step")) {
    const Json& s = j["step"];
    if (!s.is_number_integer() && !(s.is_number_float() && s.get<double>() == std::floor(s.get<double>()))) {
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
    if (changed) {  // Sentinels inside attrs become null (JSON has no NaN).
      for (auto& [k, v] : m.user_attrs.items()) {
        if (number_of(v) && v.is_string()) {
          v = nullptr;
        }
      }
    }
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
