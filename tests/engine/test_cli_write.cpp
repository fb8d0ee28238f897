#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../../engine/src/cli_write.hpp"  // Internal to the engine.
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;

// A missing database file is named, never made; an existing one and a server URL pass.
TEST_CASE("cli_write: require_database_file", "[cli]") {
  hpt::test::TempDir dir("cli");
  CHECK_THROWS_AS(require_database_file(dir.file("nope.db")), StorageError);
  CHECK_THROWS_WITH(require_database_file("sqlite:///" + dir.file("nope.db")),
                    dir.file("nope.db") + ": no such file");
  CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
  std::ofstream(dir.file("s.db"));
  CHECK_NOTHROW(require_database_file(dir.file("s.db")));
  CHECK_NOTHROW(require_database_file("postgresql://u@h/db"));
}

// Without a signal: work that finishes exits 0 saying nothing; work that gives up before its
// write says nothing was done; an error is passed on.
TEST_CASE("cli_write: write_once without a signal", "[cli]") {
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  bool stop_asked = true;
  const int done = write_once("nothing changed", [&](const std::function<bool()>& stop) {
    stop_asked = stop();
    return true;
  });
  const std::string after_done = err.str();
  const int gave_up =
      write_once("nothing changed", [](const std::function<bool()>&) { return false; });
  const std::string after_gave_up = err.str();
  std::cerr.rdbuf(old);
  CHECK(done == 0);
  CHECK_FALSE(stop_asked);
  CHECK(after_done.empty());
  CHECK(gave_up == 0);
  CHECK(after_gave_up == "hpt: stopped by a signal; nothing changed\n");
  CHECK_THROWS_WITH(
      write_once("x",
                 [](const std::function<bool()>&) -> bool { throw std::runtime_error("refused"); }),
      "refused");
}
