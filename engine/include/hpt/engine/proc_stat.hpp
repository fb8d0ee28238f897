#pragma once
// A process's line in /proc/<pid>/stat, read the one safe way: the command name (field 2) may
// hold spaces and ')', so the fields resume after the last ')'.

#include <string>
#include <vector>

namespace hpt {

// Fields 3, 4, ... of /proc/<pid>/stat (state, ppid, ...; start time is field 22), in order;
// empty if there is no such process.
std::vector<std::string> proc_stat_fields(long pid);

// True if pid exists and is not a zombie waiting to be reaped.
bool process_alive(long pid);

}  // namespace hpt
