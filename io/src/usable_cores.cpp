#include "hpt/io/usable_cores.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "hpt/io/terminal_text.hpp"

namespace hpt {

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

OmpThreadsEnv omp_threads_env() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (text == nullptr) {
    return {};
  }
  const std::string value = text;
  int threads = 0;
  bool digits = !value.empty() && value.size() <= 5;
  for (char c : value) {
    digits = digits && c >= '0' && c <= '9';
    threads = digits ? threads * 10 + (c - '0') : threads;
  }
  if (digits && threads >= 1 && threads <= k_max_cpu_threads) {
    return {threads, ""};
  }
  return {std::nullopt, fmt::format("OMP_NUM_THREADS={} is not a thread count from 1 to {}",
                                    terminal_text(value.substr(0, 40)), k_max_cpu_threads)};
}

}  // namespace hpt
