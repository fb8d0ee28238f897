#include "hpt/tuner/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"

namespace hpt {

namespace {

// v as an int64 in [min_value, max_value] (an integral float counts), or std::nullopt (not
// a number, fractional, out of int64's range or out of bounds). A float is range-checked
// before the cast: casting one beyond int64 (1e300) would be undefined behaviour.
std::optional<int64_t> integer_in(const Json& v, int64_t min_value, int64_t max_value) {
  if (v.is_boolean() || !v.is_number()) {
    return std::nullopt;
  }
  int64_t i = 0;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    i = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    i = v.get<int64_t>();
  } else {
    const double d = v.get<double>();
    constexpr double k_two_63 = 9223372036854775808.0;  // Every double below it fits int64.
    if (!std::isfinite(d) || d != std::floor(d) || d < -k_two_63 || d >= k_two_63) {
      return std::nullopt;
    }
    i = static_cast<int64_t>(d);
  }
  if (i < min_value || i > max_value) {
    return std::nullopt;
  }
  return i;
}

// "an integer >= 1" or, with an upper bound, "an integer in [1, 100]".
std::string integer_range_text(int64_t min_value, int64_t max_value) {
  return max_value == std::numeric_limits<int64_t>::max()
             ? fmt::format("an integer >= {}", min_value)
             : fmt::format("an integer in [{}, {}]", min_value, max_value);
}

}  // namespace

OptionReader::OptionReader(std::string what, const Json& options)
    : m_what(std::move(what)), m_options(options.is_null() ? Json::object() : options) {
  if (!m_options.is_object()) {
    throw std::invalid_argument(
        fmt::format("{} options must be a mapping, but got {}", m_what, options.dump()));
  }
}

const Json* OptionReader::find(const std::string& name) {
  m_known.insert(name);
  auto it = m_options.find(name);
  return it == m_options.end() ? nullptr : &*it;
}

bool OptionReader::has(const std::string& name) { return find(name) != nullptr; }

Json OptionReader::get_json(const std::string& name) {
  const Json* v = find(name);
  return v ? *v : Json();
}

bool OptionReader::get_bool(const std::string& name, bool fallback) {
  const Json* v = find(name);
  if (!v) {
    return fallback;
  }
  if (!v->is_boolean()) {
    throw std::invalid_argument(
        fmt::format("{} option '{}' must be true or false, but got {}", m_what, name, v->dump()));
  }
  return v->get<bool>();
}

int64_t OptionReader::get_int(const std::string& name, int64_t fallback, int64_t min_value,
                              int64_t max_value) {
  const Json* v = find(name);
  if (!v) {
    return fallback;
  }
  if (auto i = integer_in(*v, min_value, max_value)) {
    return *i;
  }
  throw std::invalid_argument(fmt::format("{} option '{}' must be {}, but got {}", m_what, name,
                                          integer_range_text(min_value, max_value), v->dump()));
}

std::optional<int64_t> OptionReader::get_int_or_auto(const std::string& name,
                                                     std::optional<int64_t> fallback,
                                                     int64_t min_value) {
  const Json* v = find(name);
  if (!v) {
    return fallback;
  }
  if (v->is_string() && v->get<std::string>() == "auto") {
    return std::nullopt;
  }
  if (auto i = integer_in(*v, min_value, std::numeric_limits<int64_t>::max())) {
    return *i;
  }
  throw std::invalid_argument(
      fmt::format("{} option '{}' must be an integer >= {} or \"auto\", but got {}", m_what, name,
                  min_value, v->dump()));
}

double OptionReader::get_double(const std::string& name, double fallback, double min_value,
                                double max_value) {
  const Json* v = find(name);
  if (!v) {
    return fallback;
  }
  if (v->is_boolean() || !v->is_number() || !(v->get<double>() >= min_value) ||
      !(v->get<double>() <= max_value)) {
    throw std::invalid_argument(
        fmt::format("{} option '{}' must be a number in [{}, {}], but got {}", m_what, name,
                    min_value, max_value, v->dump()));
  }
  return v->get<double>();
}

void OptionReader::finish() const {
  std::vector<std::string> known(m_known.begin(), m_known.end());
  for (const auto& item : m_options.items()) {
    if (m_known.count(item.key()) == 0) {
      throw std::invalid_argument(fmt::format("unknown {} option '{}'{}", m_what, item.key(),
                                              did_you_mean(item.key(), known)));
    }
  }
}

}  // namespace hpt
