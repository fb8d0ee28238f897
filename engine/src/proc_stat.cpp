#include "hpt/engine/proc_stat.hpp"

#include <fstream>
#include <sstream>

namespace hpt {

std::vector<std::string> proc_stat_fields(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::vector<std::string> fields;
  const auto close = std::getline(in, stat) ? stat.rfind(')') : std::string::npos;
  if (close != std::string::npos) {
    std::istringstream rest(stat.substr(close + 1));
    for (std::string field; rest >> field;) {
      fields.push_back(field);
    }
  }
  return fields;
}

bool process_alive(long pid) {
  const auto fields = proc_stat_fields(pid);
  return !fields.empty() && fields[0] != "Z";
}

}  // namespace hpt
