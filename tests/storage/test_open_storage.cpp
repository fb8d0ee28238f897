#include <catch2/catch.hpp>
#include <filesystem>

#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

// Every storage error from open_storage is redacted at the source: unsupported schemes,
// a URL naming no file, a missing file.
TEST_CASE("open_storage errors never show a password", "[storage][credentials]") {
  const char* urls[] = {"postgresql+psycopg2://u:hunter22@h/db", "mysql://u:hunter22@h/db",
                        "sqlite:///?password=hunter22",
                        "sqlite:///nonexistent/dir/x.db?password=hunter22"};
  for (const char* url : urls) {
    INFO(url);
    try {
      hpt::open_storage(url, true);
      FAIL("opened");
    } catch (const hpt::StorageError& e) {
      CHECK(std::string(e.what()).find("hunter22") == std::string::npos);
    }
  }
}

// A storage path is a file path for every verb: one SQLite would read as a URI filename
// ("file:...", also inside sqlite:///) is refused, by open_storage and sqlite_file_of alike,
// before any file is made; "./file:..." names that file. A server scheme hpt cannot open is
// refused by both too. ":memory:" stays an in-memory database for library use.
TEST_CASE("open_storage takes file paths, never SQLite URI filenames", "[storage][open]") {
  hpt::test::TempDir dir;
  const auto cwd = fs::current_path();
  fs::current_path(dir.path());
  std::vector<std::string> errors;
  for (const char* url : {"file:y.db", "file:r.db?mode=memory", "sqlite:///file:y.db"}) {
    for (bool read_only : {false, true}) {
      try {
        hpt::open_storage(url, read_only);
        errors.push_back("");
      } catch (const hpt::StorageError& e) {
        errors.push_back(e.what());
      }
    }
    try {
      hpt::sqlite_file_of(url);
      errors.push_back("");
    } catch (const hpt::StorageError& e) {
      errors.push_back(e.what());
    }
  }
  const bool literal_ok =
      hpt::open_storage("./file:z.db")->create_study("z", hpt::Direction::Minimize) >= 0;
  const bool in_memory_ok =
      hpt::open_storage(":memory:")->create_study("m", hpt::Direction::Minimize) >= 0;
  fs::current_path(cwd);
  REQUIRE(errors.size() == 9);
  for (const auto& e : errors) {
    CHECK_THAT(e, Catch::Contains("SQLite URI filenames (file:...) are not taken"));
  }
  CHECK(errors[0] ==
        "'file:y.db': SQLite URI filenames (file:...) are not taken; give the "
        "file's path (./file:y.db for a file of that name)");
  for (const char* made : {"y.db", "r.db", "file:y.db", "file:r.db?mode=memory", ":memory:"}) {
    CHECK_FALSE(fs::exists(dir.file(made)));
  }
  CHECK(literal_ok);
  CHECK(hpt::open_storage(dir.file("file:z.db"), true)->find_study("z"));
  CHECK(in_memory_ok);
  CHECK(hpt::sqlite_file_of(":memory:") == ":memory:");
  // Options after '?' other than pysqlite's timeout and check_same_thread are refused
  // (SQLAlchemy's ?mode=ro was dropped and the file written).
  CHECK(hpt::sqlite_file_of("sqlite:///a.db?timeout=5&check_same_thread=False") == "a.db");
  CHECK_THROWS_WITH(hpt::sqlite_file_of("sqlite:///a.db?mode=ro"),
                    "storage URL 'sqlite:///a.db?mode=ro': option 'mode' is not taken (only "
                    "timeout and check_same_thread are) (read commands open the database "
                    "read-only themselves); give sqlite:///a.db");
  CHECK_THROWS_WITH(hpt::open_storage("sqlite:///a.db?timeout=5&mode=memory"),
                    Catch::Contains("option 'mode' is not taken"));
  // Their values are checked as SQLAlchemy checks them (timeout=abc was taken silently).
  CHECK(hpt::sqlite_file_of("sqlite:///a.db?timeout=2.5&check_same_thread=0") == "a.db");
  for (const std::string bad :
       {"timeout=abc", "timeout=", "timeout=-1", "timeout=nan", "timeout"}) {
    CHECK_THROWS_WITH(hpt::sqlite_file_of("sqlite:///a.db?" + bad),
                      Catch::Contains("is not a number of seconds"));
  }
  CHECK_THROWS_WITH(hpt::sqlite_file_of("sqlite:///a.db?check_same_thread=maybe"),
                    Catch::Contains("option check_same_thread='maybe' is not true or false"));
  CHECK_FALSE(fs::exists("a.db"));
  CHECK(hpt::sqlite_file_of("postgresql://u@h/db") == std::nullopt);
  CHECK_THROWS_WITH(hpt::sqlite_file_of("mysql://h/db"),
                    Catch::Contains("unsupported storage URL"));
  // The hint's example survives credential redaction (it showed "user:***@host").
  CHECK_THROWS_WITH(hpt::open_storage("mysql://h/db"),
                    Catch::Contains("postgresql://user@host/db or a file path"));
  CHECK_THROWS_WITH(hpt::sqlite_file_of(""), "empty storage path");
  // A URL copied from an Optuna script keeps SQLAlchemy's driver: the error says what to drop.
  CHECK_THROWS_WITH(hpt::open_storage("postgresql+psycopg2://u:secret@h/db"),
                    "unsupported storage URL 'postgresql+psycopg2://u:***@h/db': drop "
                    "SQLAlchemy's driver '+psycopg2' (postgresql://…)");
  CHECK_THROWS_WITH(hpt::sqlite_file_of("sqlite+pysqlite:///a.db"),
                    Catch::EndsWith("drop SQLAlchemy's driver '+pysqlite' (sqlite://…)"));
}
