#pragma once
// A private, empty cache folder for one test (HPT_CACHE_DIR points at it).

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hpt::test {

inline std::string fresh_cache(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hpt-cache-" + name + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("HPT_CACHE_DIR", dir.c_str(), 1);
  return dir.string();
}

}  // namespace hpt::test
