#include "hpt/engine/enqueue.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

namespace hpt {

namespace {

// The values trial was given (fixed_params), or else its parameters, as external values.
Json given_values(const FrozenTrial& trial) {
  if (const auto it = trial.system_attrs.find(k_fixed_params_attr);
      it != trial.system_attrs.end()) {
    return it->second;
  }
  return trial.external_params();
}

}  // namespace

std::optional<std::string> enqueue_key(const Json& given, const SearchSpace& space) {
  if (!given.is_object()) {
    return std::nullopt;
  }
  Json key = Json::object();
  for (const auto& item : given.items()) {
    const std::string& name = item.key();
    const Json& value = item.value();
    const auto it = std::find_if(space.begin(), space.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    if (it == space.end()) {
      return std::nullopt;
    }
    try {
      const double internal = to_internal(it->second, value);
      key[name] = internal == 0 ? 0.0 : internal;  // -0.0 is 0.0.
    } catch (const std::invalid_argument&) {
      return std::nullopt;
    }
  }
  return key.dump();
}

std::vector<Json> entries_not_enqueued(const std::vector<Json>& enqueue,
                                       const std::vector<FrozenTrial>& trials,
                                       const SearchSpace& space) {
  if (enqueue.empty()) {
    return {};  // No key to build for every trial (a lookup among a categorical's choices).
  }
  std::unordered_set<std::string> held;
  for (const auto& t : trials) {
    if (auto key = enqueue_key(given_values(t), space)) {
      held.insert(std::move(*key));
    }
  }
  std::vector<Json> out;
  for (const Json& entry : enqueue) {
    const auto key = enqueue_key(entry, space);
    if (!key || held.count(*key) == 0) {
      out.push_back(entry);
    }
  }
  return out;
}

}  // namespace hpt
