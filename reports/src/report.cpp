#include "hpt/reports/report.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/storage/optuna_json.hpp"
#include "hpt/storage/study_lookup.hpp"
#include "hpt/tuner/importance.hpp"

namespace hpt::reports {
namespace {}  // namespace

void write_report(Storage& storage, const std::string& study_name, const std::string& out_path) {
  const StudyInfo study = resolve_study(storage, study_name);
  write_file_atomically(out_path, render_report(study, storage.get_all_trials(study.id)));
}

std::string importance_text(Storage& storage, const std::string& study_name,
                            const std::string& target, const std::string& format) {
  const ImportanceTarget t = importance_target_from_name(target);
  if (format != "table" && format != "json") {
    throw std::invalid_argument("importance format must be 'table' or 'json', but got '" + format +
                                "'");
  }
  const StudyInfo study = resolve_study(storage, study_name);
  const auto trials = storage.get_all_trials(study.id);
  const auto importances = fanova_importance(trials, t);
  const auto sorted = sorted_by_importance(importances);
  if (format == "json") {
    Json j = Json::object();
    for (const auto& [name, v] : sorted) {
      j[name] = v;
    }
    return python_json_dumps(j, 2) + "\n";
  }
  size_t width = 9;
  for (const auto& [name, v] : sorted) {
    width = std::max(width, terminal_text(name).size());
  }
  std::string out = fmt::format("{:<{}}  {:>10}\n", "parameter", width, "importance");
  for (const auto& [name, v] : sorted) {
    out += fmt::format("{:<{}}  {:>10.4f}\n", terminal_text(name), width, v);
  }
  return out;
}

}  // namespace hpt::reports
