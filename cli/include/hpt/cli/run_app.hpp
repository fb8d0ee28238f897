#pragma once
// hpt's error policy for command lines: every error is one line "hpt: error: ..." on stderr
// (control characters escaped), exit code 2 for a bad config or usage, 1 for other failures.

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace hpt {

// Rewrites an error message before it is shown (e.g. hiding credentials); identity if empty.
using MessageFilter = std::function<std::string(const std::string&)>;

// Prints "hpt: error: message" on one line, filtered, control characters shown as escapes.
void print_error(const std::string& message, const MessageFilter& filter = {});

// Prints "hpt: warning: message" on one line, control characters shown as escapes: something
// accepted that was probably not meant, the run goes on.
void print_warning(const std::string& message);

// Ignores SIGPIPE and SIGXFSZ in this process, so that a reader gone away, a full disk or a
// file-size limit (ulimit -f) is a write error hpt reports, not a silent death. hpt and
// hpt-train call it first; their workers get the signals' defaults back (worker_process.cpp).
void ignore_output_signals();

// Runs body; an exception becomes one line on stderr and exit code 2 (ConfigError) or 1. Output
// that could not be written (stdout on a full disk or closed) is one line and exit code 1.
int with_error_policy(const std::function<int()>& body, const MessageFilter& filter = {});

// Makes every option and positional argument of app and of its subcommands that takes a
// value refuse an empty one, naming it ("--study: must not be empty"): an empty value must
// not silently mean "not given" (the config's value, the only study, the working folder).
// parse_app applies it.
void refuse_empty_values(CLI::App& app);

// The value of integer flag name: text in decimal only ("0010" is 10, never octal 8), within
// [low, high]; anything else throws CLI::ValidationError, one line naming the flag and text.
int parse_int_flag(const std::string& name, const std::string& text, int low, int high);

// Adds the integer option name to app, read by parse_int_flag.
CLI::Option* add_int_option(CLI::App& app, const std::string& name, int& target, int low, int high,
                            const std::string& help);

// Adds a verb's study database: the positional DB or, as Optuna's CLI spells it, --storage DB;
// exactly one of the two (else a usage error). help describes DB.
void add_database_argument(CLI::App& cmd, std::string& db,
                           const std::string& help = "Study database");

// Adds a verb's --study NAME, also spelled --study-name (Optuna's CLI).
CLI::Option* add_study_option(CLI::App& cmd, std::string& study, const std::string& help);

// Parses app (subcommands run in their callbacks), refusing empty values. Returns the exit code if
// the process is done (help or version printed: 0; a usage error: 2; a callback's
// CLI::RuntimeError: its code), std::nullopt to go on.
std::optional<int> parse_app(CLI::App& app, int argc, char** argv,
                             const MessageFilter& filter = {});

// Parses argv into app, whose subcommands do their work in callbacks, under the policy above.
// Returns the process exit code.
int run_app(CLI::App& app, int argc, char** argv);

}  // namespace hpt
