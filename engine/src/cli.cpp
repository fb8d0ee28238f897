#include "hpt/engine/cli.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "hpt/cli/run_app.hpp"
#include "hpt/engine/best_experiment.hpp"
#include "hpt/engine/dataset_check.hpp"
#include "hpt/engine/orchestrator.hpp"
#include "hpt/engine/owner.hpp"
#include "hpt/engine/progress.hpp"
#include "hpt/engine/study_config.hpp"
#include "hpt/engine/study_copy.hpp"
#include "hpt/engine/study_folder.hpp"
#include "hpt/engine/study_match.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/io/credentials.hpp"
#include "hpt/io/datetime_text.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/folder.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/reports/trial_model_view.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/schema/number_text.hpp"
#include "hpt/storage/attribute_names.hpp"
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

// A parameter's value as people read it: strings bare, the rest as JSON (never throws on
// invalid UTF-8 from a database).
std::string param_text(const Json& v) {
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string time_text(const std::optional<Clock::time_point>& t) {
  return t ? format_datetime(*t, TimeZone::Local, 0) : "";
}

// NaN and infinities stay numbers: python_json_dumps prints NaN, Infinity, -Infinity.
Json value_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// Values as one cell: "[0.25, 3]" (fmt_spec per value): a multi-objective trial's, a tell's.
std::string values_cell(const std::vector<double>& values, const char* fmt_spec) {
  std::string out;
  for (double v : values) {
    out += (out.empty() ? "" : ", ") + fmt::format(fmt::runtime(fmt_spec), v);
  }
  return "[" + out + "]";
}

Json trial_json(const FrozenTrial& t) {
  Json j{{"number", t.number},
         {"state", trial_state_name(t.state)},
         {"value", value_json(t.value)},
         {"params", t.external_params()},
         {"datetime_start", t.datetime_start ? Json(time_text(t.datetime_start)) : Json()},
         {"datetime_complete",
          t.datetime_complete ? Json(time_text(t.datetime_complete)) : Json()},  // null, as None
         {"duration", t.duration_seconds() ? Json(*t.duration_seconds()) : Json(nullptr)},
         {"user_attrs", t.user_attrs}};
  Json iv = Json::object();
  for (const auto& [step, v] : t.intermediate_values) {
    iv[std::to_string(step)] = v;
  }
  j["intermediate_values"] = iv;
  if (t.values.size() > 1) {
    j["values"] = t.values;  // A multi-objective trial: every objective's value.
  }
  if (t.system_attrs.count(k_fail_reason_attr)) {
    j["fail_reason"] = t.system_attrs.at(k_fail_reason_attr);
  }
  if (const auto constraints = trial_constraints(t)) {
    j["constraints"] = *constraints;
  }
  return j;
}

namespace {

// A study command's config with its --storage / --study overrides, checked as far as it can be
// without a database, and its database opened (made, with its folder, if missing).
struct OpenedStudy {
  StudyConfig config;
  RunOptions options;
  std::unique_ptr<Storage> storage;
};

// run_study_command passes check_data: a run has the built-in trainer's dataset loaded and
// checked once before the database is made (an ask does not: it trains nothing).
OpenedStudy open_study_for(const std::string& config_file, int jobs, const std::string& storage_url,
                           const std::string& study, bool check_data = false) {
  OpenedStudy out{load_study_config(config_file), {}, nullptr};
  StudyConfig& config = out.config;
  if (jobs > 0) {
    config.jobs = jobs;
  }
  if (!storage_url.empty()) {
    if (const std::string problem = study_storage_problem(storage_url); !problem.empty()) {
      throw ConfigError("--storage: " + problem);
    }
    config.storage = storage_url;
  }
  if (!study.empty()) {
    if (const std::string problem = study_name_problem(study); !problem.empty()) {
      throw ConfigError("--study: " + problem);
    }
    config.name = study;
  }
  out.options.trainer_exe = trainer_executable();
  // The place an error names: the flag, or the config's key.
  const std::string where = storage_url.empty() ? config.origin("study.storage") : "--storage";
  // A study may start a new database in a new folder (e.g. storage: out/study.db); one that
  // cannot be made is named first (the trials folder beside it would fail for the same reason).
  std::filesystem::path db_folder;
  bool new_database = false;
  if (auto db = sqlite_file_of(config.storage)) {
    db_folder = std::filesystem::path(*db).parent_path();
    if (const std::string problem = db_folder.empty() ? "" : folder_problem(db_folder.string());
        !problem.empty()) {
      throw StorageError(where + ": " + problem);
    }
    std::error_code ec;
    new_database = *db != ":memory:" && !std::filesystem::exists(std::filesystem::symlink_status(*db, ec));
  }
  // Before a database (or its folder) is made: refused, none is.
  check_study(config, out.options, new_database);
  if (check_data) {
    check_trainer_dataset(config, out.options.trainer_exe);
  }
  try {
    if (!db_folder.empty()) {
      create_folder(db_folder.string());
    }
    out.storage = open_storage(config.storage);
  } catch (const std::exception& e) {
    throw StorageError(where + ": " + e.what());
  }
  return out;
}

}  // namespace

int run_study_command(const std::string& config_file, int trials, bool more_trials,
                      std::optional<double> time_budget, int jobs, const std::string& storage_url,
                      const std::string& study) {
  const StopSignals signals;  // From the start: a signal while the study opens stops it too.
  std::optional<OpenedStudy> opened;
  try {
    opened.emplace(open_study_for(config_file, jobs, storage_url, study, true));
  } catch (const std::exception&) {
    if (!signals.caught()) {
      throw;
    }
    // What failed was cut short by the signal (the dataset check's process got Ctrl-C too).
  }
  if (signals.caught()) {
    std::cerr << "hpt: stopped by a signal before the study started; no trial ran\n";
    return k_exit_interrupted;
  }
  OpenedStudy& s = *opened;
  s.options.trials = trials;
  s.options.more_trials = more_trials;
  s.options.time_budget = time_budget;
  s.options.interactive = ::isatty(STDOUT_FILENO) != 0;
  return run_study(s.config, *s.storage, s.options, std::cout);
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

namespace {

// hpt's error lines hide credentials (messages quote storage URLs from configs and flags).
std::string hide_credentials(const std::string& message) { return redact_credentials(message); }

// Prints "hpt: error: message" on one line (hpt::print_error), credentials hidden.
void report_error(const std::string& message) { print_error(message, hide_credentials); }

}  // namespace

namespace {

// Whether the file at path is empty or starts (after a byte-order mark and blanks) like an
// HTML page: "<!doctype html", "<html" or a comment, in any case.
bool empty_or_html(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) {
    head.erase(0, 3);
  }
  head.erase(0, head.find_first_not_of(" \t\r\n"));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.empty() || head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0 ||
         head.rfind("<!--", 0) == 0;
}

// Throws if out is the database file of storage_url or one of its -wal/-shm/-journal files.
void check_not_database(const std::string& out, const std::string& storage_url) {
  std::optional<std::string> db;
  try {
    db = sqlite_file_of(storage_url);
  } catch (const StorageError&) {
    return;  // Not a database file: opening it will say why.
  }
  if (!db || *db == ":memory:") {
    return;
  }
  // Absolute first: weakly_canonical keeps a path relative when its file does not exist yet
  // (o.db-journal against ./o.db-journal). SQLite puts the others beside the real file.
  const auto canonical = [](const std::string& path, std::error_code& ec) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  };
  std::error_code ec_out;
  const auto out_name = canonical(out, ec_out);
  std::error_code ec_db;
  const std::string real_db = canonical(*db, ec_db).string();
  std::vector<const char*> suffixes = {""};  // The database, then its side files.
  suffixes.insert(suffixes.end(), k_sqlite_side_suffixes.begin(), k_sqlite_side_suffixes.end());
  for (const char* suffix : suffixes) {
    const std::string file = *db + suffix;
    std::error_code ec;
    const auto name = canonical(real_db + suffix, ec);
    if (same_file(out, file) || (!ec && !ec_db && !ec_out && name == out_name)) {
      throw std::invalid_argument(
          fmt::format("output '{}' is the study database{} '{}'; refusing to overwrite it", out,
                      *suffix ? fmt::format("'s SQLite {} file", suffix) : std::string(), file));
    }
  }
}

}  // namespace

void check_output_path(const std::string& out, const std::string& storage_url) {
  check_not_database(out, storage_url);
  std::error_code ec;
  if (std::filesystem::is_regular_file(out, ec) && !empty_or_html(out)) {
    throw std::invalid_argument(fmt::format(
        "output '{}' exists and is not an HTML file; refusing to overwrite it (choose another "
        "-o, or remove it first)",
        out));
  }
}

std::string trainer_executable() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "hpt-train").string();
}

void add_trainer_passthrough(CLI::App& app) {
  const std::pair<const char*, const char*> verbs[] = {
      {"train", "Train the embedding model from an experiment YAML (hpt train --help)"},
      {"match", "Decide whether two images show the same class (hpt match --help)"},
      {"embed", "Print image embeddings as JSON lines (hpt embed --help)"},
      {"worker",
       "The built-in trial worker (reads HPT_FIXED, HPT_PARAMS, HPT_SEED, HPT_TRIAL_DIR)"}};
  for (const auto& [name, description] : verbs) {
    auto* sub = app.add_subcommand(name, description);
    sub->prefix_command();
    sub->set_help_flag();
    sub->callback([sub, verb = std::string(name)] {
      const std::string exe = trainer_executable();
      std::vector<std::string> args{"hpt", verb};  // Its usage and help then say "hpt VERB".
      for (const auto& a : sub->remaining()) {
        args.push_back(a);
      }
      std::vector<char*> argv;
      for (auto& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      throw std::runtime_error(
          fmt::format("cannot run '{}' for 'hpt {}': {} (was hpt built without the "
                      "trainer? cmake -DHPT_WITH_TRAINER=ON)",
                      exe, verb, std::strerror(errno)));
    });
  }
}

namespace {

// What hpt's command line holds: the study flags and the read-only commands' arguments
// (--study is one value for both, as it always was).
struct CommandLine {
  std::string config_file, storage_url, study;
  int trials = 0;
  bool more_trials = false;       // --trials +K.
  std::optional<double> timeout;  // Seconds.
  int jobs = 0;
  std::string db, format = "table";
  CLI::App* studies_cmd = nullptr;
  CLI::App* trials_cmd = nullptr;
  CLI::App* best_cmd = nullptr;
  CLI::App* delete_cmd = nullptr;
  bool force = false;
  CLI::App* copy_cmd = nullptr;
  std::string to_db, to_study;
  CLI::App* ask_cmd = nullptr;
  CLI::App* tell_cmd = nullptr;
  int trial_number = -1;
  std::vector<double> values;
  std::vector<double> constraints;
  std::string state;
  bool skip_if_finished = false;
};

// The study command's flags: --config, --trials, --timeout, --jobs, --storage, --study.
void add_study_flags(CLI::App& app, CommandLine& cl) {
  app.add_option("--config", cl.config_file, "Study config (hpt_config.yaml)");
  app.add_option_function<std::string>(
         "--trials",
         [&cl](const std::string& text) {
           // "+K": K more than the study has finished when the run starts.
           cl.more_trials = !text.empty() && text[0] == '+';
           const std::string count = cl.more_trials ? text.substr(1) : text;
           const auto refused = [&text] {
             return CLI::ValidationError(
                 "--trials", fmt::format("expected N (the study's total of finished trials) or "
                                         "+K (K more than it has), each in [1, {}], but got '{}'",
                                         std::numeric_limits<int>::max(), terminal_text(text)));
           };
           if (count.empty() || std::isdigit(static_cast<unsigned char>(count[0])) == 0) {
             throw refused();  // "+", "++3", "+-3": one sign at most.
           }
           try {
             cl.trials = parse_int_flag("--trials", count, 1, std::numeric_limits<int>::max());
           } catch (const CLI::ValidationError&) {
             throw refused();
           }
         },
         "Total finished (COMPLETE + PRUNED) trials the study should have; +K: K more than it "
         "has now")
      ->type_name("N|+K");
  app.add_option_function<std::string>(
         "--timeout",
         [&cl](const std::string& text) {
           const auto seconds = parse_duration_seconds(text);
           if (!seconds || !(*seconds > 0) || *seconds > 1e9) {
             throw CLI::ValidationError(
                 "--timeout", fmt::format("expected a time such as 3600, 90m, 2h or 1.5d (more "
                                          "than 0, at most 1e9 s), but got '{}'",
                                          terminal_text(text)));
           }
           cl.timeout = seconds;
         },
         "No trial starts after this time (seconds, or with s, m, h, d: 90m, 2h); the running "
         "ones finish. Alone, without --trials, it ends the study")
      ->type_name("TIME");
  add_int_option(app, "--jobs", cl.jobs, 1, 1024, "Trials run at once (overrides study.jobs)");
  app.add_option("--storage", cl.storage_url, "Study database (overrides study.storage)");
  app.add_option("--study", cl.study, "Study name (overrides study.name)");
  // They belong to a study run: before a verb (hpt --trials 7 studies DB) they would be ignored.
  // Checked once the line is read, before a verb's callback runs.
  app.parse_complete_callback([&app] {
    const auto verbs = app.get_subcommands();
    for (const char* flag : {"--config", "--trials", "--timeout", "--jobs", "--storage", "--study"}) {
      if (!verbs.empty() && app.count(flag) > 0) {
        throw CLI::ValidationError(
            flag, fmt::format("is a flag of a study run (hpt --config CFG ...), but it comes "
                              "before the verb `{}`: give the verb's own flags after it",
                              verbs.front()->get_name()));
      }
    }
  });
}

// The read-only commands: studies, trials, best.
void add_read_commands(CLI::App& app, CommandLine& cl) {
  cl.studies_cmd = app.add_subcommand("studies", "List the studies in a database");
  cl.studies_cmd->add_option("DB", cl.db, "Study database")->required();
  cl.studies_cmd
      ->add_option("--format", cl.format,
                   "table, or json (as Optuna's `optuna studies -f json`: name, direction, "
                   "n_trials, datetime_start)")
      ->check(CLI::IsMember({"table", "json"}));
  cl.trials_cmd = app.add_subcommand("trials", "List a study's trials");
  cl.trials_cmd->add_option("DB", cl.db, "Study database")->required();
  cl.trials_cmd->add_option("--study", cl.study, "Study name (default: the only study)");
  cl.trials_cmd->add_option("--format", cl.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  cl.best_cmd = app.add_subcommand("best", "Show a study's best trial");
  cl.best_cmd->add_option("DB", cl.db, "Study database")->required();
  cl.best_cmd->add_option("--study", cl.study, "Study name (default: the only study)");
  cl.best_cmd
      ->add_option("--format", cl.format,
                   "table, json, or experiment (a built-in-trainer trial's experiment config as "
                   "YAML, for hpt train --config)")
      ->check(CLI::IsMember({"table", "json", "experiment"}));
  cl.delete_cmd = app.add_subcommand(
      "delete-study", "Delete a study and all its trials from a database (Optuna's delete-study)");
  cl.delete_cmd->add_option("DB", cl.db, "Study database")->required();
  cl.delete_cmd->add_option("--study", cl.study, "The study to delete (always named)")->required();
  cl.delete_cmd->add_flag("--force", cl.force, "Delete it even while trials are RUNNING");
  cl.copy_cmd = app.add_subcommand(
      "copy-study",
      "Copy a study into another database, or into the same one under another name (Optuna's "
      "copy_study)");
  cl.copy_cmd->add_option("FROM", cl.db, "The study's database")->required();
  cl.copy_cmd->add_option("TO", cl.to_db, "The database to copy it into (made if missing)")
      ->required();
  cl.copy_cmd->add_option("--study", cl.study, "The study to copy (default: the only study)");
  cl.copy_cmd->add_option("--to-study", cl.to_study, "Its name in TO (default: its own)");
}

// A told value as Python's float() reads it: a decimal (blanks around it allowed; beyond a
// double, ±inf), or inf / infinity / nan in any case with a sign (NaN is refused later, by name).
std::optional<double> value_of_text(const std::string& text) {
  static const std::regex k_value(
      "[ \t\n]*([+-]?)(?:([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|(inf|infinity|nan))"
      "[ \t\n]*",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_match(text, m, k_value)) {
    return std::nullopt;
  }
  const double sign = m[1] == "-" ? -1.0 : 1.0;
  if (m[4].matched) {
    return m[4].length() == 3 && std::tolower(static_cast<unsigned char>(m[4].str()[0])) == 'n'
               ? std::numeric_limits<double>::quiet_NaN()
               : sign * std::numeric_limits<double>::infinity();
  }
  return sign * std::strtod((m[2].str() + m[3].str()).c_str(), nullptr);  // C locale.
}

// A list option of numbers (decimals, inf, -inf): --values 0.5 -inf.
void add_numbers_option(CLI::App& cmd, const std::string& name, std::vector<double>& target,
                        const std::string& help) {
  cmd.add_option_function<std::vector<std::string>>(
         name,
         [name, &target](const std::vector<std::string>& texts) {
           target.clear();
           for (const auto& text : texts) {
             const auto v = value_of_text(text);
             if (!v) {
               throw CLI::ValidationError(
                   name, fmt::format("'{}' is not a number (a decimal such as 0.25, 1e-3, inf "
                                     "or -inf)",
                                     terminal_text(text)));
             }
             target.push_back(*v);
           }
         },
         help)
      ->type_name("FLOAT ...")
      ->expected(1, CLI::detail::expected_max_vector_size);
}

// ask and tell (Optuna's CLI verbs): trials run by another program, one at a time.
void add_ask_tell_commands(CLI::App& app, CommandLine& cl) {
  cl.ask_cmd = app.add_subcommand(
      "ask",
      "Start the study's next trial and print its number and parameters as JSON, for a "
      "program of your own to run (Optuna's ask); finish it with hpt tell");
  cl.ask_cmd->add_option("--config", cl.config_file, "Study config (hpt_config.yaml)")->required();
  cl.ask_cmd->add_option("--storage", cl.storage_url, "Study database (overrides study.storage)");
  cl.ask_cmd->add_option("--study", cl.study, "Study name (overrides study.name)");
  cl.tell_cmd = app.add_subcommand(
      "tell", "Finish a RUNNING trial with its values, or as pruned or failed (Optuna's tell)");
  cl.tell_cmd->add_option("DB", cl.db, "Study database")->required();
  cl.tell_cmd->add_option("--study", cl.study, "Study name (default: the only study)");
  add_int_option(*cl.tell_cmd, "--trial-number", cl.trial_number, 0,
                 std::numeric_limits<int>::max(), "The trial's number (hpt ask printed it)")
      ->required();
  add_numbers_option(*cl.tell_cmd, "--values", cl.values,
                     "Its objective values, one per direction");
  add_numbers_option(*cl.tell_cmd, "--constraints", cl.constraints,
                     "Its constraint values, each <= 0 when met (Optuna's constraints_func)");
  cl.tell_cmd
      ->add_option("--state", cl.state,
                   "complete (the default with --values), pruned (its last step's value) or fail")
      ->check(CLI::IsMember({"complete", "pruned", "fail"}));
  cl.tell_cmd->add_flag("--skip-if-finished", cl.skip_if_finished,
                        "A trial already finished is left as it is (exit 0)");
}

// A database file that must exist (a missing one is named, never made); a server URL passes.
void require_database_file(const std::string& db) {
  if (const auto file = sqlite_file_of(db)) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::status(*file, ec))) {
      throw StorageError(*file + ": no such file");
    }
  }
}

// The folder of the trials' worker logs, if any trial wrote one and it is there.
std::optional<std::string> logs_folder(const std::vector<FrozenTrial>& trials) {
  for (const auto& t : trials) {
    if (const auto log = reports::trial_log_path(t)) {
      const auto folder = std::filesystem::path(*log).parent_path().string();
      std::error_code ec;
      return std::filesystem::is_directory(folder, ec) ? std::optional(folder) : std::nullopt;
    }
  }
  return std::nullopt;
}

// The study's own trials folder: its default folder or its logs' folder, whichever records the
// study's key (a copied study's logs are in its source's folder; a study whose trials wrote no
// log has only the default one); a study without a key (older hpt), its logs' folder.
std::optional<std::string> own_trials_folder(Storage& storage, const std::string& db,
                                             const StudyInfo& info,
                                             const std::vector<FrozenTrial>& trials) {
  const auto attrs = storage.study_system_attrs(info.id);
  const auto key = attrs.find(k_study_key_attr);
  if (key == attrs.end() || !key->second.is_string()) {
    return logs_folder(trials);
  }
  for (const auto& folder : {std::optional(study_trials_dir(db, info.name)), logs_folder(trials)}) {
    std::error_code ec;
    if (folder && std::filesystem::is_directory(*folder, ec) &&
        folder_study_key(*folder) == key->second.get<std::string>()) {
      return folder;
    }
  }
  return std::nullopt;
}

// hpt studies DB --format json: what Optuna's CLI prints, for the same scripts: name, direction
// (a list, one per objective), n_trials, datetime_start (the first trial's start, local time to
// the second, or null).
Json studies_json(Storage& storage, const std::vector<StudyInfo>& studies) {
  Json out = Json::array();
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
    out.push_back(
        {{"name", s.name},
         {"direction", directions},
         {"n_trials", trials.size()},
         {"datetime_start",
          start ? Json(format_datetime(*start, TimeZone::Local).substr(0, 19)) : Json()}});
  }
  return out;
}

// hpt studies DB: one line per study.
int print_studies(const std::string& db, const std::string& format) {
  auto storage = open_storage(db, true);
  const auto studies = storage->list_studies();
  if (format == "json") {
    std::cout << python_json_dumps(studies_json(*storage, studies)) << "\n";
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
    text +=
        terminal_text(fmt::format("  trial {} values={} params={}", t.number, values_cell(t.values, "{}"),
                                  python_json_dumps(t.external_params()))) +
        "\n";
    if (const auto model = reports::trial_model_text(t, model_folders)) {
      text += terminal_text("    model: " + *model) + "\n";
    }
  }
  std::cout << (format == "json" ? python_json_dumps(arr, 2) + "\n" : text);
}

// hpt best DB: the best trial (its params and user attributes), or the Pareto front.
int print_best(const std::string& db, const std::string& study, const std::string& format) {
  auto storage = open_storage(db, true);
  const StudyInfo info = resolve_study(*storage, study);
  const auto trials = storage->get_all_trials(info.id);
  const auto front = best_trials(trials, info.directions);
  if (front.empty()) {
    const auto complete = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Complete;
    });
    const auto infeasible = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Complete && !is_feasible(t);
    });
    report_error(complete == 0 ? "study '" + info.name + "' has no complete trial yet"
                 : infeasible == complete
                     ? fmt::format("study '{}' has {} COMPLETE trial{}, but none meets its "
                                   "constraints (every constraint value <= 0; see hpt trials)",
                                   info.name, complete, complete == 1 ? "" : "s")
                     : fmt::format("study '{}' has {} COMPLETE trial{}, but none with a value "
                                   "for each of its {} objective{} (see hpt trials)",
                                   info.name, complete, complete == 1 ? "" : "s",
                                   info.directions.size(), info.directions.size() == 1 ? "" : "s"));
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
    return 0;
  }
  if (format == "json") {
    std::cout << python_json_dumps(trial_json(best), 2) << "\n";
    return 0;
  }
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
  for (const auto& [k, v] : best.user_attrs) {  // Long lists (a ROC curve) in a few words.
    const std::string text = v.is_number() || v.is_string() ? param_text(v) : python_json_dumps(v);
    std::cout << terminal_text(
                     fmt::format("  [{}] {}", k,
                                 text.size() <= 80 || !v.is_structured()
                                     ? text
                                     : fmt::format("({} {} {}; --format json shows it)", v.size(),
                                                   v.is_array() ? "items" : "keys",
                                                   v.is_array() ? "in a list" : "in an object")))
              << "\n";
  }
  return 0;
}

// A command that writes once (delete-study, tell), run under the stop signals (Ctrl-C, kill).
// work checks, writes in one transaction and reports; right before the write it asks stop(),
// and returns false without writing when that is true. A signal before the write, or one that
// cut work short (a second one gives up a locked database's wait), changed nothing, which is
// said in one line ("hpt: stopped by a signal; <nothing_done>"); one after the write lets work
// report it. Either way the exit status is then 130.
int write_once(const std::string& nothing_done,
               const std::function<bool(const std::function<bool()>& stop)>& work) {
  const StopSignals signals;
  bool finished = false;
  try {
    finished = work([&] { return signals.caught(); });
  } catch (const std::exception&) {
    if (!signals.caught()) {
      throw;
    }
  }
  if (!finished) {
    std::cerr << terminal_text("hpt: stopped by a signal; " + nothing_done) << "\n";
  }
  return signals.caught() ? k_exit_interrupted : 0;
}

// hpt delete-study: the named study (never "the only one"), refused while trials are RUNNING
// unless forced; its trials folder is left on disk, and said so.
int delete_study_command(const std::string& db, const std::string& name, bool force) {
  require_database_file(db);
  const std::string nothing_done = fmt::format("study '{}' was not deleted", shortened(name, 200));
  return write_once(nothing_done, [&](const std::function<bool()>& stop) {
    auto storage = open_storage(db);  // Opened to write first: a read-only one leaves no -wal.
    const StudyInfo info = resolve_study(*storage, name);
    const auto trials = storage->get_all_trials(info.id);
    const auto running = std::count_if(trials.begin(), trials.end(), [](const FrozenTrial& t) {
      return t.state == TrialState::Running;
    });
    if (running > 0 && !force) {
      throw std::runtime_error(fmt::format(
          "study '{}' has {} RUNNING trial{}: a run may be going on (or was killed); stop it "
          "first, or give --force",
          info.name, running, running == 1 ? "" : "s"));
    }
    const auto folder = own_trials_folder(*storage, db, info, trials);
    if (stop()) {
      return false;
    }
    storage->delete_study(info.id);
    std::cout << terminal_text(fmt::format(
                     "deleted study '{}' and its {} trial{} from {}{}", info.name, trials.size(),
                     trials.size() == 1 ? "" : "s", redact_credentials(db),
                     folder ? fmt::format("; its trials folder is left as it is: {}", *folder)
                            : ""))
              << std::endl;
    return true;
  });
}

// hpt copy-study: the study (or the only one) copied into TO (copy_study_to: whole or absent).
int copy_study_command(const std::string& from_db, const std::string& to_db,
                       const std::string& study, std::optional<std::string> to_study) {
  if (const std::string problem = to_study ? study_name_problem(*to_study) : ""; !problem.empty()) {
    throw ConfigError("--to-study: " + problem);  // Before anything is read or made.
  }
  require_database_file(from_db);
  auto from = open_storage(from_db, true);
  const StudyInfo info = resolve_study(*from, study);
  const std::string name = to_study.value_or(info.name);
  const StudyCopy copy = copy_study_to(*from, info, to_db, name);
  std::cout << terminal_text(fmt::format("copied study '{}' and its {} trial{} from {} to {}{}",
                                         info.name, copy.trials, copy.trials == 1 ? "" : "s",
                                         redact_credentials(from_db), redact_credentials(to_db),
                                         name == info.name ? "" : " as '" + name + "'"))
            << "\n";
  if (copy.handed_back > 0) {
    std::cout << fmt::format(
        "{} trial{} RUNNING in the source {} WAITING in the copy, to run again when it resumes\n",
        copy.handed_back, copy.handed_back == 1 ? "" : "s", copy.handed_back == 1 ? "is" : "are");
  }
  if (const auto folder = logs_folder(*from->trials_snapshot(info.id))) {
    std::cout << terminal_text("the copied trials' logs stay in " + *folder) << "\n";
  }
  return 0;
}

// hpt ask: one line of JSON, Optuna's `optuna ask` output: {"number": N, "params": {...}}.
int ask_command(const CommandLine& cl) {
  OpenedStudy s = open_study_for(cl.config_file, 0, cl.storage_url, cl.study);
  ask_trial(s.config, *s.storage, s.options, std::cerr, [](const FrozenTrial& trial) {
    std::cout << python_json_dumps(
                     Json{{"number", trial.number}, {"params", trial.external_params()}})
              << std::endl;
    if (!std::cout) {  // Unseen, the trial's number would be lost: handed back instead.
      const int err = errno;
      std::cout.clear();  // Said here, once.
      std::clearerr(stdout);
      throw std::runtime_error(
          fmt::format("cannot write trial {} to the output: {}", trial.number, std::strerror(err)));
    }
  });
  return 0;
}

// hpt tell: the RUNNING trial finished as Optuna's study.tell finishes it (COMPLETE needs one
// value per direction, none NaN; PRUNED takes its last step's value; FAIL none). A trial an hpt
// run on this host is running is refused: its worker's result would be lost.
int tell_command(const CommandLine& cl) {
  require_database_file(cl.db);
  const std::string nothing_done = fmt::format("trial {} was not told", cl.trial_number);
  return write_once(nothing_done, [&](const std::function<bool()>& stop) {
    auto reader = open_storage(cl.db, true);  // Read first: a file that is no study stays as it is.
    const StudyInfo info = resolve_study(*reader, cl.study);
    const auto found = reader->find_trial(info.id, cl.trial_number);
    if (!found) {
      const int n = reader->count_trials(info.id);
      throw std::runtime_error(n == 0
                                   ? fmt::format("study '{}' has no trials yet", info.name)
                                   : fmt::format("study '{}' has no trial {} ({} trials: 0 to {})",
                                                 info.name, cl.trial_number, n, n - 1));
    }
    const FrozenTrial& trial = *found;
    const std::string state_name = trial_state_name(trial.state);
    if (is_finished(trial.state) && cl.skip_if_finished) {
      std::cout << fmt::format("trial {} is already {}: left as it is\n", trial.number, state_name);
      return true;
    }
    if (trial.state != TrialState::Running) {
      throw std::runtime_error(fmt::format(
          "trial {} is {}: only a RUNNING trial can be told{}", trial.number, state_name,
          is_finished(trial.state) ? " (--skip-if-finished leaves a finished one as it is)" : ""));
    }
    // A trial an hpt run owns is that run's to finish: refused while its owner lives here, or,
    // elsewhere (another host or container), while its heartbeat is fresh.
    const auto owner = trial.system_attrs.find(k_owner_attr);
    if (owner != trial.system_attrs.end() && owner->second.is_object()) {
      const Owner o = Owner::from_json(owner->second);
      const auto liveness = owner_liveness(o);
      const auto age = reader->heartbeat_age(trial.id);
      if (liveness == OwnerLiveness::Alive ||
          (liveness == OwnerLiveness::Unknown && age && *age < StudyConfig{}.heartbeat_grace)) {
        throw std::runtime_error(fmt::format(
            "trial {} is being run by hpt (process {} on {}{}): its worker reports its result",
            trial.number, o.pid, terminal_text(o.host),
            age ? fmt::format(", last heartbeat {:.0f} s ago", *age) : ""));
      }
    }
    const std::string state = cl.state.empty() ? "complete" : cl.state;
    std::vector<double> values = cl.values;
    if (state != "complete" && !values.empty()) {
      throw ConfigError("--values: a " + state +
                        " trial takes no values (as Optuna's tell); leave them out");
    }
    if (state == "complete") {
      if (values.size() != info.directions.size()) {
        throw ConfigError(
            fmt::format("--values: study '{}' has {} objective{}, but {} value{} given", info.name,
                        info.directions.size(), info.directions.size() == 1 ? "" : "s",
                        values.size(), values.size() == 1 ? " was" : "s were"));
      }
      if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
        throw ConfigError("--values: NaN is not a value (tell it with --state fail)");
      }
    } else if (state == "pruned") {
      if (const auto step = trial.last_step();
          step && !std::isnan(trial.intermediate_values.at(*step)) && !info.is_multi_objective()) {
        values = {trial.intermediate_values.at(*step)};
      }
    }
    // Constraints, as Optuna's constraints_func stores them: for COMPLETE and PRUNED trials.
    Json attrs = Json::object();
    if (!cl.constraints.empty()) {
      if (state == "fail") {
        throw ConfigError(
            "--constraints: a failed trial keeps no constraints (as Optuna's); leave them out");
      }
      if (std::any_of(cl.constraints.begin(), cl.constraints.end(),
                      [](double v) { return std::isnan(v); })) {
        throw ConfigError("--constraints: NaN is no constraint value (each is <= 0 when met)");
      }
      // Read only here: a tell without constraints reads the one trial it finishes.
      if (const std::string problem = constraints_count_problem(
              cl.constraints.size(),
              reader->get_all_trials(info.id, {TrialState::Complete, TrialState::Pruned}));
          !problem.empty()) {
        throw ConfigError("--constraints: " + problem);
      }
      attrs[k_constraints_attr] = cl.constraints;
    }
    const TrialState to = state == "complete" ? TrialState::Complete
                          : state == "pruned" ? TrialState::Pruned
                                              : TrialState::Fail;
    // Written only if the trial is still RUNNING with the owner it was read with: a run that
    // claimed it meanwhile (its owner had died) keeps it.
    auto storage = open_storage(cl.db);
    if (stop()) {
      return false;
    }
    const Json* read_owner = owner != trial.system_attrs.end() ? &owner->second : nullptr;
    if (!storage->set_trial_state_values(trial.id, to, values, read_owner, &attrs)) {
      throw std::runtime_error(fmt::format(
          "trial {} was finished or taken over by another process just now", trial.number));
    }
    std::cout << fmt::format(
        "trial {} is {}{}{}\n", trial.number, trial_state_name(to),
        values.empty() ? "" : " with values " + values_cell(values, "{}"),
        cl.constraints.empty()
            ? ""
            : fmt::format("{} constraints {} ({})", values.empty() ? " with" : " and",
                          values_cell(cl.constraints, "{}"),
                          constraints_met(cl.constraints) ? "feasible" : "infeasible"));
    return true;
  });
}

// The study command: --config FILE with --trials N, --timeout TIME or both (else usage, exit 2).
int run_study_flags(const CLI::App& app, const CommandLine& cl) {
  if (cl.config_file.empty()) {
    if (cl.trials > 0 || cl.timeout) {
      report_error(std::string(cl.trials > 0 ? "--trials" : "--timeout") + " needs --config FILE");
      return 2;
    }
    std::cerr << app.help();
    return 2;
  }
  if (cl.trials <= 0 && !cl.timeout) {
    report_error(
        "--trials N is required with --config (the study's total of finished trials), or "
        "--timeout TIME");
    return 2;
  }
  return run_study_command(cl.config_file, cl.trials > 0 ? cl.trials : k_unbounded_trials,
                           cl.more_trials, cl.timeout, cl.jobs, cl.storage_url, cl.study);
}

// Runs the command that was parsed (a registrar's ran in its callback already).
int run_parsed(const CLI::App& app, const CommandLine& cl) {
  if (cl.studies_cmd->parsed()) {
    return print_studies(cl.db, cl.format);
  }
  if (cl.trials_cmd->parsed()) {
    auto storage = open_storage(cl.db, true);
    std::cout << format_trials(*storage, resolve_study(*storage, cl.study), cl.format);
    return 0;
  }
  if (cl.best_cmd->parsed()) {
    return print_best(cl.db, cl.study, cl.format);
  }
  if (cl.delete_cmd->parsed()) {
    return delete_study_command(cl.db, cl.study, cl.force);
  }
  if (cl.ask_cmd->parsed()) {
    return ask_command(cl);
  }
  if (cl.tell_cmd->parsed()) {
    return tell_command(cl);
  }
  if (cl.copy_cmd->parsed()) {
    return copy_study_command(
        cl.db, cl.to_db, cl.study,
        cl.copy_cmd->count("--to-study") ? std::optional(cl.to_study) : std::nullopt);
  }
  for (const auto* sub : app.get_subcommands()) {
    if (sub->parsed()) {
      return 0;  // A registrar's command ran in its callback.
    }
  }
  return run_study_flags(app, cl);
}

// `hpt tell ... --values 0.5 -inf` (or --constraints): a value after the first that starts
// with '-' but is no plain number (-inf, -.5, -1e3) would be read as an option: it is passed
// as --values=-inf (values given again add to the list).
std::vector<std::string> spell_negative_values(std::vector<std::string> args) {
  if (args.size() < 2 || args[1] != "tell") {
    return args;
  }
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] != "--values" && args[i] != "--constraints") {
      continue;
    }
    const std::string option = args[i];
    for (size_t j = i + 1; j < args.size() && value_of_text(args[j]); ++j) {
      if (j > i + 1 && args[j][0] == '-') {
        args[j] = option + "=" + args[j];
      }
    }
  }
  return args;
}

}  // namespace

int run_hpt(int argc, char** argv, const std::vector<CommandRegistrar>& registrars) {
  ignore_output_signals();
  CLI::App app{
      "hpt: hyperparameter tuning for image-matching models (TPE + median pruning, "
      "Optuna-compatible studies)",
      "hpt"};
  app.set_version_flag("--version", std::string("hpt ") + HPT_VERSION);
  CommandLine cl;
  add_study_flags(app, cl);
  app.require_subcommand(0, 1);
  add_read_commands(app, cl);
  add_ask_tell_commands(app, cl);
  for (const auto& add : registrars) {
    add(app);
  }
  // hpt takes no positional argument before a verb: a first word that is no verb is one
  // misspelt (CLI11 said "The following arguments were not expected: x.db studeis").
  std::vector<std::string> verbs;
  for (const CLI::App* verb : app.get_subcommands({})) {
    verbs.push_back(verb->get_name());
  }
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(verbs.begin(), verbs.end(), argv[1]) == verbs.end()) {
    print_error(fmt::format("unknown verb '{}'{}; the verbs are {} (see hpt --help)",
                            terminal_text(argv[1]), did_you_mean(argv[1], verbs),
                            fmt::join(verbs, ", ")),
                hide_credentials);
    return 2;
  }
  std::vector<std::string> args =
      spell_negative_values(std::vector<std::string>(argv, argv + argc));
  std::vector<char*> spelt;
  for (std::string& a : args) {
    spelt.push_back(a.data());
  }
  spelt.push_back(nullptr);
  // Help or version printed, an error, or a verb that ran in its callback and lost its output
  // (a full disk): its code. Else the verb chosen runs.
  std::optional<int> parsed;
  const int code = with_error_policy(
      [&] {
        parsed = parse_app(app, static_cast<int>(args.size()), spelt.data(), hide_credentials);
        return parsed.value_or(0);
      },
      hide_credentials);
  if (parsed || code != 0) {
    return code;
  }
  return with_error_policy([&] { return run_parsed(app, cl); }, hide_credentials);
}

}  // namespace hpt
