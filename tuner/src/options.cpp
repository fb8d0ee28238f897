#include "hpt/tuner/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "hpt/io/did_you_mean.hpp"

namespace hpt {

namespace {

// v as an int64 >= min_value (an integral float counts), or std::nullopt (not a number,
// fractional, out of int64's range or below min_value).
std::optional<int64_t> integer_at_least(const Json& v, int64_t min_value) {
  if (v.is_boolean() || !v.is_number()) {
    return std::nullopt;
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min_value) ||
      d >= 9.2e18) {
    return std::nullopt;
  }
  return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(d);
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

int64_t OptionReader::get_int(const std::string& name, int64_t fallback, int64_t min_value) {
  const Json* v = find(name);
  if (!v) {
    return fallback;
  }
  if (auto i = integer_at_least(*v, min_value)) {
    return *i;
  }
  throw std::invalid_argument(fmt::format("{} option '{}' must be an integer >= {}, but got {}",
                                          m_what, name, min_value, v->dump()));
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
  if (auto i = integer_at_least(*v, min_value)) {
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
