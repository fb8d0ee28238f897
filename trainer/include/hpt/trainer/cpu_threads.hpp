#pragma once
// The trainer's CPU threads: LibTorch's intra-op pool does the parallel work, and BLAS calls
// run on the thread that makes them.

#include <cstdint>
#include <string>

namespace hpt::trainer {

// Sets LibTorch's intra-op threads to `threads` (0 keeps LibTorch's default) and, unless the
// environment sets OPENBLAS_NUM_THREADS, makes OpenBLAS single-threaded: its own thread pool
// competes with LibTorch's OpenMP threads for the same cores (bench/trainer on 2 cores: the
// autograd head step 3.6x faster, end to end +11%). Returns whether OpenBLAS's thread count
// was set (false when this process's BLAS is not OpenBLAS or the environment decides).
bool use_cpu_threads(int64_t threads);

// When the environment's OMP_NUM_THREADS is no thread count (omp_threads_env: "100000" made
// LibTorch's OpenMP crash the process, "lots" left it to OpenMP's guess), sets LibTorch's
// threads to the usable cores and returns the warning to show; else "" and changes nothing.
// hpt-train calls it first, before any parallel work.
std::string guard_omp_threads_env();

// OpenBLAS's thread count, or 0 when this process's BLAS is not OpenBLAS.
int blas_threads();

}  // namespace hpt::trainer
