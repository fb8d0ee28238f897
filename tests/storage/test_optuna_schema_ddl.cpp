#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <catch2/catch.hpp>

#include "hpt/storage/storage.hpp"
#include "optuna_python.hpp"
#include "support/temp_dir.hpp"

namespace {

// Every schema object as "type name table: sql", in name order.
std::vector<std::string> schema_of(const std::string& path) {
  SQLite::Database db(path);
  SQLite::Statement q(db,
                      "SELECT type || ' ' || name || ' ' || tbl_name || ': ' || ifnull(sql, '') "
                      "FROM sqlite_master ORDER BY name");
  std::vector<std::string> out;
  while (q.executeStep()) {
    out.push_back(q.getColumn(0).getString());
  }
  return out;
}

std::vector<std::string> rows(const std::string& path, const std::string& sql) {
  SQLite::Database db(path);
  SQLite::Statement q(db, sql);
  std::vector<std::string> out;
  while (q.executeStep()) {
    out.push_back(q.getColumn(0).getString());
  }
  return out;
}

}  // namespace

// The schema hpt creates is the one Optuna 3.1 creates, statement for statement, with
// the same version rows.
TEST_CASE("hpt's schema is Optuna's", "[storage][optuna]") {
  hpt::test::TempDir dir;
  auto optuna_db = dir.file("optuna.db");
  auto [rc, out] = hpt::test::run_python(
      dir.file("make.py"),
      "optuna.create_study(study_name='s', storage='sqlite:///" + optuna_db + "')\n");
  if (hpt::test::optuna_missing(rc, out)) {
    WARN("skipped: /usr/bin/python3 cannot import optuna");
    return;
  }
  INFO(out);
  REQUIRE(rc == 0);
  auto hpt_db = dir.file("hpt.db");
  hpt::open_storage(hpt_db)->create_study("s", hpt::Direction::Minimize);
  CHECK(schema_of(hpt_db) == schema_of(optuna_db));
  for (const char* sql :
       {"SELECT version_info_id || ' ' || schema_version || ' ' || library_version "
        "FROM version_info",
        "SELECT version_num FROM alembic_version",
        "SELECT study_id || ' ' || study_name FROM studies",
        "SELECT study_direction_id || direction || study_id || objective FROM study_directions"}) {
    CHECK(rows(hpt_db, sql) == rows(optuna_db, sql));
  }
}
