#pragma once
// JSON text as Python writes and reads it (json.dumps / json.loads): Optuna's attribute
// columns, the worker protocol's lines, `hpt ... --format json`.

#include <nlohmann/json.hpp>
#include <string>

namespace hpt {

// Python's json.dumps(v): ", " and ": " separators, ASCII-only (\uXXXX escapes),
// NaN / Infinity / -Infinity for non-finite numbers. indent >= 0 is json.dumps(v, indent=n):
// one item per line, nested items indented by n more spaces.
std::string python_json_dumps(const nlohmann::json& v, int indent = -1);

// Python's json.loads: standard JSON plus the NaN, Infinity and -Infinity tokens.
// Throws std::invalid_argument (with the start of the text) on malformed input. Parsing
// recurses once per nesting level: bound the depth of text from outside first.
nlohmann::json python_json_loads(const std::string& text);

}  // namespace hpt
