#include "hpt/engine/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_ask_tell.hpp"
#include "cli_delete_copy.hpp"
#include "cli_listing.hpp"
#include "cli_study_run.hpp"
#include "cli_text.hpp"
#include "hpt/cli/run_app.hpp"
#include "hpt/engine/orchestrator.hpp"
#include "hpt/io/did_you_mean.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/schema/number_text.hpp"
#include "hpt/storage/storage.hpp"
#include "hpt/storage/study_lookup.hpp"

namespace hpt {

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

// --trials N (the study's total of finished trials) or +K (K more, finished by this run).
void add_trials_option(CLI::App& app, CommandLine& cl) {
  app.add_option_function<std::string>(
         "--trials",
         [&cl](const std::string& text) {
           // "+K": this run finishes K trials, whatever other processes add.
           cl.more_trials = !text.empty() && text[0] == '+';
           const std::string count = cl.more_trials ? text.substr(1) : text;
           const auto refused = [&text] {
             return CLI::ValidationError(
                 "--trials",
                 fmt::format("expected N (the study's total of finished trials) or "
                             "+K (K more, finished by this run), each in [1, {}], but got '{}'",
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
         "Total finished (COMPLETE + PRUNED) trials the study should have; +K: this run "
         "finishes K more (per process, as Optuna's optimize(n_trials=K))")
      ->type_name("N|+K");
}

// --timeout TIME: seconds, or with a unit (90m, 2h, 1.5d).
void add_timeout_option(CLI::App& app, CommandLine& cl) {
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
}

// The study flags belong to a study run: before a verb (hpt --trials 7 studies DB) they would be
// ignored. Checked once the line is read, before a verb's callback runs.
void refuse_study_flags_before_verb(CLI::App& app) {
  app.parse_complete_callback([&app] {
    const auto verbs = app.get_subcommands();
    for (const char* flag :
         {"--config", "--trials", "--timeout", "--jobs", "--storage", "--study"}) {
      if (!verbs.empty() && app.count(flag) > 0) {
        throw CLI::ValidationError(
            flag, fmt::format("is a flag of a study run (hpt --config CFG ...), but it comes "
                              "before the verb `{}`: give the verb's own flags after it",
                              verbs.front()->get_name()));
      }
    }
  });
}

// The study command's flags: --config, --trials, --timeout, --jobs, --storage, --study.
void add_study_flags(CLI::App& app, CommandLine& cl) {
  app.add_option("--config", cl.config_file, "Study config (hpt_config.yaml)");
  add_trials_option(app, cl);
  add_timeout_option(app, cl);
  add_int_option(app, "--jobs", cl.jobs, 1, 1024, "Trials run at once (overrides study.jobs)");
  app.add_option("--storage", cl.storage_url, "Study database (overrides study.storage)");
  add_study_option(app, cl.study, "Study name (overrides study.name)");
  refuse_study_flags_before_verb(app);
}

// The verbs over a study database: studies, trials, best (read-only), delete-study, copy-study.
void add_read_commands(CLI::App& app, CommandLine& cl) {
  cl.studies_cmd = app.add_subcommand("studies", "List the studies in a database");
  add_database_argument(*cl.studies_cmd, cl.db);
  cl.studies_cmd
      ->add_option("-f,--format", cl.format,
                   "table, or json (as Optuna's `optuna studies -f json`: name, direction, "
                   "n_trials, datetime_start)")
      ->check(CLI::IsMember({"table", "json"}));
  cl.trials_cmd = app.add_subcommand("trials", "List a study's trials");
  add_database_argument(*cl.trials_cmd, cl.db);
  add_study_option(*cl.trials_cmd, cl.study, "Study name (default: the only study)");
  cl.trials_cmd->add_option("-f,--format", cl.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  cl.best_cmd = app.add_subcommand("best", "Show a study's best trial");
  add_database_argument(*cl.best_cmd, cl.db);
  add_study_option(*cl.best_cmd, cl.study, "Study name (default: the only study)");
  cl.best_cmd
      ->add_option("-f,--format", cl.format,
                   "table, json, or experiment (a built-in-trainer trial's experiment config as "
                   "YAML, for hpt train --config)")
      ->check(CLI::IsMember({"table", "json", "experiment"}));
  cl.delete_cmd = app.add_subcommand(
      "delete-study", "Delete a study and all its trials from a database (Optuna's delete-study)");
  add_database_argument(*cl.delete_cmd, cl.db);
  add_study_option(*cl.delete_cmd, cl.study, "The study to delete (always named)")->required();
  cl.delete_cmd->add_flag("--force", cl.force, "Delete it even while trials are RUNNING");
  cl.copy_cmd = app.add_subcommand(
      "copy-study",
      "Copy a study into another database, or into the same one under another name (Optuna's "
      "copy_study)");
  cl.copy_cmd->add_option("FROM", cl.db, "The study's database")->required();
  cl.copy_cmd->add_option("TO", cl.to_db, "The database to copy it into (made if missing)")
      ->required();
  add_study_option(*cl.copy_cmd, cl.study, "The study to copy (default: the only study)");
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
  add_study_option(*cl.ask_cmd, cl.study, "Study name (overrides study.name)");
  cl.tell_cmd = app.add_subcommand(
      "tell", "Finish a RUNNING trial with its values, or as pruned or failed (Optuna's tell)");
  add_database_argument(*cl.tell_cmd, cl.db);
  add_study_option(*cl.tell_cmd, cl.study, "Study name (default: the only study)");
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
    return ask_command(cl.config_file, cl.storage_url, cl.study);
  }
  if (cl.tell_cmd->parsed()) {
    return tell_command({cl.db, cl.study, cl.trial_number, cl.values, cl.constraints, cl.state,
                         cl.skip_if_finished});
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
    print_error(
        fmt::format("unknown verb '{}'{}; the verbs are {} (see hpt --help)",
                    terminal_text(argv[1]), did_you_mean(argv[1], verbs), fmt::join(verbs, ", ")),
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
