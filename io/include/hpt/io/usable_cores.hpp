#pragma once
// How many CPU cores this process may run on.

namespace hpt {

// The cores in this process's affinity mask (taskset, a cgroup cpuset), else
// std::thread::hardware_concurrency(); at least 1.
int usable_cores();

}  // namespace hpt
