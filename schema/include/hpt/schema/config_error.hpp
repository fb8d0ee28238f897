#pragma once
// Checked reading of YAML configs: every error is one line naming the file, the
// line, the key path and the problem, e.g.
//   hpt_config.yaml:12: search_space.dropout.low: expected a number, got "abc"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hpt/schema/yaml_document.hpp"

namespace hpt {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A position in a config: the file and the dotted key path of a node.
struct ConfigPath {
  std::string file;
  std::string key;  // "" for the document root.
  ConfigPath child(const std::string& name) const;
  ConfigPath index(size_t i) const;
};

// "file:line: key", the place config_fail names (no line when node has no mark, no key at the
// document root); also the start of a warning about that place.
std::string config_location(const ConfigPath& at, const YAML::Node& node);

// Throws ConfigError "file:line: key: message" (line from node's mark when known).
[[noreturn]] void config_fail(const ConfigPath& at, const YAML::Node& node,
                              const std::string& message);

// Requires map to be a YAML mapping whose keys are all in allowed; an unknown key
// fails with "unknown key 'lerning_rate' (did you mean 'learning_rate'?)" (the hint by
// did_you_mean, hpt/io/did_you_mean.hpp).
void check_keys(const YAML::Node& map, const ConfigPath& at,
                const std::vector<std::string>& allowed);
void require_map(const YAML::Node& node, const ConfigPath& at);
// The text of a mapping key; fails if the key is not a plain scalar.
std::string key_name(const YAML::Node& key, const ConfigPath& at);

// Whether a scalar may be read as a number, boolean or null: plain (unquoted, untagged), built
// in code (tag ""), or tagged !!int, !!float, !!bool or !!null. A quoted scalar ("5", '5') or
// one tagged !!str or anything else is a string: the typed reads below refuse it, and
// yaml_to_json keeps it text.
bool typed_scalar(const YAML::Node& node);

// Fails at the first value under node (node included, mapping keys not) that YAML reads as a
// number but hpt does not: a plain 0x10, 0o17, 0b101, 1_000, .inf, .nan or 1e400 (hpt reads
// finite decimal numbers only). Such a value would otherwise become a string while numeric
// keys refuse it; quoted, it is a string on purpose and passes.
void refuse_unread_numbers(const YAML::Node& node, const ConfigPath& at);

// Typed scalar reads; each fails naming the expected type and the value received, and refuses
// a string (typed_scalar): seed: "5" is refused as n_startup_trials: "10" is.
// Numbers are decimal (schema/number_text.hpp): "0010" is 10, "0x10" and "1e3" are not integers.
double read_double(const YAML::Node& node, const ConfigPath& at);
int64_t read_int(const YAML::Node& node, const ConfigPath& at);
// The one range-checked reads: "must be in [low, high], but got v" (">= low" without a
// high); a value beyond 64 bits is refused, never wrapped or truncated.
int64_t read_int_in(const YAML::Node& node, const ConfigPath& at, int64_t low,
                    int64_t high = std::numeric_limits<int64_t>::max());
double read_double_in(const YAML::Node& node, const ConfigPath& at, double low, double high,
                      bool low_exclusive = false);
bool read_bool(const YAML::Node& node, const ConfigPath& at);
std::string read_string(const YAML::Node& node, const ConfigPath& at);

// YAML -> JSON: ints stay ints, floats floats, true/false booleans, ~ null; a scalar that is
// not typed_scalar stays a string.
nlohmann::json yaml_to_json(const YAML::Node& node);

// Fails with "file:line: not valid UTF-8 text" unless text is valid UTF-8 without NUL.
void check_utf8(const std::string& text, const std::string& file);

}  // namespace hpt
