#include "hpt/cli/run_app.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <system_error>
#include <typeinfo>

#include "hpt/io/terminal_text.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/schema/number_text.hpp"

namespace hpt {

namespace {

// A CLI11 error asking for its own exit code: its message is printed unless the code is 0.
int exit_code_of(const CLI::Error& e, const MessageFilter& filter) {
  if (e.get_exit_code() != 0 && std::string(e.what()).size() > 0) {
    print_error(e.what(), filter);
  }
  return e.get_exit_code();
}

// CLI11's message for a flag given more than once ("--study: At Most 1 required but received
// 2") in words; any other message as it is.
std::string parse_error_text(const std::string& message) {
  const std::string mark = ": At Most 1 required but received ";
  const size_t at = message.find(mark);
  if (at == std::string::npos) {
    return message;
  }
  return message.substr(0, at) + ": given " + message.substr(at + mark.size()) +
         " times; give it once";
}

// True when stdout is a pipe nobody reads any more (`hpt trials DB | head -1`).
bool stdout_reader_gone() {
  pollfd p{STDOUT_FILENO, POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

// code, or 1 after one line when what the command printed could not be written (a full disk,
// a closed stdout): a command must not report success for output that was lost. A reader that
// went away (head) is no error to report: 141 (128 + SIGPIPE, what the shell shows for a tool
// SIGPIPE ended), quietly.
int checked_output(int code, const MessageFilter& filter) {
  errno = 0;
  std::cout.flush();
  const bool failed = std::cout.fail() || std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) {
    return code;
  }
  if (stdout_reader_gone()) {
    std::cout.clear();
    std::clearerr(stdout);
    return code == 0 ? 128 + SIGPIPE : code;
  }
  int err = errno;
  std::cout.clear();
  std::clearerr(stdout);
  // The stream failed earlier (a study prints as it goes) and errno is long gone: one byte to
  // the broken output asks the system why (ENOSPC on /dev/full, EBADF when closed).
  if (err == 0 && ::write(STDOUT_FILENO, "\n", 1) < 0) {
    err = errno;
  }
  print_error(
      std::string("cannot write the output: ") + (err != 0 ? std::strerror(err) : "write error"),
      filter);
  return code == 0 ? 1 : code;
}

// "APP VERB --help" for the verb the command line chose (its own flags), else "APP --help".
std::string help_command(CLI::App& app) {
  std::string command = app.get_name();
  for (CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().front();
    command += " " + at->get_name();
  }
  return command + " --help";
}

}  // namespace

void print_error(const std::string& message, const MessageFilter& filter) {
  std::cerr << "hpt: error: " << terminal_text(filter ? filter(message) : message) << "\n";
}

void print_warning(const std::string& message) {
  std::cerr << "hpt: warning: " << terminal_text(message) << "\n";
}

void ignore_output_signals() {
  ::signal(SIGXFSZ, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
}

int with_error_policy(const std::function<int()>& body, const MessageFilter& filter) {
  int code = 1;
  try {
    code = body();
  } catch (const ConfigError& e) {
    print_error(e.what(), filter);
    code = 2;
  } catch (const std::system_error& e) {
    // std::thread's failure says only "Resource temporarily unavailable" (a subclass, such as
    // filesystem_error, says what failed).
    print_error(typeid(e) == typeid(std::system_error) &&
                        e.code() == std::errc::resource_unavailable_try_again
                    ? std::string("cannot start a thread (the limit of processes, ulimit -u, or "
                                  "memory): ") +
                          e.what()
                    : e.what(),
                filter);
  } catch (const std::exception& e) {
    print_error(e.what(), filter);
  }
  return checked_output(code, filter);
}

void refuse_empty_values(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->get_type_size() > 0) {  // Not a flag.
      option->check(CLI::Validator(
          [](const std::string& value) {
            return value.empty() ? std::string("must not be empty") : std::string();
          },
          "", "NON_EMPTY"));
    }
  }
  for (CLI::App* sub : app.get_subcommands({})) {
    refuse_empty_values(*sub);
  }
}

int parse_int_flag(const std::string& name, const std::string& text, int low, int high) {
  int64_t v = 0;
  if (parse_decimal_int(text, v) != IntText::ok || v < low || v > high) {
    throw CLI::ValidationError(
        name, fmt::format("expected a whole number in [{}, {}], but got '{}'", low, high,
                          terminal_text(text)));
  }
  return static_cast<int>(v);
}

CLI::Option* add_int_option(CLI::App& app, const std::string& name, int& target, int low, int high,
                            const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name, low, high](const std::string& text) {
        target = parse_int_flag(name, text, low, high);
      },
      help);
  return option->type_name("INT");
}

void add_database_argument(CLI::App& cmd, std::string& db, const std::string& help) {
  cmd.add_option("DB", db, help + " (or --storage DB)");
  cmd.add_option("--storage", db, "The study database, as DB (Optuna's spelling)");
  cmd.parse_complete_callback([&cmd] {  // Before the verb's own callback runs.
    const size_t given = cmd.count("DB") + cmd.count("--storage");
    if (given == 0) {
      throw CLI::RequiredError("DB (the study database, or --storage DB)");
    }
    if (given > 1) {
      throw CLI::ValidationError("DB",
                                 "given more than once (as DB and as --storage); give it once");
    }
  });
}

CLI::Option* add_study_option(CLI::App& cmd, std::string& study, const std::string& help) {
  return cmd.add_option("--study,--study-name", study, help);
}

std::optional<int> parse_app(CLI::App& app, int argc, char** argv, const MessageFilter& filter) {
  refuse_empty_values(app);
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    // A command asking for a specific exit code (a ParseError to CLI11: caught before those).
    return exit_code_of(e, filter);
  } catch (const CLI::ParseError& e) {
    print_error(parse_error_text(e.what()) + " (see " + help_command(app) + ")", filter);
    return 2;
  } catch (const CLI::Error& e) {  // Any other CLI11 error, with its own exit code.
    return exit_code_of(e, filter);
  }
}

int run_app(CLI::App& app, int argc, char** argv) {
  return with_error_policy([&] { return parse_app(app, argc, argv).value_or(0); });
}

}  // namespace hpt
