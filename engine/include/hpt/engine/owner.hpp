#pragma once
// Who runs a trial: the orchestrator's host, boot and process identity, stored in the
// trial's system attr "hpt:owner" so that a later run can tell a live trial from one
// left RUNNING by a dead orchestrator.

#include <string>

#include "hpt/tuner/distribution.hpp"

namespace hpt {

struct Owner {
  std::string host;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: pids are only unique per boot.
  // The PID namespace (readlink /proc/self/ns/pid, "pid:[4026531836]"): containers on one
  // host share its name and boot but not their pids. Empty in records of older hpt versions.
  std::string pid_ns;
  long pid = 0;
  long long start_ticks = 0;  // Process start time (field 22 of /proc/pid/stat).

  Json to_json() const;
  static Owner from_json(const Json& j);  // Missing fields stay empty/zero.
  // This process.
  static Owner current();
};

enum class OwnerLiveness { Alive, Dead, Unknown };

// Alive/Dead for an owner on this host (same boot and PID namespace: checks the pid and its
// start time); Unknown for an owner on another host, in another PID namespace (another
// container), or of another boot under this host's name, whose liveness only its heartbeat
// tells: another boot is this machine rebooted or another machine of the same name (a cloned
// VM, a default cloud host name), which no record tells apart, and taking a live machine's
// trials for dead re-ran them over and over.
OwnerLiveness owner_liveness(const Owner& owner);

}  // namespace hpt
