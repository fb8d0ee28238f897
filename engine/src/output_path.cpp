#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

#include "hpt/engine/cli.hpp"
#include "hpt/io/atomic_file.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt {

namespace {

// Whether the file at path is empty or starts (after a byte-order mark and blanks) like an
// HTML page: "<!doctype html", "<html" or a comment, in any case.
bool empty_or_html(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) {
    head.erase(0, 3);
  }
  head.erase(0, head.find_first_not_of(" \t\r\n"));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.empty() || head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0 ||
         head.rfind("<!--", 0) == 0;
}

// Throws if out is the database file of storage_url or one of its -wal/-shm/-journal files.
void check_not_database(const std::string& out, const std::string& storage_url) {
  std::optional<std::string> db;
  try {
    db = sqlite_file_of(storage_url);
  } catch (const StorageError&) {
    return;  // Not a database file: opening it will say why.
  }
  if (!db || *db == ":memory:") {
    return;
  }
  // Absolute first: weakly_canonical keeps a path relative when its file does not exist yet
  // (o.db-journal against ./o.db-journal). SQLite puts the others beside the real file.
  const auto canonical = [](const std::string& path, std::error_code& ec) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  };
  std::error_code ec_out;
  const auto out_name = canonical(out, ec_out);
  std::error_code ec_db;
  const std::string real_db = canonical(*db, ec_db).string();
  std::vector<const char*> suffixes = {""};  // The database, then its side files.
  suffixes.insert(suffixes.end(), k_sqlite_side_suffixes.begin(), k_sqlite_side_suffixes.end());
  for (const char* suffix : suffixes) {
    const std::string file = *db + suffix;
    std::error_code ec;
    const auto name = canonical(real_db + suffix, ec);
    if (same_file(out, file) || (!ec && !ec_db && !ec_out && name == out_name)) {
      throw std::invalid_argument(
          fmt::format("output '{}' is the study database{} '{}'; refusing to overwrite it", out,
                      *suffix ? fmt::format("'s SQLite {} file", suffix) : std::string(), file));
    }
  }
}

}  // namespace

void check_output_path(const std::string& out, const std::string& storage_url) {
  check_not_database(out, storage_url);
  std::error_code ec;
  if (std::filesystem::is_regular_file(out, ec) && !empty_or_html(out)) {
    throw std::invalid_argument(fmt::format(
        "output '{}' exists and is not an HTML file; refusing to overwrite it (choose another "
        "-o, or remove it first)",
        out));
  }
}

}  // namespace hpt
