#pragma once
// Reading a JSON document hpt wrote (a saved model's model.json) key by key, each value
// checked for its type and range before use: a hand-edited or hostile file is one error naming
// the key, never an exception from deep inside the JSON library.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hpt {

// A JSON object that hpt wrote (model.json) read key by key: every getter throws
// std::invalid_argument "<path>.<key>: <problem>" (path from the document's root) for a
// missing key or a value of another type or outside [min, max].
class JsonFields {
 public:
  // Throws unless json is an object; path names it ("" for the root).
  JsonFields(const nlohmann::json& json, std::string path);
  JsonFields object(const std::string& key) const;
  bool has(const std::string& key) const { return m_json.contains(key); }
  int64_t integer(const std::string& key, int64_t min, int64_t max) const;
  double number(const std::string& key, double min, double max) const;  // Finite.
  std::string string(const std::string& key, size_t max_size = 4096) const;
  std::vector<int64_t> integers(const std::string& key, int64_t min, int64_t max,
                                size_t max_count) const;
  std::vector<double> numbers(const std::string& key, size_t max_count) const;  // Finite.
  // "<path>.<key>" ("<key>" at the root).
  std::string path(const std::string& key) const;
  const nlohmann::json& json() const { return m_json; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  // key's value, a list of at most max_count elements ("a list of at most N <what>").
  const nlohmann::json& list(const std::string& key, size_t max_count, const char* what) const;
  const nlohmann::json& m_json;
  std::string m_path;
};

}  // namespace hpt
