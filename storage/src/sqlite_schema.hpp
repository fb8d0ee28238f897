#pragma once
// Internal to the SQLite dialect: Optuna 3.1's schema and opening a study file.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include <memory>
#include <string>
#include <vector>

#include "hpt/storage/storage.hpp"

namespace hpt {

// Opens path (a file path or ":memory:") after checking the file (kind, permissions, SQLite
// header) without writing; an empty file opened to write is switched to WAL. Throws
// StorageError "<path>: <problem>".
SQLite::Database open_sqlite_database(const std::string& path, bool read_only);

// A SqlStorage on the SQLite file at path (open_sqlite_database's checks, then the schema's).
std::unique_ptr<Storage> open_sqlite_storage(const std::string& path, bool read_only);

// The names of the database's tables, sorted.
std::vector<std::string> sqlite_table_names(SQLite::Database& db);

// Switches to WAL, retrying while another connection holds the file (SQLite does not call
// the busy handler for it).
void enable_wal(SQLite::Database& db);

// A one-line reason for an SQLite error ("disk is full", "database is locked", ...).
std::string describe_sqlite_error(const SQLite::Exception& e);
// The same for an error of db: an I/O error whose system call failed with ENOSPC (creating the
// -wal or -shm file, growing the database) is a full disk.
std::string describe_sqlite_error(const SQLite::Exception& e, const SQLite::Database& db);

}  // namespace hpt
