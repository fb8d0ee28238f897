#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "hpt/engine/owner.hpp"

using namespace hpt;

// This process is alive; a reaped child is dead; another host or PID namespace is unknown.
TEST_CASE("owner: liveness", "[owner]") {
  Owner me = Owner::current();
  CHECK(me.pid == getpid());
  CHECK(me.start_ticks > 0);
  CHECK(owner_liveness(me) == OwnerLiveness::Alive);
  CHECK(owner_liveness(Owner::from_json(me.to_json())) == OwnerLiveness::Alive);

  pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  Owner dead = me;
  dead.pid = child;
  CHECK(owner_liveness(dead) == OwnerLiveness::Dead);

  Owner reused = me;  // Same pid, different start time: the pid was reused.
  reused.start_ticks = me.start_ticks - 1;
  CHECK(owner_liveness(reused) == OwnerLiveness::Dead);

  // Another boot under this host name: this machine rebooted, or another machine of the same
  // name (a cloned VM) whose trials are alive. Its heartbeat decides (it was Dead: two such
  // machines re-ran each other's live trials over and over).
  Owner rebooted = me;
  rebooted.boot_id = "another-boot";
  CHECK(owner_liveness(rebooted) == OwnerLiveness::Unknown);

  CHECK(me.pid_ns.rfind("pid:[", 0) == 0);
  Owner contained = dead;  // A dead pid here may be a live one in another container.
  contained.pid_ns = "pid:[1]";
  CHECK(owner_liveness(contained) == OwnerLiveness::Unknown);
  contained.boot_id = "another-boot";
  CHECK(owner_liveness(contained) == OwnerLiveness::Unknown);
  Owner old_record = Owner::from_json(dead.to_json());  // Written before pid_ns: as before.
  old_record.pid_ns.clear();
  CHECK(owner_liveness(old_record) == OwnerLiveness::Dead);

  Owner remote = me;
  remote.host = me.host + "-elsewhere";
  CHECK(owner_liveness(remote) == OwnerLiveness::Unknown);
  CHECK(owner_liveness(Owner::from_json(Json())) == OwnerLiveness::Unknown);
}
