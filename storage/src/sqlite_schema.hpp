#pragma once
// Internal to the SQLite backend: Optuna 3.1's schema and opening a study file.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include <string>
#include <vector>

#include "optuna_schema_check.hpp"

namespace hpt {

// The CREATE statements, verbatim as Optuna 3.1 (SQLAlchemy) writes them, in its order.
const std::vector<std::string>& optuna_schema_ddl();

// Opens path (a file path or ":memory:"), validates it without writing, and for
// read_only = false creates the schema in an empty file and switches to WAL.
// Throws StorageError "<path>: <problem>".
SQLite::Database open_sqlite_database(const std::string& path, bool read_only);

// "sqlite:///rel.db" -> "rel.db", "sqlite:////abs.db" -> "/abs.db", a plain path as is.
// Throws StorageError for other URL schemes.
std::string sqlite_path_from_url(const std::string& url);

// A one-line reason for an SQLite error ("disk is full", "database is locked", ...).
std::string describe_sqlite_error(const SQLite::Exception& e);

}  // namespace hpt
