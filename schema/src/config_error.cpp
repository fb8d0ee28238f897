#include "hpt/schema/config_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

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

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The whole of s as an integer / a finite-or-not double, if it is one.
std::optional<long long> parse_integer(const std::string& s) {
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size()) {
      return v;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<double> parse_number(const std::string& s) {
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size()) {
      return v;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

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

std::optional<std::string> near_miss(const std::string& word,
                                     const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  if (best && best_d <= std::max<size_t>(2, word.size() / 3)) {
    return best;
  }
  return std::nullopt;
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
    std::string msg = fmt::format("unknown key '{}'", key);
    if (auto m = near_miss(key, allowed)) {
      msg += fmt::format(" (did you mean '{}'?)", *m);
    }
    config_fail(at.child(key), kv.first, msg);
  }
}

double read_double(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    if (auto v = parse_number(node.Scalar()); v && std::isfinite(*v)) {
      return *v;
    }
  }
  config_fail(at, node, fmt::format("expected a number, got {}", scalar_text(node)));
}

int64_t read_int(const YAML::Node& node, const ConfigPath& at) {
  if (node.IsScalar()) {
    if (auto v = parse_integer(node.Scalar())) {
      return *v;
    }
  }
  config_fail(at, node, fmt::format("expected an integer, got {}", scalar_text(node)));
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
  if (auto v = parse_integer(s)) {
    return *v;
  }
  if (auto v = parse_number(s); v && s.find_first_of("xXpP") == std::string::npos) {
    return *v;
  }
  return s;
}

void check_utf8(const std::string& text, const std::string& file) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = c < 0x80           ? 0
                   : (c >> 5) == 0x6  ? 1
                   : (c >> 4) == 0xE  ? 2
                   : (c >> 3) == 0x1E ? 3
                                      : 4;
    bool ok = extra < 4 && i + extra < text.size() + (extra == 0 ? 1 : 0);
    for (size_t k = 1; ok && k <= extra; ++k) {
      ok = i + k < text.size() && (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    }
    if (!ok || c == 0) {
      throw ConfigError(fmt::format("{}:{}: not valid UTF-8 text", file, line));
    }
    line += c == '\n' ? 1 : 0;
    i += extra + 1;
  }
}

YAML::Node load_yaml_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    throw ConfigError(fmt::format("{}: cannot open config file", file));
  }
  const std::string text(std::istreambuf_iterator<char>(in), {});
  check_utf8(text, file);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: YAML syntax error: {}", file, e.mark.line + 1, e.msg));
  }
}

}  // namespace hpt
