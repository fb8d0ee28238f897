#include "hpt/engine/owner.hpp"

#include <unistd.h>

#include <climits>
#include <fstream>

#include "hpt/engine/proc_stat.hpp"

namespace hpt {

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Start time of pid in clock ticks since boot, or -1 if the process does not exist.
long long start_ticks_of(long pid) {
  const auto fields = proc_stat_fields(pid);
  return fields.size() > 22 - 3 ? std::stoll(fields[22 - 3]) : -1;
}

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

Json Owner::to_json() const {
  return Json{{"host", host}, {"boot_id", boot_id}, {"pid", pid}, {"start_ticks", start_ticks}};
}

Owner Owner::from_json(const Json& j) {
  Owner o;
  if (!j.is_object()) {
    return o;
  }
  // Whatever a database holds: a field of another type reads as missing.
  auto text = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto integer = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<long long>() : 0LL;
  };
  o.host = text("host");
  o.boot_id = text("boot_id");
  o.pid = static_cast<long>(integer("pid"));
  o.start_ticks = integer("start_ticks");
  return o;
}

Owner Owner::current() {
  Owner o;
  o.host = host_name();
  o.boot_id = read_first_line("/proc/sys/kernel/random/boot_id");
  o.pid = static_cast<long>(getpid());
  o.start_ticks = start_ticks_of(o.pid);
  return o;
}

OwnerLiveness owner_liveness(const Owner& owner) {
  const Owner me = Owner::current();
  if (owner.host.empty() || owner.host != me.host) {
    return OwnerLiveness::Unknown;
  }
  if (owner.boot_id != me.boot_id) {
    return OwnerLiveness::Dead;
  }
  long long ticks = start_ticks_of(owner.pid);
  return ticks >= 0 && ticks == owner.start_ticks ? OwnerLiveness::Alive : OwnerLiveness::Dead;
}

}  // namespace hpt
