#pragma once
// Reads a sampler's or pruner's options (a JSON object) with typed defaults and
// one-line errors that name the option and the value received.

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hpt/tuner/distribution.hpp"

namespace hpt {

class OptionReader {
 public:
  // what names the owner in messages ("tpe sampler"). Throws std::invalid_argument if
  // options is neither null nor an object.
  OptionReader(std::string what, const Json& options);

  // Each getter returns the option's value or fallback if absent; throws
  // std::invalid_argument ("tpe sampler option 'x' must be ..., but got v") on a wrong type.
  bool get_bool(const std::string& name, bool fallback);
  // An integer in [min_value, max_value]; an integral float counts, any other float (1.5,
  // 1e300, inf) is refused. Callers storing into an int pass that type's limit as max_value.
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min_value,
                  int64_t max_value = std::numeric_limits<int64_t>::max());
  // An integer >= min_value or the string "auto" (std::nullopt); fallback if absent.
  std::optional<int64_t> get_int_or_auto(const std::string& name, std::optional<int64_t> fallback,
                                         int64_t min_value);
  double get_double(const std::string& name, double fallback, double min_value, double max_value);
  // Returns the raw value (null if absent) and marks the option as known.
  Json get_json(const std::string& name);
  // True if the option is present (and marks it as known).
  bool has(const std::string& name);

  // Throws std::invalid_argument "unknown <what> option 'x' (did you mean 'y'?)" for any
  // option no getter asked for.
  void finish() const;

 private:
  const Json* find(const std::string& name);

  std::string m_what;
  Json m_options;
  std::set<std::string> m_known;
};

}  // namespace hpt
