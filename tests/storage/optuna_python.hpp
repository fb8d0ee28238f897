#pragma once
// Runs Python snippets with Debian's optuna (/usr/bin/python3) for the interop tests.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

namespace hpt::test {

// True if run_python's output says that optuna (or python3 itself) is missing.
inline bool optuna_missing(int rc, const std::string& out) {
  return rc == 127 || out.find("No module named 'optuna'") != std::string::npos;
}

// Writes script to script_path, runs it, returns {exit status, stdout + stderr}.
inline std::pair<int, std::string> run_python(const std::string& script_path,
                                              const std::string& script) {
  std::ofstream(script_path) << "import warnings\nwarnings.simplefilter('ignore')\n"
                             << "import optuna\n"
                             << "optuna.logging.set_verbosity(optuna.logging.ERROR)\n"
                             << script;
  std::string cmd = "/usr/bin/python3 '" + script_path + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    return {-1, "popen failed"};
  }
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// For a run_python result: false (after a WARN) when optuna is missing, so that the
// caller skips; else checks that the script exited 0 and printed "OK", and returns true.
inline bool python_printed_ok(int rc, const std::string& out) {
  if (optuna_missing(rc, out)) {
    WARN("skipped: /usr/bin/python3 cannot import optuna");
    return false;
  }
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(out.find("OK") != std::string::npos);
  return true;
}

}  // namespace hpt::test
