#pragma once
// The worker protocol. A worker gets its parameters as {name} placeholders in
// objective.command and as JSON in HPT_PARAMS; it prints one JSON object per line:
//   {"step": k, "value": v}                    an intermediate value
//   {"value": v [, "user_attrs": {...}]}       the final value (one objective)
//   {"values": [v1, v2, ...] [, "user_attrs": {...}]}
//                                              the final values (a multi-objective study:
//                                              one per study.directions entry, in order)
// Any of them may carry "constraints": [c1, c2, ...] (numbers, not NaN; a constraint is met
// when its value is <= 0): the trial's constraint values, the latest line's kept.
// Intermediate values stay single-objective: a step line has one "value" in every study
// (a multi-objective study stores it but never prunes, as Optuna). A study with one
// objective takes "value" only; one with several takes "values" only, of their number.
// NaN, Infinity and -Infinity are accepted as numbers. A JSON object whose keys are all
// protocol keys (value, values, step, user_attrs, constraints) and that has "value" or
// "values" is a protocol line: if anything in it is wrong (a step that is negative, fractional
// or beyond int64, a number beyond a double, nesting deeper than k_max_worker_json_depth, a
// user_attrs key longer than k_max_key_chars, constraints that are not a non-empty list of
// numbers or hold NaN, a line longer than k_max_line_bytes), it is a protocol error. Any
// other line is log output; one whose first key is a protocol key but that is not a protocol
// line (malformed JSON such as {"value": nan}, another key, no "value", a NUL byte) is a near
// miss: still log output, but the reason is kept to tell the user.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hpt/io/utf8.hpp"
#include "hpt/tuner/distribution.hpp"

namespace hpt {

// Limits checked before anything from a worker line is stored.
constexpr size_t k_max_line_bytes = 1 << 20;    // A stdout line (WorkerProcess cuts lines here).
constexpr size_t k_max_worker_json_depth = 64;  // Nested objects/arrays in one line.
constexpr size_t k_max_key_chars = 512;         // Optuna's VARCHAR(512) key columns.

struct WorkerMessage {
  enum class Kind { Intermediate, Final };
  Kind kind = Kind::Final;
  int64_t step = 0;
  double value = 0.0;          // One objective (and every intermediate value).
  std::vector<double> values;  // Several objectives (Kind::Final only); else empty.
  Json user_attrs = Json::object();
  std::optional<std::vector<double>> constraints;  // Constraint values, when the line has them.
};

// What one stdout line is.
struct WorkerLine {
  enum class Kind { Log, Message, Error };
  Kind kind = Kind::Log;
  WorkerMessage message;  // Kind::Message.
  std::string error;      // Kind::Error: the problem and an excerpt of the line.
  std::string near_miss;  // Kind::Log: why a line meant as a protocol line is not one, else "".
  // Kind::Message: what of the line is stored changed, for the trial's log, else "" (an
  // integer in user_attrs beyond 64 bits, which Python's json keeps exactly, is kept as the
  // nearest double: hpt's JSON numbers are 64-bit integers or doubles).
  std::string note;
};

// Classifies one stdout line (truncated: the line was longer than k_max_line_bytes and
// cut there) of a study with n_objectives objectives. Text that is not valid UTF-8 (raw
// bytes, a \uD800-\uDFFF escape that is not half of a pair) reads as U+FFFD, so such a line
// still counts. Never throws for any input.
WorkerLine parse_worker_line(const std::string& line, bool truncated = false,
                             size_t n_objectives = 1);

// The placeholder objective.command gets besides the parameters: the trial's number.
inline constexpr const char* k_trial_number_placeholder = "trial_number";
// Every placeholder name hpt fills itself; no parameter (fixed or searched) may take one, or
// its value would be silently replaced (the study config refuses them).
inline const std::vector<std::string> k_reserved_placeholders{k_trial_number_placeholder};

// The values objective.command's placeholders take for one trial: params (fixed + sampled)
// and the reserved names above.
Json placeholder_values(const Json& params, int64_t trial_number);

// Replaces each {name} in args whose name is a key of values by the value (strings
// verbatim, everything else as compact JSON). Other braces are left alone.
std::vector<std::string> substitute_placeholders(const std::vector<std::string>& args,
                                                 const Json& values);

}  // namespace hpt
