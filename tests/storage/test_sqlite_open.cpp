#include <SQLiteCpp/Database.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "../../storage/src/sqlite_schema.hpp"  // Internal to storage.
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// A closed study database (WAL checkpointed away) with one study of a few trials.
void make_study_db(const std::string& path) {
  auto s = hpt::open_storage(path);
  int64_t id = s->create_study("s", hpt::Direction::Minimize);
  for (int i = 0; i < 5; ++i) {
    auto c = s->claim_trial(id, 10, i, nullptr);
    s->set_trial_user_attr(c->trial.id, "pad", std::string(2000, 'p'));
  }
}

// open_storage fails with a message naming the file and containing `reason`, for both
// read-write and read-only opens, and leaves the file byte for byte as it was.
void check_rejected(const std::string& path, const std::string& reason) {
  std::string before = bytes(path);
  for (bool read_only : {false, true}) {
    INFO("read_only " << read_only);
    CHECK_THROWS_WITH(hpt::open_storage(path, read_only),
                      Catch::StartsWith(path + ": ") && Catch::Contains(reason));
    CHECK(bytes(path) == before);
  }
}

// Makes a study database at path, changes it with sql, and checks it is rejected for reason.
void check_edited_rejected(const std::string& path, const std::string& sql,
                           const std::string& reason) {
  make_study_db(path);
  SQLite::Database(path, SQLite::OPEN_READWRITE).exec(sql);
  check_rejected(path, reason);
}

}  // namespace

// A new file gets Optuna's schema, version rows and WAL mode; reopening keeps the data.
TEST_CASE("open_storage creates a new study database", "[storage][open]") {
  hpt::test::TempDir dir;
  auto path = dir.file("new.db");
  hpt::open_storage("sqlite:///" + path)->create_study("s", hpt::Direction::Maximize);
  SQLite::Database db(path);
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = 'table'").getInt() == 13);
  CHECK(db.execAndGet("SELECT schema_version FROM version_info").getInt() == 12);
  CHECK(db.execAndGet("SELECT version_num FROM alembic_version").getString() == "v3.0.0.d");
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(hpt::open_storage(path, true)->find_study("s")->direction() == hpt::Direction::Maximize);
  // An existing empty file is a new database too.
  write_bytes(dir.file("empty.db"), "");
  CHECK(hpt::open_storage(dir.file("empty.db"))->list_studies().empty());
}

// sqlite:///relative, sqlite:////absolute and plain paths name the same kind of file.
TEST_CASE("open_storage accepts sqlite URLs and plain paths", "[storage][open]") {
  hpt::test::TempDir dir;
  auto cwd = fs::current_path();
  fs::current_path(dir.path());
  try {
    hpt::open_storage("sqlite:///rel.db")->create_study("r", hpt::Direction::Minimize);
    hpt::open_storage("plain.db")->create_study("p", hpt::Direction::Minimize);
  } catch (...) {
    fs::current_path(cwd);
    throw;
  }
  fs::current_path(cwd);
  CHECK(fs::exists(dir.file("rel.db")));
  CHECK(hpt::open_storage("sqlite:///" + dir.file("rel.db"))->find_study("r"));
  CHECK(hpt::open_storage(dir.file("plain.db"), true)->find_study("p"));
  CHECK(hpt::open_storage("sqlite:///" + dir.file("plain.db") + "?timeout=5")->find_study("p"));
  CHECK_THROWS_WITH(hpt::open_storage("mysql://host/db"),
                    Catch::Contains("unsupported storage URL"));
  CHECK_THROWS_AS(hpt::open_storage("sqlite:///"), hpt::StorageError);
}

// Files that are not study databases are refused, named, and left untouched.
TEST_CASE("open_storage refuses foreign and damaged files", "[storage][open]") {
  hpt::test::TempDir dir;
  SECTION("not SQLite") {
    write_bytes(dir.file("x.db"), "hello, this is a text file and not a database at all\n");
    check_rejected(dir.file("x.db"), "not an SQLite database");
  }
  SECTION("short garbage") {
    write_bytes(dir.file("x.db"), "SQLite");
    check_rejected(dir.file("x.db"), "not an SQLite database");
  }
  SECTION("truncated") {
    make_study_db(dir.file("t.db"));
    std::string data = bytes(dir.file("t.db"));
    REQUIRE(data.size() > 3 * 4096);
    write_bytes(dir.file("t.db"), data.substr(0, 2 * 4096));
    check_rejected(dir.file("t.db"), "truncated");
  }
  SECTION("corrupt schema page") {
    make_study_db(dir.file("c.db"));
    std::string data = bytes(dir.file("c.db"));
    for (size_t i = 100; i < 4096; ++i) {
      data[i] = static_cast<char>(0xA5);
    }
    write_bytes(dir.file("c.db"), data);
    check_rejected(dir.file("c.db"), "corrupt");
  }
  SECTION("other tables") {
    {
      SQLite::Database db(dir.file("o.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE inventory (id INTEGER PRIMARY KEY, name TEXT)");
    }
    check_rejected(dir.file("o.db"), "without Optuna's study schema (tables: inventory)");
  }
  SECTION("newer schema_version") {
    check_edited_rejected(dir.file("n.db"),
                          "UPDATE version_info SET schema_version = 13, library_version = '9.0.0'",
                          "schema_version 13 (Optuna 9.0.0) is newer");
  }
  SECTION("unknown alembic revision") {
    check_edited_rejected(dir.file("a.db"), "UPDATE alembic_version SET version_num = 'v3.2.0.a'",
                          "unknown alembic revision 'v3.2.0.a'");
  }
  SECTION("older alembic revision") {
    check_edited_rejected(dir.file("a.db"), "UPDATE alembic_version SET version_num = 'v2.6.0.a'",
                          "optuna storage upgrade");
  }
  SECTION("a directory") {
    fs::create_directory(dir.file("d.db"));
    CHECK_THROWS_WITH(hpt::open_storage(dir.file("d.db")), Catch::Contains("is a directory"));
  }
}

// Missing files and folders: read-only opens never create anything.
TEST_CASE("open_storage reports missing files and folders", "[storage][open]") {
  hpt::test::TempDir dir;
  auto missing = dir.file("nodir/x.db");
  CHECK_THROWS_WITH(hpt::open_storage(missing),
                    Catch::StartsWith(missing + ": ") && Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(hpt::open_storage(dir.file("none.db"), true), Catch::Contains("no such file"));
  // A loop of symbolic links is named as that (it read as "cannot open the database file").
  fs::create_symlink(dir.file("loop-b"), dir.file("loop-a"));
  fs::create_symlink(dir.file("loop-a"), dir.file("loop-b"));
  for (bool read_only : {false, true}) {
    CHECK_THROWS_WITH(hpt::open_storage(dir.file("loop-a"), read_only),
                      Catch::Contains("Too many levels of symbolic links"));
  }
  CHECK_FALSE(fs::exists(dir.file("none.db")));
  write_bytes(dir.file("empty.db"), "");
  CHECK_THROWS_WITH(hpt::open_storage(dir.file("empty.db"), true),
                    Catch::Contains("empty database"));
  CHECK(bytes(dir.file("empty.db")).empty());
}

// A database's -journal, -wal or -shm file is never taken for a database: a study written there
// would be lost when SQLite next opens the real database (a "hot journal" is rolled back and
// deleted, an -shm rebuilt). Without the database beside it, such a name is an ordinary file.
TEST_CASE("open_storage refuses a database's SQLite side files", "[storage][open]") {
  hpt::test::TempDir dir;
  const std::string db = dir.file("o.db");
  make_study_db(db);
  for (const char* suffix : {"-journal", "-wal", "-shm"}) {
    INFO(suffix);
    const std::string side = db + suffix;
    const bool existed = fs::exists(side);
    for (bool read_only : {false, true}) {
      CHECK_THROWS_WITH(hpt::open_storage(side, read_only),
                        Catch::StartsWith(side + ": the SQLite " + suffix + " file of " + db +
                                          ", not a database"));
    }
    CHECK(fs::exists(side) == existed);  // Nothing made.
  }
  CHECK(hpt::sqlite_side_file_problem(db) == std::nullopt);
  // A new database under such a name is refused: it would be lost once lone.db exists.
  const std::string lone = dir.file("lone.db-journal");
  CHECK(hpt::sqlite_side_file_problem(lone) ==
        "the name SQLite gives the -journal file of " + dir.file("lone.db") +
            ": a database made here would be lost once " + dir.file("lone.db") +
            " exists; name it otherwise");
  CHECK_THROWS(hpt::open_storage(lone));
  CHECK_FALSE(fs::exists(lone));
  // A new name with no room for its -journal in NAME_MAX (255) is refused before SQLite makes
  // an empty file it cannot write ("cannot open the database file", and the file left behind).
  const std::string longest = dir.file(std::string(247 - 3, 'n') + ".db");
  CHECK(hpt::sqlite_side_file_problem(longest) == std::nullopt);
  const std::string too_long = dir.file(std::string(248 - 3, 'n') + ".db");
  CHECK(hpt::sqlite_side_file_problem(too_long) ==
        "the file name is 248 bytes long; SQLite names its journal <name>-journal, so a new "
        "database's name may have at most 247 bytes here");
  CHECK_THROWS_WITH(hpt::open_storage(too_long), Catch::EndsWith("at most 247 bytes here"));
  CHECK_FALSE(fs::exists(too_long));
  CHECK(hpt::sqlite_side_file_problem(too_long, false) == std::nullopt);
  hpt::open_storage(longest);  // And it works: its -journal and -wal fit.
  CHECK(fs::exists(longest));
  // Read-only (hpt studies, report), nothing is made: it is missing, not a risk.
  CHECK(hpt::sqlite_side_file_problem(lone, false) == std::nullopt);
  CHECK_THROWS_WITH(hpt::open_storage(lone, true), Catch::Contains("no such file"));
  // An existing one alone is an ordinary database.
  make_study_db(dir.file("made.db"));
  fs::rename(dir.file("made.db"), lone);
  CHECK(hpt::sqlite_side_file_problem(lone) == std::nullopt);
  CHECK_NOTHROW(hpt::open_storage(lone));
  CHECK_NOTHROW(hpt::open_storage(db, true));  // The database itself still opens.
}

// A read-only file or folder refuses read-write opens (untouched) but serves reports.
TEST_CASE("open_storage on read-only files and folders", "[storage][open]") {
  hpt::test::TempDir dir;
  auto sub = dir.path() / "ro";
  fs::create_directory(sub);
  auto path = (sub / "s.db").string();
  make_study_db(path);
  std::string before = bytes(path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  CHECK_THROWS_WITH(hpt::open_storage(path), Catch::Contains("file is read-only"));
  CHECK(hpt::open_storage(path, true)->get_all_trials(1).size() == 5);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(sub, fs::perms::owner_read | fs::perms::owner_exec);
  CHECK_THROWS_WITH(hpt::open_storage(path), Catch::Contains("is not writable"));
  CHECK_THROWS_WITH(hpt::open_storage((sub / "new.db").string()),
                    Catch::Contains("is not writable"));
  CHECK(hpt::open_storage(path, true)->find_study("s"));
  fs::permissions(sub, fs::perms::owner_all);
  CHECK(bytes(path) == before);
}

// Several processes' threads creating the same new file at once get one schema.
TEST_CASE("open_storage creates the schema once under concurrency", "[storage][open]") {
  hpt::test::TempDir dir;
  auto path = dir.file("race.db");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = hpt::open_storage(path);
      s->create_study("s" + std::to_string(i), hpt::Direction::Minimize);
      ++ok;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(ok == 4);
  SQLite::Database db(path);
  CHECK(db.execAndGet("SELECT count(*) FROM version_info").getInt() == 1);
  CHECK(db.execAndGet("SELECT count(*) FROM studies").getInt() == 4);
}

// open_sqlite_database opens the file its path names, even one SQLite would read as a URI
// ("file:x.db?mode=memory" would be x.db, or a database in memory); ":memory:" stays in memory.
TEST_CASE("open_sqlite_database takes a path literally", "[storage][open]") {
  hpt::test::TempDir dir;
  auto cwd = fs::current_path();
  fs::current_path(dir.path());
  try {
    hpt::open_sqlite_database("file:x.db?mode=memory", false).exec("CREATE TABLE t (a)");
    hpt::open_sqlite_database(":memory:", false).exec("CREATE TABLE t (a)");
  } catch (...) {
    fs::current_path(cwd);
    throw;
  }
  fs::current_path(cwd);
  CHECK(fs::is_regular_file(dir.file("file:x.db?mode=memory")));
  CHECK_FALSE(fs::exists(dir.file("x.db")));
  CHECK_FALSE(fs::exists(dir.file(":memory:")));
  fs::current_path(dir.path());
  auto db = hpt::open_sqlite_database("file:x.db?mode=memory", true);
  fs::current_path(cwd);
  CHECK(hpt::sqlite_table_names(db) == std::vector<std::string>{"t"});
}
