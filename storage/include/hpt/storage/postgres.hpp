#pragma once
// The PostgreSQL backend's entry points; the backend itself is reached through
// open_storage("postgresql://user:pass@host:port/dbname").

#include <memory>
#include <string>

#include "hpt/storage/storage.hpp"

namespace hpt {

// True if hpt was built with the PostgreSQL backend (libpqxx found at configure time).
bool postgres_supported();

// True for "postgresql://..." and "postgres://..." URLs.
bool is_postgres_url(const std::string& url);

// Opens a PostgreSQL study database, creating Optuna's schema in an empty one
// (read_only = false). Throws StorageError with the redacted URL and the reason, or
// "hpt was built without PostgreSQL support".
std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool read_only);

// Runs one SQL statement outside a transaction (e.g. CREATE DATABASE), for tests and tools.
// Throws StorageError.
void postgres_execute(const std::string& url, const std::string& sql);

}  // namespace hpt
