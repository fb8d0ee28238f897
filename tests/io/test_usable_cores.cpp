#include <sched.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hpt/io/usable_cores.hpp"

// usable_cores follows the affinity mask: all of the machine's cores normally, one when the
// process is pinned to one core (as `taskset -c 0` does), and all again when the pin goes.
TEST_CASE("usable_cores follows the affinity mask", "[usable_cores]") {
  cpu_set_t before;
  REQUIRE(::sched_getaffinity(0, sizeof(before), &before) == 0);
  CHECK(hpt::usable_cores() == CPU_COUNT(&before));
  CHECK(hpt::usable_cores() <= static_cast<int>(std::thread::hardware_concurrency()));
  int first = 0;
  while (!CPU_ISSET(first, &before)) {
    ++first;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  REQUIRE(::sched_setaffinity(0, sizeof(one), &one) == 0);
  const int pinned = hpt::usable_cores();
  REQUIRE(::sched_setaffinity(0, sizeof(before), &before) == 0);
  CHECK(pinned == 1);
  CHECK(hpt::usable_cores() == CPU_COUNT(&before));
}

// OMP_NUM_THREADS is taken only as a plain whole number from 1 to 1024; anything else is a
// problem naming the value (cut at 40 characters, control characters escaped).
TEST_CASE("omp_threads_env", "[usable_cores]") {
  const char* user = std::getenv("OMP_NUM_THREADS");
  const std::string saved = user != nullptr ? user : "";
  ::unsetenv("OMP_NUM_THREADS");
  CHECK_FALSE(hpt::omp_threads_env().threads);
  CHECK(hpt::omp_threads_env().problem.empty());
  for (const auto& [text, threads] :
       std::vector<std::pair<const char*, int>>{{"1", 1}, {"0004", 4}, {"1024", 1024}}) {
    ::setenv("OMP_NUM_THREADS", text, 1);
    CHECK(hpt::omp_threads_env().threads == threads);
    CHECK(hpt::omp_threads_env().problem.empty());
  }
  for (const char* bad :
       {"", "0", "1025", "100000", "99999999999", "-1", "4,2", " 4", "4 ", "0x10", "lots"}) {
    ::setenv("OMP_NUM_THREADS", bad, 1);
    CHECK_FALSE(hpt::omp_threads_env().threads);
    CHECK(hpt::omp_threads_env().problem ==
          std::string("OMP_NUM_THREADS=") + bad + " is not a thread count from 1 to 1024");
  }
  ::setenv("OMP_NUM_THREADS", ("\x1b[2J" + std::string(100, '9')).c_str(), 1);
  CHECK(hpt::omp_threads_env().problem == "OMP_NUM_THREADS=\\x1b[2J" + std::string(36, '9') +
                                              " is not a thread count from 1 to 1024");
  if (user != nullptr) {
    ::setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_NUM_THREADS");
  }
}
