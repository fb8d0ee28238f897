#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "hpt/engine/proc_stat.hpp"

// This process: running, its parent in field 4; no such process: no fields, not alive.
TEST_CASE("proc_stat_fields", "[proc_stat]") {
  const auto fields = hpt::proc_stat_fields(::getpid());
  REQUIRE(fields.size() > 19);
  CHECK(fields[0] == "R");
  CHECK(std::stol(fields[1]) == ::getppid());
  CHECK(hpt::process_alive(::getpid()));
  CHECK(hpt::proc_stat_fields(-1).empty());
  CHECK_FALSE(hpt::process_alive(-1));
}

// A child that exited is a zombie until it is reaped: not alive.
TEST_CASE("process_alive is false for a zombie", "[proc_stat]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::_exit(0);
  }
  for (int i = 0; i < 500 && hpt::process_alive(child); ++i) {
    ::usleep(10000);
  }
  CHECK_FALSE(hpt::process_alive(child));
  CHECK(hpt::proc_stat_fields(child).at(0) == "Z");
  ::waitpid(child, nullptr, 0);
  CHECK(hpt::proc_stat_fields(child).empty());
}
