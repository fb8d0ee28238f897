#include "hpt/engine/study_folder.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace hpt {

namespace {

bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string study_folder_name(const std::string& study) {
  std::string readable;
  bool changed = study.empty() || study.size() > k_max_readable_folder;
  for (size_t i = 0; i < study.size() && readable.size() < k_max_readable_folder; ++i) {
    const char c = study[i];
    const bool ok = is_safe(c) && !(i == 0 && (c == '.' || c == '-'));
    readable += ok ? c : '_';
    changed = changed || !ok;
  }
  if (!changed) {
    return readable;
  }
  return fmt::format("{}~{:012x}", readable, fnv1a(study) >> 16);
}

}  // namespace hpt
