#include <sched.h>

#include <catch2/catch.hpp>
#include <thread>

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
