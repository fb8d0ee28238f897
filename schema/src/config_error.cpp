#include "hpt/schema/config_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <regex>
#include <set>

#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/schema/number_text.hpp"

namespace hpt {

ConfigPath ConfigPath::child(const std::string& name) const {
  return {file, key.empty() ? name : key + "." + name};
}

ConfigPath ConfigPath::index(size_t i) const { return {file, fmt::format("{}[{}]", key, i)}; }

std::string config_location(const ConfigPath& at, const YAML::Node& node) {
  std::string where = at.file;
  if (node.IsDefined() && node.Mark().line >= 0) {
    where += fmt::format(":{}", node.Mark().line + 1);
  }
  return at.key.empty() ? where : fmt::format("{}: {}", where, at.key);
}

void config_fail(const ConfigPath& at, const YAML::Node& node, const std::string& message) {
  throw ConfigError(fmt::format("{}: {}", config_location(at, node), message));
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

// Fails unless node is a typed scalar (a quoted "5" is refused naming what was expected).
void require_typed(const YAML::Node& node, const ConfigPath& at, const char* expected) {
  if (node.IsScalar() && !typed_scalar(node)) {
    config_fail(at, node,
                fmt::format("expected {}, got \"{}\" (quoted or tagged as a string)", expected,
                            node.Scalar()));
  }
}

// Whether text is a number in YAML 1.1 or 1.2's schemas (hex, octal, binary, underscores,
// .inf, .nan, any exponent).
bool yaml_number_text(const std::string& text) {
  static const std::regex number(
      R"([-+]?(\.(inf|Inf|INF)|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*(\.[0-9_]*)?)"
      R"(([eE][-+]?[0-9]+)?|\.[0-9][0-9_]*([eE][-+]?[0-9]+)?)|\.(nan|NaN|NAN))");
  // Every such number starts with a digit or '.', after its sign: other text (most of a config)
  // skips the regex, which costs an allocation or more per call.
  const size_t first = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  const bool may_be = first < text.size() &&
                      (std::isdigit(static_cast<unsigned char>(text[first])) || text[first] == '.');
  return may_be && text.size() <= 400 && std::regex_match(text, number);
}

}  // namespace

bool typed_scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "?" || tag.empty() || tag == "tag:yaml.org,2002:int" ||
         tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool" ||
         tag == "tag:yaml.org,2002:null";
}

void refuse_unread_numbers(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      refuse_unread_numbers(node[i], at.index(i));
    }
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      refuse_unread_numbers(kv.second, at.child(key_name(kv.first, at)));
    }
  } else if (int64_t i = 0; node.IsScalar() && typed_scalar(node) &&
                            parse_decimal_int(node.Scalar(), i) == IntText::out_of_range) {
    // Passed on as the nearest double (1.2345678901234568e+22), not the integer written.
    config_fail(at, node,
                fmt::format("{} is an integer beyond 64 bits, which hpt cannot pass on exactly; "
                            "quote it (\"{}\") for a string",
                            node.Scalar(), node.Scalar()));
  } else if (node.IsScalar() && typed_scalar(node) && yaml_number_text(node.Scalar()) &&
             !yaml_to_json(node).is_number()) {
    config_fail(at, node,
                fmt::format("{} reads as a number in YAML, but hpt reads finite decimal numbers "
                            "only; write it in decimal, or quote it (\"{}\") for a string",
                            node.Scalar(), node.Scalar()));
  }
}

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
    // The keys not given yet: `lgo` beside `low` means log (both are two edits from it).
    std::vector<std::string> missing;
    for (const std::string& a : allowed) {
      if (!map[a]) {
        missing.push_back(a);
      }
    }
    config_fail(at.child(key), kv.first,
                fmt::format("unknown key '{}'{}", key, did_you_mean(key, missing)));
  }
}

double read_double(const YAML::Node& node, const ConfigPath& at) {
  require_typed(node, at, "a number");
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
  require_typed(node, at, "an integer");
  if (node.IsScalar()) {
    int64_t v = 0;
    switch (parse_decimal_int(node.Scalar(), v)) {
      case IntText::ok:
        return v;
      case IntText::out_of_range:
        config_fail(at, node,
                    fmt::format("integer out of range (beyond the signed 64-bit range, "
                                "±9223372036854775807), got {}",
                                scalar_text(node)));
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

// YAML 1.2's core schema, as yaml_to_json reads every other value: only true and false (in
// three spellings) are booleans. YAML 1.1's yes/no/on/off (yaml-cpp's convert<bool>, PyYAML)
// are refused with a hint, not read as booleans here and as strings in `fixed`.
bool read_bool(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    static const std::set<std::string> k_true = {"true", "True", "TRUE"};
    static const std::set<std::string> k_false = {"false", "False", "FALSE"};
    static const std::set<std::string> k_yaml11 = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                   "N",  "no",  "No",  "NO",  "on",  "On",
                                                   "ON", "off", "Off", "OFF"};
    const std::string& s = node.Scalar();
    if (typed_scalar(node) && (k_true.count(s) != 0 || k_false.count(s) != 0)) {
      return k_true.count(s) != 0;
    }
    if (k_yaml11.count(s) != 0) {
      config_fail(at, node,
                  fmt::format("expected true or false, got {} (hpt reads YAML 1.2, where only "
                              "true and false are booleans)",
                              s));
    }
  }
  require_typed(node, at, "true or false");
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
  if (!typed_scalar(node)) {  // Quoted or tagged: always a string.
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
