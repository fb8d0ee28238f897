#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli_fixtures.hpp"
#include "hpt/engine/cli.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
using namespace hpt::test;

// The report may not overwrite the study database, its -wal/-shm files or a link to it.
TEST_CASE("cli: check_output_path refuses the database", "[cli]") {
  hpt::test::TempDir tmp("cli");
  const auto dir = tmp.path();
  std::filesystem::create_directories(dir / "sub");
  const std::string db = (dir / "s.db").string();
  StudyInfo info;
  auto s = sample_study(db, info);
  std::filesystem::create_symlink(db, dir / "link.html");
  for (const std::string& out : {db, db + "-wal", db + "-shm", (dir / "sub/../s.db").string(),
                                 (dir / "link.html").string()}) {
    INFO(out);
    CHECK_THROWS_WITH(check_output_path(out, db), Catch::Contains("is the study database"));
    CHECK_THROWS_AS(check_output_path(out, "sqlite:///" + db), std::invalid_argument);
  }
  // A -journal not made yet, spelled relative against an absolute database (and the other way
  // round), and the files beside the real file of a database named through a link.
  const std::string rel_db = std::filesystem::relative(db).string();
  REQUIRE(!std::filesystem::exists(db + "-journal"));
  std::filesystem::create_symlink(db, dir / "alias.db");
  for (const auto& [out, storage] : std::vector<std::pair<std::string, std::string>>{
           {"./" + rel_db + "-journal", db},
           {db + "-journal", rel_db},
           {db + "-journal", (dir / "alias.db").string()}}) {
    INFO(out << " against " << storage);
    CHECK_THROWS_WITH(check_output_path(out, storage),
                      Catch::Contains("is the study database's SQLite -journal file"));
  }
  CHECK_NOTHROW(check_output_path((dir / "report.html").string(), db));
  CHECK_NOTHROW(check_output_path((dir / "report.html").string(), "postgresql://u@h/db"));
}

// An existing file is overwritten only when it is empty or an HTML page: `-o hpt_config.yaml`
// (or any config, script or database) is refused, whatever the storage.
TEST_CASE("cli: check_output_path refuses a file that is not HTML", "[cli]") {
  hpt::test::TempDir tmp("cli");
  const auto write = [&](const char* name, const std::string& text) {
    std::ofstream(tmp.file(name), std::ios::binary) << text;
    return tmp.file(name);
  };
  for (const std::string& html :
       {write("a.html", "<!DOCTYPE html><html></html>"), write("b.html", "\xEF\xBB\xBF\n  <HTML>"),
        write("c.html", "<!-- saved -->\n<html>"), write("empty.html", "")}) {
    INFO(html);
    CHECK_NOTHROW(check_output_path(html, tmp.file("s.db")));
  }
  for (const std::string& other :
       {write("hpt_config.yaml", "study:\n  name: s\n"), write("run.py", "print(1)\n"),
        write("x.db", std::string("SQLite format 3\0", 16))}) {
    INFO(other);
    CHECK_THROWS_WITH(check_output_path(other, "postgresql://u@h/db"),
                      Catch::Contains("exists and is not an HTML file; refusing to overwrite it"));
  }
}
