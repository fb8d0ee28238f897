#pragma once
// A private, empty cache folder for one test (HPT_CACHE_DIR points at it).

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace hpt::test {

inline std::string fresh_cache(const std::string& name) {
  const std::string dir = process_temp_dir("cache-" + name);
  ::setenv("HPT_CACHE_DIR", dir.c_str(), 1);
  return dir;
}

}  // namespace hpt::test
