#pragma once
// The benchmarks' one rule for a list in an environment variable (BENCH_ONLY=tpe,nsga2).

#include <cstdlib>
#include <string>

namespace hpt::bench {

// True if variable is unset or empty, or its comma-separated list names name.
inline bool env_list_selects(const char* variable, const std::string& name) {
  const char* only = std::getenv(variable);
  return !only || !*only ||
         ("," + std::string(only) + ",").find("," + name + ",") != std::string::npos;
}

}  // namespace hpt::bench
