#include <catch2/catch.hpp>

#include "hpt/storage/storage.hpp"

// Every storage error from open_storage is redacted at the source: unsupported schemes,
// a URL naming no file, a missing file.
TEST_CASE("open_storage errors never show a password", "[storage][credentials]") {
  const char* urls[] = {"postgresql+psycopg2://u:hunter22@h/db", "mysql://u:hunter22@h/db",
                        "sqlite:///?password=hunter22",
                        "sqlite:///nonexistent/dir/x.db?password=hunter22"};
  for (const char* url : urls) {
    INFO(url);
    try {
      hpt::open_storage(url, true);
      FAIL("opened");
    } catch (const hpt::StorageError& e) {
      CHECK(std::string(e.what()).find("hunter22") == std::string::npos);
    }
  }
}
