#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hpt/io/big_endian.hpp"
#include "hpt/io/stop_signals.hpp"
#include "hpt/storage/storage.hpp"
#include "sqlite_schema.hpp"

namespace hpt {

namespace fs = std::filesystem;

namespace {

constexpr int k_busy_timeout_ms = 60000;

// SQLite's busy handler: waits for another connection's lock as sqlite3_busy_timeout does
// (SQLite's own schedule of sleeps, up to k_busy_timeout_ms in all), but gives up at once
// when the user asked to stop now (a second Ctrl-C while a database browser holds a lock).
extern "C" int wait_while_busy(void*, int count) {
  static constexpr std::array<int, 12> k_delays_ms = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  if (stop_now()) {
    return 0;
  }
  int waited = 0;
  for (int i = 0; i < count; ++i) {
    waited += k_delays_ms[std::min<size_t>(static_cast<size_t>(i), k_delays_ms.size() - 1)];
  }
  if (waited >= k_busy_timeout_ms) {
    return 0;
  }
  int delay = k_delays_ms[std::min<size_t>(static_cast<size_t>(count), k_delays_ms.size() - 1)];
  sqlite3_sleep(std::min(delay, k_busy_timeout_ms - waited));
  return stop_now() ? 0 : 1;
}

// db (just opened) waits for locks through wait_while_busy.
SQLite::Database with_busy_handler(SQLite::Database db) {
  sqlite3_busy_handler(db.getHandle(), wait_while_busy, nullptr);
  return db;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw StorageError(path + ": " + problem);
}

// access() says yes to root for any file; a file or folder without any write bit is
// treated as read-only anyway, as the user meant.
bool writable(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    return false;
  }
  return ::access(p.c_str(), W_OK) == 0 && (st.st_mode & 0222) != 0;
}

// Checks the 100-byte SQLite header without opening the file through SQLite.
void check_header(const std::string& path, uintmax_t size) {
  if (size == 0) {
    return;
  }
  std::array<unsigned char, 100> h{};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(path, "cannot read the file");
  }
  in.read(reinterpret_cast<char*>(h.data()), h.size());
  static const char k_magic[] = "SQLite format 3";
  if (in.gcount() < 16 || !std::equal(k_magic, k_magic + 16, h.begin())) {
    fail(path, "not an SQLite database");
  }
  if (in.gcount() < 100) {
    fail(path, fmt::format("truncated SQLite database ({} bytes)", size));
  }
  uint32_t page_size = (uint32_t{h[16]} << 8) | h[17];
  if (page_size == 1) {
    page_size = 65536;
  }
  uint32_t pages = read_be32(&h[28]);
  bool size_valid =
      pages > 0 && read_be32(&h[92]) == read_be32(&h[24]);  // version-valid-for == change counter
  bool wal = h[18] == 2 && h[19] == 2;
  // In WAL mode a checkpoint in progress may grow the file after its header; only
  // trust the size when no WAL file exists.
  if (size_valid && !(wal && fs::exists(path + "-wal")) && uintmax_t{pages} * page_size > size) {
    fail(path, fmt::format("truncated SQLite database ({} of {} bytes)", size,
                           uintmax_t{pages} * page_size));
  }
}

std::string uri_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

// The name that makes SQLite open the file at path: a path starting with "file:" would be
// read as a URI (Debian's SQLite enables them), so it is given as "./file:...".
std::string literal_name(const std::string& path) {
  return path.rfind("file:", 0) == 0 ? "./" + path : path;
}

// open_validated's checks of the opened db (made immutable where a read needs it).
void validate(SQLite::Database& db, const std::string& path, bool read_only) {
  std::vector<std::string> tables;
  try {
    tables = sqlite_table_names(db);
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (!read_only || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY)) {
      throw;
    }
    // A WAL database in a folder we cannot write (no -shm can be made: CANTOPEN, or READONLY
    // when it is another user's folder): read it as immutable, which ignores the -wal file. One
    // holding commits would be read stale, without a word: refused instead.
    std::error_code ec;
    if (fs::file_size(path + "-wal", ec) > 0 && !ec) {
      fail(path, fmt::format("its write-ahead log '{0}-wal' holds changes that cannot be read from "
                             "this folder (SQLite cannot make '{0}-shm' here); copy the database "
                             "with its -wal to a folder you can write and open the copy",
                             path));
    }
    db = with_busy_handler(SQLite::Database("file:" + uri_escape(path) + "?immutable=1",
                                            SQLite::OPEN_READONLY | SQLite::OPEN_URI));
    tables = sqlite_table_names(db);
  }
  if (tables.empty() && !read_only) {
    enable_wal(db);  // A new study file is made in WAL mode (SqlStorage creates the schema).
  }
}

SQLite::Database open_validated(const std::string& path, bool read_only, bool exists) {
  int flags = read_only ? SQLite::OPEN_READONLY
                        : SQLite::OPEN_READWRITE | (exists ? 0 : SQLite::OPEN_CREATE);
  SQLite::Database db =
      with_busy_handler(SQLite::Database(path == ":memory:" ? path : literal_name(path), flags));
  try {
    validate(db, path, read_only);
  } catch (const SQLite::Exception& e) {
    fail(path, describe_sqlite_error(e, db));  // While db holds the system's errno.
  }
  return db;
}

}  // namespace

std::optional<std::string> sqlite_side_file_problem(const std::string& path, bool creating) {
  std::error_code ec;
  for (const std::string suffix : k_sqlite_side_suffixes) {
    if (path.size() <= suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string base = path.substr(0, path.size() - suffix.size());
    if (fs::is_regular_file(base, ec)) {
      return fmt::format("the SQLite {} file of {}, not a database", suffix, base);
    }
    if (creating && !fs::exists(fs::symlink_status(path, ec))) {
      return fmt::format(
          "the name SQLite gives the {} file of {}: a database made here would be lost once {} "
          "exists; name it otherwise",
          suffix, base, base);
    }
  }
  const fs::path file(path);
  if (creating && !fs::exists(fs::symlink_status(file, ec))) {
    const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
    const size_t most = (name_max > 0 ? static_cast<size_t>(name_max) : 255) - strlen("-journal");
    if (const size_t bytes = file.filename().string().size(); bytes > most) {
      return fmt::format(
          "the file name is {} bytes long; SQLite names its journal <name>-journal, so a new "
          "database's name may have at most {} bytes here",
          bytes, most);
    }
  }
  return std::nullopt;
}

std::vector<std::string> sqlite_table_names(SQLite::Database& db) {
  std::vector<std::string> names;
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (q.executeStep()) {
    names.push_back(q.getColumn(0).getString());
  }
  return names;
}

// Switching to WAL needs an exclusive lock and SQLite does not call the busy handler for
// it: retry while another connection (e.g. one creating the schema) holds the file.
void enable_wal(SQLite::Database& db) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(k_busy_timeout_ms);
  for (;;) {
    try {
      db.exec("PRAGMA journal_mode=WAL");
      return;
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline ||
          stop_now()) {
        throw;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string describe_sqlite_error(const SQLite::Exception& e) {
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_FULL:
      return "disk is full (or the database reached its size limit)";
    case SQLITE_NOTADB:
      return "not an SQLite database";
    case SQLITE_CORRUPT:
      return "database file is corrupt";
    case SQLITE_READONLY:
      return "database is read-only";
    case SQLITE_CANTOPEN:
      return "cannot open the database file";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "database is locked (another process held it past the busy timeout)";
    case SQLITE_IOERR:
      return std::string("I/O error (") + e.what() + ")";
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "permission denied";
    default:
      return e.what();
  }
}

std::string describe_sqlite_error(const SQLite::Exception& e, const SQLite::Database& db) {
  if ((e.getErrorCode() & 0xff) == SQLITE_IOERR) {
    switch (sqlite3_system_errno(db.getHandle())) {
      case ENOSPC:
        return std::string("disk is full (") + e.what() + ")";
      case EFBIG:
        return std::string("a file reached this process's file-size limit (ulimit -f) (") +
               e.what() + ")";
    }
    // A write refused past the file-size limit leaves SQLite no system error to tell.
    rlimit limit{};
    if (e.getExtendedErrorCode() == SQLITE_IOERR_WRITE && ::getrlimit(RLIMIT_FSIZE, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY) {
      return fmt::format(
          "a write failed: a file may have reached this process's file-size limit (ulimit -f: "
          "{} bytes) ({})",
          static_cast<uint64_t>(limit.rlim_cur), e.what());
    }
  }
  return describe_sqlite_error(e);
}

SQLite::Database open_sqlite_database(const std::string& path, bool read_only) {
  if (path == ":memory:") {
    if (read_only) {
      fail(path, "an in-memory database cannot be opened read-only");
    }
    return open_validated(path, false, false);
  }
  if (const auto problem = sqlite_side_file_problem(path, !read_only)) {
    fail(path, *problem);  // Read-only, a missing one is "no such file" below.
  }
  fs::path file(path);
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code ec;
  auto st = fs::status(file, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {  // A loop of links, no permission.
    fail(path, ec.message());
  }
  bool exists = fs::exists(st);
  if (!exists) {
    if (read_only) {
      fail(path, "no such file");
    }
    if (!fs::is_directory(dir, ec)) {
      fail(path, fmt::format("directory '{}' does not exist", dir.string()));
    }
    if (!writable(dir)) {
      fail(path,
           fmt::format("cannot create the database: directory '{}' is not writable", dir.string()));
    }
  } else {
    if (fs::is_directory(st)) {
      fail(path, "is a directory, not a database file");
    }
    if (!fs::is_regular_file(st)) {
      fail(path, "not a regular file");
    }
    if (::access(path.c_str(), R_OK) != 0) {
      fail(path, "file is not readable (permission denied)");
    }
    check_header(path, fs::file_size(file, ec));
    if (!read_only) {
      if (!writable(file)) {
        fail(path, "file is read-only, so it cannot be written (hpt's reading verbs, such as "
                   "trials, report and dashboard, still read it)");
      }
      if (!writable(dir)) {
        fail(path, fmt::format("directory '{}' is not writable (SQLite needs it for the "
                               "-wal and -shm files); hpt's reading verbs, such as trials, report "
                               "and dashboard, still read the database",
                               dir.string()));
      }
    }
  }
  try {
    return open_validated(path, read_only, exists);
  } catch (const SQLite::Exception& e) {
    fail(path, describe_sqlite_error(e));
  }
}

}  // namespace hpt
