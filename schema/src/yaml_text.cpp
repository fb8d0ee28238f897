#include "hpt/schema/yaml_text.hpp"

#include <cctype>

namespace hpt {

namespace {

// A key that YAML reads as the same plain string: letters, digits, '_', '-', '.', starting
// with a letter or '_', and not one YAML 1.1 or 1.2 reads as a boolean or null.
bool plain_key(const std::string& key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  static const char* k_typed[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"};
  for (const char* word : k_typed) {
    std::string lower;
    for (char c : key) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower == word) {
      return false;
    }
  }
  return true;
}

// A flow value: JSON's own text (strings double-quoted), lists and objects with ", ".
std::string flow(const nlohmann::json& v) {
  if (v.is_array() || v.is_object()) {
    std::string out = v.is_array() ? "[" : "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += first ? "" : ", ";
      first = false;
      if (v.is_object()) {
        out += nlohmann::json(it.key()).dump(-1, ' ', false) + ": ";
      }
      out += flow(*it);
    }
    return out + (v.is_array() ? "]" : "}");
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

void block(const nlohmann::json& object, int indent, std::string& out) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    out += std::string(indent, ' ') +
           (plain_key(it.key()) ? it.key() : nlohmann::json(it.key()).dump()) + ":";
    if (it->is_object() && !it->empty()) {
      out += "\n";
      block(*it, indent + 2, out);
    } else {
      out += " " + flow(*it) + "\n";
    }
  }
}

}  // namespace

std::string yaml_text(const nlohmann::json& value) {
  if (!value.is_object() || value.empty()) {
    return flow(value) + "\n";
  }
  std::string out;
  block(value, 0, out);
  return out;
}

}  // namespace hpt
