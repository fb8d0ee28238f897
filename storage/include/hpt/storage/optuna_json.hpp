#pragma once
// JSON text as Optuna's attribute columns hold it (Python's json.dumps / json.loads).

#include <string>

#include "hpt/tuner/distribution.hpp"

namespace hpt {

// Python's json.dumps(v): ", " and ": " separators, ASCII-only (\uXXXX escapes),
// NaN / Infinity / -Infinity for non-finite numbers.
std::string python_json_dumps(const Json& v);

// Python's json.loads: standard JSON plus the NaN, Infinity and -Infinity tokens.
// Throws std::invalid_argument (with the text) on malformed input.
Json python_json_loads(const std::string& text);

}  // namespace hpt
