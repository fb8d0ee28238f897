#pragma once
// How many CPU cores this process may run on, and how many threads the environment asks for.

#include <optional>
#include <string>

namespace hpt {

// The most CPU threads one hpt process uses (the experiment key `threads`' ceiling).
constexpr int k_max_cpu_threads = 1024;

// The cores in this process's affinity mask (taskset, a cgroup cpuset), else
// std::thread::hardware_concurrency(); at least 1.
int usable_cores();

// What the environment's OMP_NUM_THREADS asks of a process's threads (OpenMP, so LibTorch and
// NumPy, read it when they load).
struct OmpThreadsEnv {
  std::optional<int> threads;  // Set to a whole number in [1, k_max_cpu_threads].
  std::string problem;         // Set to anything else ("", "lots", "0", "100000", "4,2"): why
                               // hpt does not take it ("OMP_NUM_THREADS=100000 is not ...").
};
OmpThreadsEnv omp_threads_env();

}  // namespace hpt
