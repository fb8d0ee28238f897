#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "hpt/cli/run_app.hpp"
#include "hpt/schema/config_error.hpp"

using namespace hpt;

namespace {

// What std::cout and std::cerr receive while it lives.
struct Captured {
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  ~Captured() {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
  }
};

// argv for a command line; keeps the strings alive.
struct Argv {
  explicit Argv(std::vector<std::string> args) : strings(std::move(args)) {
    for (auto& s : strings) {
      pointers.push_back(s.data());
    }
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

// An app with subcommand "go" running action, an option --n and version 1.2.3.
struct TestApp {
  explicit TestApp(std::function<void()> action = [] {}) {
    app.set_version_flag("--version", "1.2.3");
    auto* go = app.add_subcommand("go", "Run the action");
    go->add_option("--n", n, "A number")->check(CLI::Range(0, 9));
    go->callback(std::move(action));
  }
  CLI::App app{"test app", "hpt"};
  int n = 0;
};

// A filter that hides "hunter22".
std::string hide(const std::string& message) {
  std::string out = message;
  for (size_t at; (at = out.find("hunter22")) != std::string::npos;) {
    out.replace(at, 8, "***");
  }
  return out;
}

}  // namespace

// One line on stderr, prefixed; the filter sees the raw message, and control characters
// (its output's too) are escaped after it.
TEST_CASE("print_error", "[cli]") {
  Captured c;
  print_error("no such study");
  print_error("two\nlines \x1b[31mred", [](const std::string& m) { return hide(m) + "\x07"; });
  print_error("password hunter22", hide);
  CHECK(c.out.str().empty());
  CHECK(c.err.str() ==
        "hpt: error: no such study\n"
        "hpt: error: two\\nlines \\x1b[31mred\\x07\n"
        "hpt: error: password ***\n");
}

// A warning is one line on stderr, prefixed, control characters escaped.
TEST_CASE("print_warning", "[cli]") {
  Captured c;
  print_warning("cfg.yaml:3: search_space.x: high 10 is not reachable\n\x1b[31m");
  CHECK(c.out.str().empty());
  CHECK(c.err.str() ==
        "hpt: warning: cfg.yaml:3: search_space.x: high 10 is not reachable\\n\\x1b[31m\n");
}

// The body's exit code is returned as is; a ConfigError is exit code 2, any other exception 1,
// each reported as one filtered line.
TEST_CASE("with_error_policy", "[cli]") {
  Captured c;
  CHECK(with_error_policy([] { return 5; }) == 5);
  CHECK(c.err.str().empty());
  CHECK(with_error_policy([]() -> int { throw ConfigError("x.yaml:3: seed: expected an int"); }) ==
        2);
  CHECK(with_error_policy([]() -> int { throw std::runtime_error("disk hunter22 full"); }, hide) ==
        1);
  // A thread that cannot start (ulimit -u) says what failed.
  CHECK(with_error_policy([]() -> int {
          throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
        }) == 1);
  CHECK(with_error_policy([]() -> int {
          throw std::filesystem::filesystem_error(
              "cannot lock", std::make_error_code(std::errc::resource_unavailable_try_again));
        }) == 1);
  CHECK(c.err.str() ==
        "hpt: error: x.yaml:3: seed: expected an int\n"
        "hpt: error: disk *** full\n"
        "hpt: error: cannot start a thread (the limit of processes, ulimit -u, or memory): "
        "Resource temporarily unavailable\n"
        "hpt: error: filesystem error: cannot lock: Resource temporarily unavailable\n");
}

// A good command line runs the callbacks and goes on; help and version print on stdout and
// end with 0; a usage error is one filtered line with the --help hint and exit code 2.
TEST_CASE("parse_app", "[cli]") {
  bool ran = false;
  TestApp t([&] { ran = true; });
  Captured c;
  Argv go({"hpt", "go", "--n", "4"});
  CHECK_FALSE(parse_app(t.app, go.argc(), go.argv()));
  CHECK(ran);
  CHECK(t.n == 4);

  TestApp help_app;
  Argv help({"hpt", "--help"});
  CHECK(parse_app(help_app.app, help.argc(), help.argv()) == 0);
  CHECK_THAT(c.out.str(), Catch::Contains("test app") && Catch::Contains("go"));
  TestApp version_app;
  Argv version({"hpt", "--version"});
  CHECK(parse_app(version_app.app, version.argc(), version.argv()) == 0);
  CHECK_THAT(c.out.str(), Catch::Contains("1.2.3"));
  CHECK(c.err.str().empty());

  TestApp extra_app;
  Argv extra({"hpt", "go", "postgresql://u:hunter22@h/db"});
  CHECK(parse_app(extra_app.app, extra.argc(), extra.argv(), hide) == 2);
  TestApp range_app;
  Argv range({"hpt", "go", "--n", "12"});
  CHECK(parse_app(range_app.app, range.argc(), range.argv()) == 2);
  const std::string err = c.err.str();
  CHECK(err.find("hunter22") == std::string::npos);
  CHECK_THAT(err, Catch::StartsWith("hpt: error: ") &&
                      Catch::Contains("postgresql://u:***@h/db (see hpt go --help)\n") &&
                      Catch::EndsWith(" (see hpt go --help)\n"));  // The verb's own flags.
  CHECK(std::count(err.begin(), err.end(), '\n') == 2);
}

// The --help hint names the program as the app is named: hpt-train run by hand says so.
TEST_CASE("parse_app names the app in its hint", "[cli]") {
  TestApp t;
  t.app.name("hpt-train");
  Captured c;
  Argv bad({"hpt-train", "go", "--n", "12"});
  CHECK(parse_app(t.app, bad.argc(), bad.argv()) == 2);
  CHECK_THAT(c.err.str(), Catch::EndsWith(" (see hpt-train go --help)\n"));
}

// A flag given twice is named in words (CLI11 says "At Most 1 required but received 2").
TEST_CASE("parse_app names a repeated flag", "[cli]") {
  CLI::App app{"test", "hpt"};
  std::string study;
  app.add_option("--study", study, "Study");
  Captured c;
  Argv argv({"hpt", "--study", "a", "--study", "b"});
  CHECK(parse_app(app, argv.argc(), argv.argv()) == 2);
  CHECK(c.err.str() == "hpt: error: --study: given 2 times; give it once (see hpt --help)\n");
}

// An empty value never silently means "not given": every option and positional that takes a
// value refuses "" naming itself, in subcommands too; flags are untouched.
TEST_CASE("parse_app refuses empty values", "[cli]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"hpt", "go", "--out", ""},
                                               {"hpt", "go", "", "--out", "d"},
                                               {"hpt", "go", "--out="}}) {
    CLI::App app{"test", "hpt"};
    std::string out, db;
    bool verbose = false;
    auto* go = app.add_subcommand("go", "Go");
    go->add_option("--out", out, "Output");
    go->add_option("DB", db, "A database");
    go->add_flag("--verbose", verbose, "More");
    Captured c;
    Argv argv(args);
    CHECK(parse_app(app, argv.argc(), argv.argv()) == 2);
    // "--out=" is CLI11's own "1 required TEXT missing".
    CHECK_THAT(c.err.str(),
               Catch::StartsWith("hpt: error: ") &&
                   (Catch::Contains("must not be empty") || Catch::Contains("missing")));
  }
  CLI::App app{"test", "hpt"};
  std::string out;
  bool verbose = false;
  app.add_option("--out", out, "Output");
  app.add_flag("--verbose", verbose, "More");
  Argv fine({"hpt", "--out", "x", "--verbose"});
  CHECK_FALSE(parse_app(app, fine.argc(), fine.argv()));
  CHECK(out == "x");
  CHECK(verbose);
}

// A verb's database is DB or --storage DB (Optuna's spelling), exactly one of them, checked
// before the verb runs; --study-name is --study.
TEST_CASE("add_database_argument takes DB or --storage, once", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string db, error;
  };
  for (const Case& c : std::vector<Case>{
           {{"hpt", "go", "a.db"}, -1, "a.db", ""},
           {{"hpt", "go", "--storage", "sqlite:///b.db", "--study-name", "s"},
            -1,
            "sqlite:///b.db",
            ""},
           {{"hpt", "go", "--study", "s"},
            2,
            "",
            "DB (the study database, or --storage DB) is required"},
           {{"hpt", "go", "a.db", "--storage", "b.db"}, 2, "", "give it once"},
       }) {
    CAPTURE(c.args);
    CLI::App app{"test", "hpt"};
    std::string db, study;
    bool ran = false;
    auto* go = app.add_subcommand("go", "Go");
    add_database_argument(*go, db);
    add_study_option(*go, study, "A study");
    go->callback([&] { ran = true; });
    Captured out;
    Argv argv(c.args);
    const auto code = parse_app(app, argv.argc(), argv.argv());
    CHECK(code.value_or(-1) == c.code);
    CHECK(ran == (c.code == -1));
    if (c.code == -1) {
      CHECK(db == c.db);
      CHECK(study == (c.args.size() > 4 ? "s" : ""));
    } else {
      CHECK_THAT(out.err.str(), Catch::StartsWith("hpt: error: ") && Catch::Contains(c.error));
    }
  }
}

// A command asks for its own exit code with CLI::RuntimeError (a ParseError in CLI11): it
// gets that code, its message reported unless the code is 0, without the usage hint.
TEST_CASE("parse_app passes a command's exit code on", "[cli]") {
  Captured c;
  TestApp three([] { throw CLI::RuntimeError("interrupted", 3); });
  Argv go({"hpt", "go"});
  CHECK(parse_app(three.app, go.argc(), go.argv()) == 3);
  TestApp zero([] { throw CLI::RuntimeError(0); });
  CHECK(parse_app(zero.app, go.argc(), go.argv()) == 0);
  CHECK(c.err.str() == "hpt: error: interrupted\n");
}

// run_app: 0 when the command succeeds, 2 for usage and config errors, 1 for other failures.
TEST_CASE("run_app", "[cli]") {
  Captured c;
  Argv go({"hpt", "go"});
  TestApp ok;
  CHECK(run_app(ok.app, go.argc(), go.argv()) == 0);
  TestApp config([] { throw ConfigError("hpt_config.yaml:1: study: missing"); });
  CHECK(run_app(config.app, go.argc(), go.argv()) == 2);
  TestApp failing([] { throw std::runtime_error("worker died"); });
  CHECK(run_app(failing.app, go.argc(), go.argv()) == 1);
  TestApp usage;
  Argv bogus({"hpt", "--bogus"});
  CHECK(run_app(usage.app, bogus.argc(), bogus.argv()) == 2);
  const std::string err = c.err.str();
  CHECK_THAT(err, Catch::StartsWith("hpt: error: hpt_config.yaml:1: study: missing\n"
                                    "hpt: error: worker died\n"
                                    "hpt: error: ") &&
                      Catch::Contains("--bogus") && Catch::EndsWith(" (see hpt --help)\n"));
}

// Output that cannot be written (a full disk, a closed stdout) fails the command in one line,
// whatever the command returned.
TEST_CASE("with_error_policy: output that was lost is an error", "[run_app]") {
  struct Full : std::streambuf {
    int overflow(int) override { return traits_type::eof(); }
  } full;
  std::ostringstream err;
  std::streambuf* old_out = std::cout.rdbuf(&full);
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  const int ok = with_error_policy([] {
    std::cout << "a result\n";
    return 0;
  });
  const std::string first = err.str();
  err.str("");
  const int usage = with_error_policy([] {
    std::cout << "x";
    return 2;
  });
  const int quiet = with_error_policy([] { return 0; });
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  CHECK(ok == 1);
  CHECK(first.rfind("hpt: error: cannot write the output: ", 0) == 0);
  CHECK(std::count(first.begin(), first.end(), '\n') == 1);
  CHECK(usage == 2);  // The command's own failure code stands.
  CHECK(quiet == 0);  // Nothing printed, nothing lost.
  CHECK(std::cout.good());
}

// A pipe whose reader went away (`hpt trials DB | head -1`) ends the command quietly with 141
// (128 + SIGPIPE), as a tool SIGPIPE ended; it said "cannot write the output: Broken pipe".
TEST_CASE("with_error_policy: a closed pipe is quiet", "[run_app]") {
  std::cout.flush();
  std::fflush(stdout);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(fds[1], STDOUT_FILENO);
  ::close(fds[1]);
  auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  std::ostringstream err;
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  const int code = with_error_policy([] {
    std::cout << std::string(1 << 16, 'x') << "\n";
    return 0;
  });
  std::cerr.rdbuf(old_err);
  std::signal(SIGPIPE, old_pipe);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::cout.clear();
  std::clearerr(stdout);
  CHECK(code == 141);
  CHECK(err.str().empty());
}

// Integer flags are decimal and range-checked: "0010" is 10; junk, hex, fractions, values out
// of range and 64-bit overflow fail with the flag's name.
TEST_CASE("cli: add_int_option", "[cli]") {
  const auto parse = [](const char* value) {
    CLI::App app;
    int n = -1;
    hpt::add_int_option(app, "--n", n, 1, 1000, "n");
    std::vector<std::string> args{value, "--n"};  // CLI11 parses a reversed vector.
    app.parse(args);
    return n;
  };
  CHECK(parse("0010") == 10);
  CHECK(parse("1000") == 1000);
  for (const char* bad : {"0x10", "1.5", "abc", "0", "1001", "99999999999999999999", "", " 5"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse(bad), Catch::StartsWith("--n: expected a whole number in [1, 1000]"));
  }
}

// After ignore_output_signals, SIGPIPE and SIGXFSZ are ignored: a write to a pipe whose
// reader is gone fails with EPIPE instead of ending the process.
TEST_CASE("ignore_output_signals", "[cli]") {
  struct sigaction saved[2]{};
  ::sigaction(SIGPIPE, nullptr, &saved[0]);
  ::sigaction(SIGXFSZ, nullptr, &saved[1]);
  hpt::ignore_output_signals();
  struct sigaction now {};
  ::sigaction(SIGPIPE, nullptr, &now);
  CHECK(now.sa_handler == SIG_IGN);
  ::sigaction(SIGXFSZ, nullptr, &now);
  CHECK(now.sa_handler == SIG_IGN);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  errno = 0;
  CHECK(::write(fds[1], "x", 1) == -1);
  CHECK(errno == EPIPE);
  ::close(fds[1]);
  ::sigaction(SIGPIPE, &saved[0], nullptr);
  ::sigaction(SIGXFSZ, &saved[1], nullptr);
}
