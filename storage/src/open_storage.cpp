// open_storage: a storage URL to its SQL dialect.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>

#include "hpt/io/credentials.hpp"
#include "hpt/storage/postgres.hpp"
#include "sqlite_schema.hpp"

namespace hpt {

namespace {

// Why options (the text after '?' of an sqlite:/// URL) cannot be taken, or "": only those
// of SQLAlchemy's pysqlite driver that change no data (timeout, check_same_thread) are passed
// over; others (mode=ro, mode=memory, immutable=1, vfs=...) would silently mean another file
// or no protection.
std::string unsupported_sqlite_option(const std::string& query) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    end = end == std::string::npos ? query.size() : end;
    const std::string option = query.substr(start, end - start);
    const size_t eq = option.find('=');
    const std::string key = option.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : option.substr(eq + 1);
    if (key != "timeout" && key != "check_same_thread") {
      return "option '" + key + "' is not taken (only timeout and check_same_thread are)";
    }
    // Unused, but checked as SQLAlchemy checks them (it refuses what Optuna could not open).
    char* parsed_end = nullptr;
    const double seconds = std::strtod(value.c_str(), &parsed_end);
    const bool number = !value.empty() && parsed_end == value.c_str() + value.size() &&
                        std::isfinite(seconds) && seconds >= 0 && !std::isspace(value[0]);
    if (key == "timeout" && !number) {
      return "option timeout='" + value + "' is not a number of seconds";
    }
    static const std::set<std::string> k_booleans = {"true", "false", "yes", "no", "on", "off",
                                                     "y",    "n",     "t",   "f",  "1",  "0"};
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key == "check_same_thread" && !k_booleans.count(lower)) {
      return "option check_same_thread='" + value + "' is not true or false";
    }
    start = end + 1;
  }
  return "";
}

// "sqlite:///rel.db" -> "rel.db", "sqlite:////abs.db" -> "/abs.db", a plain path as is:
// always a file path, never one of SQLite's special names. Throws StorageError for other URL
// schemes, for options after '?' but timeout and check_same_thread (SQLAlchemy's "?mode=ro" was
// dropped and the file written),
// and for a path SQLite would read as a URI filename ("file:x.db?mode=memory" would open x.db,
// or a database in memory, while every check here looked at another name).
std::string sqlite_path_from_url(const std::string& url) {
  const std::string prefix = "sqlite:///";
  std::string path = url;
  if (url.rfind(prefix, 0) == 0) {
    path = url.substr(prefix.size());
    if (const size_t query = path.find('?'); query != std::string::npos) {
      const std::string problem = unsupported_sqlite_option(path.substr(query + 1));
      path.resize(query);
      if (!problem.empty()) {
        throw StorageError("storage URL '" + redact_credentials(url) + "': " + problem +
                           " (read commands open the database read-only themselves); give " +
                           (path.empty() ? "sqlite:///path.db" : prefix + path));
      }
    }
    if (path.empty()) {
      throw StorageError("storage URL '" + redact_credentials(url) + "' names no file");
    }
  } else if (const size_t scheme_end = url.find("://"); scheme_end != std::string::npos) {
    // SQLAlchemy's driver suffix (postgresql+psycopg2://, copied from an Optuna script).
    const std::string scheme = url.substr(0, scheme_end);
    const std::string base = scheme.substr(0, scheme.find('+'));
    const bool known = base == "sqlite" || base == "postgresql" || base == "postgres";
    throw StorageError(
        "unsupported storage URL '" + redact_credentials(url) + "': " +
        (known && base != scheme
             ? "drop SQLAlchemy's driver '" + scheme.substr(base.size()) + "' (" + base + "://…)"
             : std::string("expected sqlite:///path.db, "
                           "postgresql://user@host/db or a file path")));
  }
  if (path.empty()) {
    throw StorageError("empty storage path");
  }
  if (path.rfind("file:", 0) == 0) {
    throw StorageError("'" + redact_credentials(path) +
                       "': SQLite URI filenames (file:...) are not taken; give the file's path "
                       "(./" +
                       redact_credentials(path) + " for a file of that name)");
  }
  return path;
}

}  // namespace

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

// Throws StorageError, as open_storage would, for a URL that names neither a server nor a file.
std::optional<std::string> sqlite_file_of(const std::string& url) {
  if (is_postgres_url(url)) {
    return std::nullopt;
  }
  return sqlite_path_from_url(url);
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
