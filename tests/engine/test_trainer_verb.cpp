#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "../../engine/src/trainer_verb.hpp"  // Internal to the engine.
#include "support/temp_dir.hpp"

// Both outputs whole (200 KB each, more than a pipe holds: read at once, no hang), the verb as
// argument, HPT_FIXED when given, the wait status as waitpid gives it.
TEST_CASE("run_trainer_verb", "[trainer_verb]") {
  hpt::test::TempDir dir("verb");
  const std::string exe = dir.script(
      "t",
      "head -c 200000 /dev/zero | tr '\\0' o; head -c 200000 /dev/zero | tr '\\0' e >&2; "
      "echo \"[$1][$HPT_FIXED]\"; exit 4");
  const hpt::TrainerVerbRun run = hpt::run_trainer_verb(exe, "ask", R"({"a":1})");
  REQUIRE(run.out.size() == 200000 + std::string("[ask][{\"a\":1}]\n").size());
  CHECK(run.out.substr(200000) == "[ask][{\"a\":1}]\n");
  CHECK(run.err == std::string(200000, 'e'));
  CHECK(WIFEXITED(run.wait_status));
  CHECK(WEXITSTATUS(run.wait_status) == 4);
  const hpt::TrainerVerbRun killed = hpt::run_trainer_verb(dir.script("k", "kill -9 $$"), "x");
  CHECK(WIFSIGNALED(killed.wait_status));
  CHECK(WTERMSIG(killed.wait_status) == 9);
  CHECK(hpt::run_trainer_verb(dir.script("e", "echo \"[$HPT_FIXED]\""), "x").out == "[]\n");
  CHECK_THROWS(hpt::run_trainer_verb(dir.file("missing"), "x"));
}
