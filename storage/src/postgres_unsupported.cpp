// Stands in for postgres_dialect.cpp when CMake finds no libpqxx: postgresql:// URLs say so.

#include "hpt/io/credentials.hpp"
#include "hpt/storage/postgres.hpp"

namespace hpt {

bool postgres_supported() { return false; }

std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool) {
  throw StorageError(redact_credentials(url) +
                     ": hpt was built without PostgreSQL support (install libpqxx-dev and "
                     "reconfigure)");
}

void postgres_execute(const std::string& url, const std::string&) {
  open_postgres_storage(url, false);
}

}  // namespace hpt
