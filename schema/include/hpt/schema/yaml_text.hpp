#pragma once
// JSON written as YAML a person reads and hpt reads back: parse_yaml then yaml_to_json give
// the same JSON (hpt best --format experiment writes a trial's experiment config with it).

#include <nlohmann/json.hpp>
#include <string>

namespace hpt {

// An object as a block mapping, nested objects indented by two spaces, anything else as a
// flow value: strings double-quoted with JSON's escapes (never read as numbers, booleans or
// null), lists in brackets, numbers as JSON writes them. Ends with a newline.
std::string yaml_text(const nlohmann::json& value);

}  // namespace hpt
