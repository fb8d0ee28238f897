#include "hpt/experiment/trial_settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "hpt/experiment/experiment_config.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/schema/number_text.hpp"

namespace hpt::trainer {

namespace {

// Every name setting_problem accepts: the top-level keys and "dataset.<key>".
std::vector<std::string> setting_names() {
  std::vector<std::string> names = experiment_keys();
  for (const auto& key : dataset_keys()) {
    names.push_back("dataset." + key);
  }
  return names;
}

// "512-256" -> [512, 256]; "none", "" and "[]" -> []. Numbers are decimal (number_text).
nlohmann::json parse_units(const std::string& text, const std::string& origin) {
  nlohmann::json out = nlohmann::json::array();
  if (text == "none" || text == "[]" || text.empty()) {
    return out;
  }
  const auto fail = [&] {
    throw ConfigError(fmt::format(
        "{}: intermediate_ff_block_units: expected e.g. \"512-256\", got \"{}\"", origin, text));
  };
  std::string token;
  for (char ch : text + ",") {
    if (ch >= '0' && ch <= '9') {
      token += ch;
    } else if (ch == ',' || ch == '-' || ch == ' ' || ch == '[' || ch == ']' || ch == 'x') {
      if (!token.empty()) {
        int64_t v = 0;
        if (parse_decimal_int(token, v) != IntText::ok) {
          fail();
        }
        out.push_back(v);
        token.clear();
      }
    } else {
      fail();
    }
  }
  return out;
}

}  // namespace

std::string setting_problem(const std::string& name) {
  if (name == "objectives" || name == "constraints") {
    // What a trial is judged by: searched, each trial would be scored on its own terms (a
    // trial drawing no constraints counted as feasible; one objective minimised as another).
    return fmt::format(
        "'{}' defines what the study optimises and cannot be searched; set it in "
        "fixed",
        name);
  }
  const std::vector<std::string> names = setting_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    return "";
  }
  return fmt::format("'{}' is not a setting of the built-in trainer{}", name,
                     did_you_mean(name, names));
}

bool sets_setting(const nlohmann::json& settings, const std::string& name) {
  if (!settings.is_object()) {
    return false;
  }
  if (settings.contains(name)) {
    return true;
  }
  const auto dot = name.find('.');
  if (dot == std::string::npos) {
    return false;
  }
  const auto section = settings.find(name.substr(0, dot));
  return section != settings.end() && section->is_object() &&
         section->contains(name.substr(dot + 1));
}

nlohmann::json merge_settings(const nlohmann::json& fixed, const nlohmann::json& params,
                              const std::string& origin) {
  nlohmann::json merged = fixed.is_object() ? fixed : nlohmann::json::object();
  for (const auto& [name, value] : params.items()) {
    nlohmann::json v = value;
    if (name == "intermediate_ff_block_units" && v.is_string()) {
      v = parse_units(v.get<std::string>(), origin);
    }
    const auto dot = name.find('.');
    if (dot == std::string::npos) {
      merged[name] = v;
      continue;
    }
    const std::string section = name.substr(0, dot);
    nlohmann::json& s = merged[section];
    if (s.is_null()) {
      s = nlohmann::json::object();
    }
    if (!s.is_object()) {
      throw ConfigError(fmt::format("{}: {}: '{}' is {}, not a section of settings", origin, name,
                                    section, s.dump()));
    }
    s[name.substr(dot + 1)] = v;
  }
  return merged;
}

}  // namespace hpt::trainer
