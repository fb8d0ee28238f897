#include "hpt/schema/config_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/schema/number_text.hpp"

namespace hpt {

ConfigPath ConfigPath::child(const std::string& name) const {
  return {file, key.empty() ? name : key + "." + name};
}

ConfigPath ConfigPath::index(size_t i) const { return {file, fmt::format("{}[{}]", key, i)}; }

void config_fail(const ConfigPath& at, const YAML::Node& node, const std::string& message) {
  std::string where = at.file;
  if (node.IsDefined() && node.Mark().line >= 0) {
    where += fmt::format(":{}", node.Mark().line + 1);
  }
  if (!at.key.empty()) {
    throw ConfigError(fmt::format("{}: {}: {}", where, at.key, message));
  }
  throw ConfigError(fmt::format("{}: {}", where, message));
}

namespace {

std::string scalar_text(const YAML::Node& node) {
  if (node.IsScalar()) {
    return "\"" + node.Scalar() + "\"";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  if (node.IsMap()) {
    return "a mapping";
  }
  return "nothing";
}

}  // namespace

void require_map(const YAML::Node& node, const ConfigPath& at) {
  if (!node.IsMap()) {
    config_fail(at, node, fmt::format("expected a mapping, got {}", scalar_text(node)));
  }
}

std::string key_name(const YAML::Node& key, const ConfigPath& at) {
  if (!key.IsScalar()) {
    config_fail(at, key, fmt::format("keys must be plain names, got {}", scalar_text(key)));
  }
  return key.Scalar();
}

void check_keys(const YAML::Node& map, const ConfigPath& at,
                const std::vector<std::string>& allowed) {
  require_map(map, at);
  for (const auto& kv : map) {
    const std::string key = key_name(kv.first, at);
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    config_fail(at.child(key), kv.first,
                fmt::format("unknown key '{}'{}", key, did_you_mean(key, allowed)));
  }
}

double read_double(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    if (auto v = parse_decimal_double(node.Scalar())) {
      return *v;
    }
  }
  config_fail(at, node, fmt::format("expected a number, got {}", scalar_text(node)));
}

double read_double_in(const YAML::Node& node, const ConfigPath& at, double low, double high,
                      bool low_exclusive) {
  const double v = read_double(node, at);
  if (low_exclusive ? !(v > low) : !(v >= low)) {
    config_fail(at, node,
                fmt::format("must be {} {}, but got {}", low_exclusive ? ">" : ">=", low, v));
  }
  if (!(v <= high)) {
    config_fail(at, node, fmt::format("must be <= {}, but got {}", high, v));
  }
  return v;
}

int64_t read_int(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    int64_t v = 0;
    switch (parse_decimal_int(node.Scalar(), v)) {
      case IntText::ok:
        return v;
      case IntText::out_of_range:
        config_fail(
            at, node,
            fmt::format("integer out of range (beyond 64 bits), got {}", scalar_text(node)));
      case IntText::not_an_integer:
        break;
    }
  }
  config_fail(at, node, fmt::format("expected an integer, got {}", scalar_text(node)));
}

int64_t read_int_in(const YAML::Node& node, const ConfigPath& at, int64_t low, int64_t high) {
  const int64_t v = read_int(node, at);
  if (v < low || v > high) {
    config_fail(at, node,
                high == std::numeric_limits<int64_t>::max()
                    ? fmt::format("must be >= {}, but got {}", low, v)
                    : fmt::format("must be in [{}, {}], but got {}", low, high, v));
  }
  return v;
}

bool read_bool(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    bool v = false;
    if (YAML::convert<bool>::decode(node, v)) {
      return v;
    }
  }
  config_fail(at, node, fmt::format("expected true or false, got {}", scalar_text(node)));
}

std::string read_string(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    return node.Scalar();
  }
  config_fail(at, node, fmt::format("expected a string, got {}", scalar_text(node)));
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      auto arr = nlohmann::json::array();
      for (const auto& item : node) {
        arr.push_back(yaml_to_json(item));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      auto obj = nlohmann::json::object();
      for (const auto& kv : node) {
        obj[kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first)] =
            yaml_to_json(kv.second);
      }
      return obj;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") {  // Quoted: always a string.
    return s;
  }
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  bool b = false;
  if (s == "true" || s == "false" || s == "True" || s == "False" || s == "TRUE" || s == "FALSE") {
    YAML::convert<bool>::decode(node, b);
    return b;
  }
  // YAML's core schema: "nan" or "inf" are strings; numbers have digits.
  if (s.find_first_of("0123456789") == std::string::npos) {
    return s;
  }
  int64_t i = 0;
  if (parse_decimal_int(s, i) == IntText::ok) {
    return i;
  }
  if (auto v = parse_decimal_double(s)) {
    return *v;
  }
  return s;
}

void check_utf8(const std::string& text, const std::string& file) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto [cp, len] = decode_utf8(text, i);
    if (len == 0 || cp == 0) {
      throw ConfigError(fmt::format("{}:{}: not valid UTF-8 text", file, line));
    }
    line += cp == '\n' ? 1 : 0;
    i += len;
  }
}

}  // namespace hpt
