#pragma once
// JSON text as Optuna's attribute columns hold it (Python's json.dumps / json.loads).

#include <string>

#include "hpt/tuner/distribution.hpp"

namespace hpt {

// Python's json.dumps(v): ", " and ": " separators, ASCII-only (\uXXXX escapes),
// NaN / Infinity / -Infinity for non-finite numbers. indent >= 0 is json.dumps(v, indent=n):
// one item per line, nested items indented by n more spaces.
std::string python_json_dumps(const Json& v, int indent = -1);

// Python's json.loads: standard JSON plus the NaN, Infinity and -Infinity tokens.
// Throws std::invalid_argument (with the start of the text) on malformed input or input
// nested deeper than k_max_json_depth (nlohmann recurses once per level).
Json python_json_loads(const std::string& text);

// An attribute column as read from a database that may hold anything: python_json_loads(text),
// or, when that fails, a string "<unreadable: why>" in its place (the database is not changed).
Json stored_json_or_note(const std::string& text);

}  // namespace hpt
