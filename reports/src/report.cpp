#include "hpt/reports/report.hpp"
#include "hpt/storage/study_lookup.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "hpt/tuner/importance.hpp"

namespace hpt::reports {
namespace {

}  // namespace

void write_report(Storage& storage, const std::string& study_name, const std::string& out_path) {
  const StudyInfo study = resolve_study(storage, study_name);
  const std::string html = render_report(study, storage.get_all_trials(study.id));
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write report '" + tmp + "'");
    }
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot move report into place at '" + out_path + "'");
  }
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
    return j.dump(2) + "\n";
  }
  size_t width = 9;
  for (const auto& [name, v] : sorted) {
    width = std::max(width, name.size());
  }
  std::string out = fmt::format("{:<{}}  {:>10}\n", "parameter", width, "importance");
  for (const auto& [name, v] : sorted) {
    out += fmt::format("{:<{}}  {:>10.4f}\n", name, width, v);
  }
  return out;
}

}  // namespace hpt::reports
