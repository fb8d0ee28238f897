#include "hpt/io/json_fields.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

// A JSON value as an error shows it (at most 60 bytes).
std::string shown(const nlohmann::json& v) {
  const std::string text = v.dump();
  return std::string(hpt::utf8_prefix(text, 60));
}

// v as an integer in [min, max]; throws "<where>: expected an integer from min to max, got v".
int64_t checked_integer(const nlohmann::json& v, const std::string& where, int64_t min,
                        int64_t max) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(max)) ||
      v.get<int64_t>() < min || v.get<int64_t>() > max) {
    throw std::invalid_argument(
        fmt::format("{}: expected an integer from {} to {}, got {}", where, min, max, shown(v)));
  }
  return v.get<int64_t>();
}

}  // namespace

JsonFields::JsonFields(const nlohmann::json& json, std::string path)
    : m_json(json), m_path(std::move(path)) {
  if (!json.is_object()) {
    throw std::invalid_argument(fmt::format("{}: expected an object, got {}",
                                            m_path.empty() ? "(root)" : m_path, shown(json)));
  }
}

std::string JsonFields::path(const std::string& key) const {
  return m_path.empty() ? key : m_path + "." + key;
}

const nlohmann::json& JsonFields::at(const std::string& key) const {
  const auto it = m_json.find(key);
  if (it == m_json.end()) {
    throw std::invalid_argument(path(key) + ": missing");
  }
  return *it;
}

JsonFields JsonFields::object(const std::string& key) const { return {at(key), path(key)}; }

int64_t JsonFields::integer(const std::string& key, int64_t min, int64_t max) const {
  return checked_integer(at(key), path(key), min, max);
}

double JsonFields::number(const std::string& key, double min, double max) const {
  const auto& v = at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < min ||
      v.get<double>() > max) {
    throw std::invalid_argument(
        fmt::format("{}: expected a number from {} to {}, got {}", path(key), min, max, shown(v)));
  }
  return v.get<double>();
}

std::string JsonFields::string(const std::string& key, size_t max_size) const {
  const auto& v = at(key);
  if (!v.is_string() || v.get_ref<const std::string&>().size() > max_size) {
    throw std::invalid_argument(fmt::format("{}: expected a string of at most {} bytes, got {}",
                                            path(key), max_size, shown(v)));
  }
  return v.get<std::string>();
}

const nlohmann::json& JsonFields::list(const std::string& key, size_t max_count,
                                       const char* what) const {
  const auto& v = at(key);
  if (!v.is_array() || v.size() > max_count) {
    throw std::invalid_argument(fmt::format("{}: expected a list of at most {} {}, got {}",
                                            path(key), max_count, what, shown(v)));
  }
  return v;
}

std::vector<int64_t> JsonFields::integers(const std::string& key, int64_t min, int64_t max,
                                          size_t max_count) const {
  const auto& v = list(key, max_count, "integers");
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(checked_integer(v[i], fmt::format("{}[{}]", path(key), i), min, max));
  }
  return out;
}

std::vector<double> JsonFields::numbers(const std::string& key, size_t max_count) const {
  const auto& v = list(key, max_count, "numbers");
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number() || !std::isfinite(v[i].get<double>())) {
      throw std::invalid_argument(
          fmt::format("{}[{}]: expected a finite number, got {}", path(key), i, shown(v[i])));
    }
    out.push_back(v[i].get<double>());
  }
  return out;
}

}  // namespace hpt
