#include <catch2/catch.hpp>
#include <string>

#include "hpt/io/unexpanded_path.hpp"

using hpt::unexpanded_path_problem;

// A config's "~/runs/study.db" made a folder named "~" in the working folder (helper audit).
TEST_CASE("unexpanded_path_problem names the shell's text", "[unexpanded_path]") {
  CHECK_THAT(unexpanded_path_problem("~/runs/study.db"), Catch::StartsWith("a leading ~"));
  CHECK_THAT(unexpanded_path_problem("~bob/x.db"), Catch::StartsWith("a leading ~"));
  CHECK_THAT(unexpanded_path_problem("$HOME/x.db"), Catch::StartsWith("'$HOME' is not expanded"));
  CHECK_THAT(unexpanded_path_problem("/data/${RUN}/x.db"),
             Catch::StartsWith("'${RUN}' is not expanded"));
  for (const std::string fine : {"study.db", "/tmp/a~b/x.db", "runs/x$.db", "cost$1.db", "", "$"}) {
    CHECK(unexpanded_path_problem(fine).empty());
  }
}
