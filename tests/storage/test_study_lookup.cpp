#include <catch2/catch.hpp>

#include "hpt/storage/study_lookup.hpp"
#include "support/temp_dir.hpp"

// A named or the only study is found; unknown or ambiguous names list the studies.
TEST_CASE("resolve_study", "[storage][lookup]") {
  hpt::test::TempDir dir;
  auto s = hpt::open_storage((dir.path() / "two.db").string());
  CHECK_THROWS_WITH(hpt::resolve_study(*s, ""), "the database has no study");
  s->create_study("alpha", hpt::Direction::Minimize);
  CHECK(hpt::resolve_study(*s, "").name == "alpha");
  s->create_study("beta", hpt::Direction::Maximize);
  CHECK(hpt::resolve_study(*s, "beta").direction() == hpt::Direction::Maximize);
  CHECK_THROWS_WITH(hpt::resolve_study(*s, "gamma"),
                    "no study named 'gamma'; available studies: alpha, beta");
  CHECK_THROWS_WITH(hpt::resolve_study(*s, ""),
                    Catch::Contains("choose one with --study: alpha, beta"));
  // A name with a NUL byte or an escape (another tool wrote it) is shown escaped, and the
  // names after it are still listed (the message ended at the NUL).
  s->create_study(std::string("a\0b", 3), hpt::Direction::Minimize);
  s->create_study("\x1b[2Jz", hpt::Direction::Minimize);
  CHECK_THROWS_WITH(hpt::resolve_study(*s, ""),
                    Catch::EndsWith("choose one with --study: alpha, beta, a\\x00b, \\x1b[2Jz"));
  // A 500-character name is cut; past 20 names the rest are counted (a screenful before).
  s->create_study(std::string(500, 'n'), hpt::Direction::Minimize);
  for (int i = 0; i < 20; ++i) {
    s->create_study("s" + std::to_string(i), hpt::Direction::Minimize);
  }
  try {
    hpt::resolve_study(*s, "nope");
    FAIL("resolved");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.size() < 600);
    CHECK_THAT(what, Catch::Contains(std::string(80, 'n') + "...") &&
                         Catch::EndsWith(" and 5 more (hpt studies lists them)"));
  }
}
