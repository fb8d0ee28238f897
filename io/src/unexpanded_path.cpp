#include "hpt/io/unexpanded_path.hpp"

#include <cctype>

namespace hpt {

std::string unexpanded_path_problem(const std::string& path) {
  if (!path.empty() && path.front() == '~') {
    return "a leading ~ is not expanded (only a shell does that, and none reads this path): give "
           "the full path";
  }
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const unsigned char next = static_cast<unsigned char>(path[i + 1]);
    if (path[i] == '$' && (next == '{' || next == '_' || std::isalpha(next))) {
      size_t end = i + 1;
      while (end < path.size() && path[end] != '/') {
        ++end;
      }
      return "'" + path.substr(i, end - i) +
             "' is not expanded (only a shell does that, and none reads this path): give the "
             "full path";
    }
  }
  return "";
}

}  // namespace hpt
