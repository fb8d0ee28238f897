#pragma once
// The worker protocol. A worker gets its parameters as {name} placeholders in
// objective.command and as JSON in HPT_PARAMS; it prints one JSON object per line:
//   {"step": k, "value": v}                    an intermediate value
//   {"value": v [, "user_attrs": {...}]}       the final value
// Any other line is log output. NaN, Infinity and -Infinity are accepted as numbers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hpt/tuner/distribution.hpp"

namespace hpt {

struct WorkerMessage {
  enum class Kind { Intermediate, Final };
  Kind kind = Kind::Final;
  int64_t step = 0;
  double value = 0.0;
  Json user_attrs = Json::object();
};

// Parses one stdout line; std::nullopt for log lines (not a protocol object).
std::optional<WorkerMessage> parse_worker_line(const std::string& line);

// Replaces each {name} in args whose name is a key of values by the value (strings
// verbatim, everything else as compact JSON). Other braces are left alone.
std::vector<std::string> substitute_placeholders(const std::vector<std::string>& args,
                                                 const Json& values);

}  // namespace hpt
