// open_storage: a storage URL to its SQL dialect.

#include "hpt/io/credentials.hpp"
#include "hpt/storage/postgres.hpp"
#include "sqlite_schema.hpp"

namespace hpt {

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::unique_ptr<Storage> open_storage(const std::string& url, bool read_only) {
  try {
    if (is_postgres_url(url)) {
      return open_postgres_storage(url, read_only);
    }
    return open_sqlite_storage(sqlite_path_from_url(url), read_only);
  } catch (const std::exception& e) {
    // Whatever failed (our checks, SQLite, libpq echoing parts of the URL), the message
    // never shows the URL's credentials.
    throw StorageError(redact_credentials(e.what(), url));
  }
}

}  // namespace hpt
