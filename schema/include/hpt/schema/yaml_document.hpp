#pragma once
// Loading a YAML config that may be hostile: every way a document can exhaust time, memory
// or the stack (a FIFO or endless file, aliases that expand exponentially or refer to
// themselves, deep nesting) ends in one ConfigError line, as do duplicate keys.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace hpt {

// Limits on what a config may hold (far above any real one).
constexpr size_t k_max_config_bytes = size_t{1} << 20;
// Values in the document with every alias expanded (as any reader of it would see them).
constexpr size_t k_max_config_values = 1'000'000;
constexpr int k_max_config_depth = 64;

// The text of the config file at path. Throws ConfigError "path: problem" unless it is a
// readable regular file (not a FIFO, device or directory) of at most k_max_config_bytes.
std::string read_config_file(const std::string& path);

// Parses YAML text (file is used in messages) and checks it within the limits above. Throws
// ConfigError "file:line: key: problem" for invalid UTF-8, a syntax error, a second document
// (after "---"), a YAML merge key (a plain <<, which yaml-cpp would read as a key named "<<"),
// an alias that refers to a node containing it, more than k_max_config_values
// values after alias expansion, nesting deeper than k_max_config_depth, a key repeated in one
// mapping (naming the line of both), or a key or value containing a NUL character (a quoted
// "\0"). The returned tree is then safe to walk recursively, and its strings safe to pass to C.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// read_config_file then parse_yaml.
YAML::Node load_yaml_file(const std::string& path);

}  // namespace hpt
