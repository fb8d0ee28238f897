#include "hpt/engine/enqueue.hpp"

#include <algorithm>
#include <stdexcept>

namespace hpt {

namespace {

// Whether external values a and b are one value of the distribution of name in space.
bool same_value(const SearchSpace& space, const std::string& name, const Json& a, const Json& b) {
  const auto it = std::find_if(space.begin(), space.end(),
                               [&](const auto& entry) { return entry.first == name; });
  if (it == space.end()) {
    return a == b;
  }
  try {
    return to_internal(it->second, a) == to_internal(it->second, b);
  } catch (const std::invalid_argument&) {
    return false;  // A value another tool stored that the distribution does not take.
  }
}

// The values trial was given (fixed_params), or else its parameters, as external values.
Json given_values(const FrozenTrial& trial) {
  if (const auto it = trial.system_attrs.find(k_fixed_params_attr);
      it != trial.system_attrs.end() && it->second.is_object()) {
    return it->second;
  }
  return trial.external_params();
}

bool holds(const Json& given, const Json& entry, const SearchSpace& space) {
  if (given.size() != entry.size()) {
    return false;
  }
  for (const auto& [name, value] : entry.items()) {
    if (!given.contains(name) || !same_value(space, name, given.at(name), value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<Json> entries_not_enqueued(const std::vector<Json>& enqueue,
                                       const std::vector<FrozenTrial>& trials,
                                       const SearchSpace& space) {
  std::vector<Json> given;
  given.reserve(trials.size());
  for (const auto& t : trials) {
    given.push_back(given_values(t));
  }
  std::vector<Json> out;
  for (const Json& entry : enqueue) {
    if (std::none_of(given.begin(), given.end(),
                     [&](const Json& g) { return holds(g, entry, space); })) {
      out.push_back(entry);
    }
  }
  return out;
}

}  // namespace hpt
