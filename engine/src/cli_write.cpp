#include "cli_write.hpp"

#include <exception>
#include <filesystem>
#include <iostream>

#include "hpt/engine/orchestrator.hpp"  // k_exit_interrupted.
#include "hpt/engine/signal_guard.hpp"
#include "hpt/io/terminal_text.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt {

void require_database_file(const std::string& db) {
  if (const auto file = sqlite_file_of(db)) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::status(*file, ec))) {
      throw StorageError(*file + ": no such file");
    }
  }
}

int write_once(const std::string& nothing_done,
               const std::function<bool(const std::function<bool()>& stop)>& work) {
  const StopSignals signals;
  bool finished = false;
  try {
    finished = work([&] { return signals.caught(); });
  } catch (const std::exception&) {
    if (!signals.caught()) {
      throw;
    }
  }
  if (!finished) {
    std::cerr << terminal_text("hpt: stopped by a signal; " + nothing_done) << "\n";
  }
  return signals.caught() ? k_exit_interrupted : 0;
}

}  // namespace hpt
