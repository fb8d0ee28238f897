#include "hpt/reports/trial_model_view.hpp"

#include "hpt/reports/model_view.hpp"
#include "hpt/storage/attribute_names.hpp"

namespace hpt::reports {

std::optional<std::string> trial_log_path(const FrozenTrial& trial) {
  auto it = trial.system_attrs.find(k_log_attr);
  if (it == trial.system_attrs.end() || !it->second.is_string()) {
    return std::nullopt;
  }
  const std::string& log = it->second.get_ref<const std::string&>();
  const std::string name = std::to_string(trial.number) + ".log";
  if (log.size() < name.size() || log.compare(log.size() - name.size(), name.size(), name) != 0 ||
      (log.size() > name.size() && log[log.size() - name.size() - 1] != '/')) {
    return std::nullopt;
  }
  return log;
}

std::optional<std::string> model_view_path(const FrozenTrial& trial) {
  const auto log = trial_log_path(trial);
  if (!log) {
    return std::nullopt;
  }
  return model_view_path_of_log(*log);
}

std::string model_view_path_of_log(const std::string& log) {
  return log.substr(0, log.size() - 4) + "/model_view.json";
}

std::optional<Json> load_trial_model_view(const FrozenTrial& trial) {
  const auto path = model_view_path(trial);
  return path ? read_model_view(*path) : std::nullopt;
}

}  // namespace hpt::reports
