#include "cli_listing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "cli_text.hpp"
#include "hpt/engine/best_experiment.hpp"
#include "hpt/engine/cli.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/study_match.hpp"
#include "hpt/io/datetime_text.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"
#include "hpt/tuner/constraints.hpp"
#include "hpt/tuner/multi_objective.hpp"

namespace hpt {

namespace {

// The shortest text that reads back as the same double ("nan", "inf" for non-finite).
std::string value_text(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : ""; }

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    return s;
  }
  std::string out = "\"";
  for (char c : s) {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

// The names of every parameter of trials, sorted: the csv and table columns.
std::set<std::string> param_names(const std::vector<FrozenTrial>& trials) {
  std::set<std::string> names;
  for (const auto& t : trials) {
    for (const auto& [n, v] : t.params) {
      names.insert(n);
    }
  }
  return names;
}

// One value column per objective: "value", or "values_0", "values_1", ... as Optuna's
// trials_dataframe names them, so that a spreadsheet reads each objective as numbers.
std::string trials_csv(const std::vector<FrozenTrial>& trials, size_t objectives) {
  const auto names = param_names(trials);
  std::ostringstream out;
  out << "number,state,";
  for (size_t i = 0; i < objectives; ++i) {
    out << (objectives == 1 ? "value" : fmt::format("values_{}", i)) << ",";
  }
  out << "duration";
  for (const auto& n : names) {
    out << "," << csv_escape("params_" + n);
  }
  const bool constrained = constraints_reported(trials);
  out << (constrained ? ",constraints,feasible\n" : "\n");
  for (const auto& t : trials) {
    const Json p = t.external_params();
    out << t.number << "," << trial_state_name(t.state) << ",";
    for (size_t i = 0; i < objectives; ++i) {
      out << (objectives == 1       ? value_text(t.value)
              : i < t.values.size() ? value_text(t.values[i])
                                    : "")
          << ",";
    }
    out << (t.duration_seconds() ? fmt::format("{}", *t.duration_seconds()) : "");
    for (const auto& n : names) {
      out << "," << (p.contains(n) ? csv_escape(param_text(p[n])) : "");
    }
    if (const auto constraints = constrained ? trial_constraints(t) : std::nullopt) {
      out << "," << csv_escape(values_cell(*constraints, "{}")) << ","
          << (is_feasible(t) ? "True" : "False");
    } else if (constrained) {
      out << ",,";
    }
    out << "\n";
  }
  return out.str();
}

// rows as left-aligned columns two spaces apart.
std::string aligned_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += pad_to(row[i], width[i]) + (i + 1 < row.size() ? "  " : "\n");
    }
  }
  return out;
}

std::string trials_table(const std::vector<FrozenTrial>& trials) {
  const auto names = param_names(trials);
  std::vector<std::vector<std::string>> rows{{"number", "state", "value", "duration"}};
  for (const auto& n : names) {
    rows[0].push_back(terminal_text(n));
  }
  const bool constrained = constraints_reported(trials);
  if (constrained) {
    rows[0].push_back("constraints");
  }
  for (const auto& t : trials) {
    const Json p = t.external_params();
    std::vector<std::string> row{
        std::to_string(t.number), trial_state_name(t.state),
        t.value               ? fmt::format("{:.6g}", *t.value)
        : t.values.size() > 1 ? values_cell(t.values, "{:.6g}")
                              : "-",
        t.duration_seconds() ? Progress::format_duration(*t.duration_seconds()) : "-"};
    for (const auto& n : names) {
      row.push_back(p.contains(n) ? terminal_text(param_text(p[n])) : "-");
    }
    if (constrained) {
      const auto constraints = trial_constraints(t);
      row.push_back(!constraints     ? "-"
                    : is_feasible(t) ? values_cell(*constraints, "{:.6g}")
                                     : values_cell(*constraints, "{:.6g}") + " violated");
    }
    rows.push_back(std::move(row));
  }
  return aligned_columns(rows);
}

// hpt studies DB --format json: what Optuna's CLI prints, for the same scripts: name, direction
// (a list, one per objective), n_trials, datetime_start (the first trial's start, local time to
// the second, or null), and user_attrs in every row when a study has one.
Json studies_json(Storage& storage, const std::vector<StudyInfo>& studies) {
  Json out = Json::array();
  bool any_user_attrs = false;
  const auto outlines = storage.trial_outlines();
  for (const auto& s : studies) {
    std::optional<Clock::time_point> start;
    const auto& trials = Storage::outline_of(*outlines, s.id);
    for (const auto& t : trials) {
      if (t.datetime_start && (!start || *t.datetime_start < *start)) {
        start = t.datetime_start;
      }
    }
    Json directions = Json::array();
    for (Direction d : s.directions) {
      directions.push_back(direction_name(d));
    }
    const auto user_attrs = storage.study_user_attrs(s.id);
    any_user_attrs = any_user_attrs || !user_attrs.empty();
    out.push_back({{"name", s.name},
                   {"direction", directions},
                   {"n_trials", trials.size()},
                   {"datetime_start",
                    start ? Json(format_datetime(*start, TimeZone::Local).substr(0, 19)) : Json()},
                   {"user_attrs", Json(user_attrs)}});
  }
  for (auto& row : out) {
    if (!any_user_attrs) {
      row.erase("user_attrs");
    }
  }
  return out;
}

// rows (studies_json) as Python's json.dumps prints Optuna's records: keys in Optuna's order,
// not sorted, so that the text is the same as `optuna studies -f json` prints.
std::string studies_json_text(const Json& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> fields;
    for (const char* key : {"name", "direction", "n_trials", "datetime_start", "user_attrs"}) {
      if (rows[i].contains(key)) {
        fields.push_back(python_json_dumps(Json(key)) + ": " + python_json_dumps(rows[i].at(key)));
      }
    }
    out += fmt::format("{}{{{}}}", i == 0 ? "" : ", ", fmt::join(fields, ", "));
  }
  return out + "]";
}

// hpt best for a multi-objective study: the Pareto front, as Optuna's study.best_trials, with
// each trial's saved model (its log looked for in model_folders too).
void print_front(const StudyInfo& info, const std::vector<FrozenTrial>& front,
                 const std::string& format, const std::vector<std::string>& model_folders) {
  Json arr = Json::array();
  std::string text =
      fmt::format("study {}: {} trial{} on the Pareto front of {}\n", terminal_text(info.name),
                  front.size(), front.size() == 1 ? "" : "s", directions_text(info.directions));
  for (const FrozenTrial& t : front) {
    arr.push_back(trial_json(t));
    text += terminal_text(fmt::format("  trial {} values={} params={}", t.number,
                                      values_cell(t.values, "{}"),
                                      python_json_dumps(t.external_params()))) +
            "\n";
    if (const auto model = reports::trial_model_text(t, model_folders)) {
      text += terminal_text("    model: " + *model) + "\n";
    }
  }
  std::cout << (format == "json" ? python_json_dumps(arr, 2) + "\n" : text);
}

// Why a study of trials has no best trial: none COMPLETE, none meeting its constraints, or
// none with a value for each objective.
std::string no_best_problem(const StudyInfo& info, const std::vector<FrozenTrial>& trials) {
  const auto complete = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
    return t.state == TrialState::Complete;
  });
  const auto infeasible = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
    return t.state == TrialState::Complete && !is_feasible(t);
  });
  return complete == 0 ? "study '" + info.name + "' has no complete trial yet"
         : infeasible == complete
             ? fmt::format(
                   "study '{}' has {} COMPLETE trial{}, but none meets its "
                   "constraints (every constraint value <= 0; see hpt trials)",
                   info.name, complete, complete == 1 ? "" : "s")
             : fmt::format(
                   "study '{}' has {} COMPLETE trial{}, but none with a value "
                   "for each of its {} objective{} (see hpt trials)",
                   info.name, complete, complete == 1 ? "" : "s", info.directions.size(),
                   info.directions.size() == 1 ? "" : "s");
}

// A user attribute's line in hpt best's table: long lists (a ROC curve) in a few words.
std::string user_attr_line(const std::string& key, const Json& v) {
  const std::string text = v.is_number() || v.is_string() ? param_text(v) : python_json_dumps(v);
  return terminal_text(fmt::format("  [{}] {}", key,
                                   text.size() <= 80 || !v.is_structured()
                                       ? text
                                       : fmt::format("({} {} {}; --format json shows it)", v.size(),
                                                     v.is_array() ? "items" : "keys",
                                                     v.is_array() ? "in a list" : "in an object")));
}

// hpt best's table for a study of one objective: the best trial's value, params, constraints,
// saved model (its log looked for in model_folders too) and user attributes.
void print_best_table(const StudyInfo& info, const FrozenTrial& best,
                      const std::vector<std::string>& model_folders) {
  std::cout << fmt::format("study {}: best trial {} value={}\n", terminal_text(info.name),
                           best.number, *best.value);
  const Json params = best.external_params();  // items() must not outlive it.
  for (const auto& [k, v] : params.items()) {
    std::cout << terminal_text(fmt::format("  {} = {}", k, param_text(v))) << "\n";
  }
  if (const auto constraints = trial_constraints(best)) {
    std::cout << "  constraints: " << values_cell(*constraints, "{}") << " (met)\n";
  }
  if (const auto model = reports::trial_model_text(best, model_folders)) {
    std::cout << terminal_text("  model: " + *model) << "\n";
  }
  for (const auto& [k, v] : best.user_attrs) {
    std::cout << user_attr_line(k, v) << "\n";
  }
}

}  // namespace

std::string format_trials(Storage& storage, const StudyInfo& study, const std::string& format) {
  if (format != "table" && format != "json" && format != "csv") {
    throw std::invalid_argument("--format must be table, json or csv, but got '" + format + "'");
  }
  const auto trials = storage.get_all_trials(study.id);
  if (format == "json") {
    Json arr = Json::array();
    for (const auto& t : trials) {
      arr.push_back(trial_json(t));
    }
    return python_json_dumps(arr, 2) + "\n";
  }
  return format == "csv" ? trials_csv(trials, std::max<size_t>(1, study.directions.size()))
                         : trials_table(trials);
}

int print_studies(const std::string& db, const std::string& format) {
  auto storage = open_storage(db, true);
  const auto studies = storage->list_studies();
  if (format == "json") {
    std::cout << studies_json_text(studies_json(*storage, studies)) << "\n";
    return 0;
  }
  if (studies.empty()) {
    std::cout << "no study in this database yet\n";
  }
  std::vector<std::array<std::string, 3>> rows;
  std::array<size_t, 2> width{};
  const auto outlines = storage->trial_outlines();
  for (const auto& s : studies) {
    const auto& trials = Storage::outline_of(*outlines, s.id);
    const auto n = trials.size();
    const auto done = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Complete || t.state == TrialState::Pruned;
    });
    rows.push_back({terminal_text(s.name), directions_text(s.directions),
                    fmt::format("{} trial{} ({} finished)", n, n == 1 ? "" : "s", done)});
    width = {std::max(width[0], display_width(rows.back()[0])),
             std::max(width[1], rows.back()[1].size())};
  }
  for (const auto& [name, directions, counts] : rows) {  // Aligned columns, no trailing blanks.
    std::cout << pad_to(name, width[0] + 2) << pad_to(directions, width[1] + 2) << counts << "\n";
  }
  return 0;
}

int print_best(const std::string& db, const std::string& study, const std::string& format) {
  auto storage = open_storage(db, true);
  const StudyInfo info = resolve_study(*storage, study);
  const auto trials = storage->get_all_trials(info.id);
  const auto front = best_trials(trials, info.directions);
  if (front.empty()) {
    report_error(no_best_problem(info, trials));
    return 1;
  }
  const auto model_folders = reports::log_folders(db, {});  // Where trials' models are found.
  if (info.is_multi_objective()) {
    if (format == "experiment") {
      report_error(fmt::format(
          "--format experiment is for a study of one objective; study '{}' has {} (hpt best "
          "shows its Pareto front)",
          info.name, info.directions.size()));
      return 1;
    }
    print_front(info, front, format, model_folders);
    return 0;
  }
  const FrozenTrial& best = front.front();
  if (format == "experiment") {
    std::cout << best_experiment_yaml(*storage, info, best, model_folders);
  } else if (format == "json") {
    std::cout << python_json_dumps(trial_json(best), 2) << "\n";
  } else {
    print_best_table(info, best, model_folders);
  }
  return 0;
}

}  // namespace hpt
