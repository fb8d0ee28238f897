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

std::string pid_namespace() {
  char buf[128] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

Json Owner::to_json() const {
  Json j{{"host", host}, {"boot_id", boot_id}, {"pid", pid}, {"start_ticks", start_ticks}};
  if (!pid_ns.empty()) {
    j["pid_ns"] = pid_ns;
  }
  return j;
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
  o.pid_ns = text("pid_ns");
  o.pid = static_cast<long>(integer("pid"));
  o.start_ticks = integer("start_ticks");
  return o;
}

Owner Owner::current() {
  Owner o;
  o.host = host_name();
  o.boot_id = read_first_line("/proc/sys/kernel/random/boot_id");
  o.pid_ns = pid_namespace();
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
    return OwnerLiveness::Unknown;  // Rebooted, or another machine of this name.
  }
  if (!owner.pid_ns.empty() && owner.pid_ns != me.pid_ns) {
    return OwnerLiveness::Unknown;  // Its pid means nothing in our /proc.
  }
  long long ticks = start_ticks_of(owner.pid);
  return ticks >= 0 && ticks == owner.start_ticks ? OwnerLiveness::Alive : OwnerLiveness::Dead;
}

}  // namespace hpt
