#include "hpt/reports/report.hpp"

#include <fmt/format.h>

#include <iostream>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/info.hpp"
#include "hpt/storage/study_lookup.hpp"
#include "hpt/tuner/importance.hpp"

namespace hpt::reports {

void write_report(Storage& storage, const std::string& study_name, const std::string& out_path,
                  const TrialFolders& where) {
  const StudyInfo study = resolve_study(storage, study_name);
  const std::string html = render_report(study, storage.get_all_trials(study.id), where);
  if (out_path == "-") {
    std::cout << html;
  } else {
    write_file_atomically(out_path, html);
  }
}

std::string importance_text(Storage& storage, const std::string& study_name,
                            const std::string& target, const std::string& format,
                            std::optional<long long> objective) {
  const ImportanceTarget t = importance_target_from_name(target);
  if (format != "table" && format != "json") {
    throw std::invalid_argument("importance format must be 'table' or 'json', but got '" + format +
                                "'");
  }
  const StudyInfo study = resolve_study(storage, study_name);
  const size_t n_objectives = study.directions.size();
  const long long k = objective.value_or(0);
  if (t == ImportanceTarget::Value &&
      (k < 0 || static_cast<unsigned long long>(k) >= n_objectives)) {
    throw std::invalid_argument(
        fmt::format("--objective {}: study '{}' has {} objective{} (--objective 0{})", k,
                    terminal_text(study.name), n_objectives, n_objectives == 1 ? "" : "s",
                    n_objectives == 1 ? "" : fmt::format(" to {}", n_objectives - 1)));
  }
  std::vector<FrozenTrial> trials = storage.get_all_trials(study.id);
  if (study.is_multi_objective() && t == ImportanceTarget::Value) {
    trials = objective_trials(trials, static_cast<size_t>(k));
  }
  const SearchSpace space = intersection_search_space(trials);
  std::string note;
  const auto thinned = importance_trials(trials, space, t, note);
  const auto sorted =
      sorted_by_importance(fanova_importance(thinned ? *thinned : trials, space, t));
  if (!note.empty()) {
    std::cerr << "hpt: note: " << note << "\n";  // Not stdout: the table or JSON stays whole.
  }
  if (format == "json") {  // Ranked, as the table and Optuna's dict (a Json object sorts keys).
    std::string out = "{";
    for (size_t i = 0; i < sorted.size(); ++i) {
      out +=
          fmt::format("{}\n  {}: {}", i == 0 ? "" : ",", python_json_dumps(Json(sorted[i].first)),
                      python_json_dumps(Json(sorted[i].second)));
    }
    return out + (sorted.empty() ? "}\n" : "\n}\n");
  }
  if (sorted.empty()) {
    return std::string(k_nothing_varies) + "\n";
  }
  size_t width = 9;
  for (const auto& [name, v] : sorted) {
    width = std::max(width, display_width(terminal_text(name)));
  }
  // A multi-objective study's table says which objective it is for (the json stays a plain map).
  std::string out =
      study.is_multi_objective() && t == ImportanceTarget::Value
          ? fmt::format("objective {} of {} ({}; --objective N for another)\n", k, n_objectives,
                        direction_name(study.directions[static_cast<size_t>(k)]))
          : "";
  out += fmt::format("{:<{}}  {:>10}\n", "parameter", width, "importance");
  for (const auto& [name, v] : sorted) {
    out += fmt::format("{}  {:>10.4f}\n", pad_to(terminal_text(name), width), v);
  }
  return out;
}

}  // namespace hpt::reports
