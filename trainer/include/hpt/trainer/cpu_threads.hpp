#pragma once
// The trainer's CPU threads: LibTorch's intra-op pool does the parallel work, and BLAS calls
// run on the thread that makes them.

#include <cstdint>

namespace hpt::trainer {

// Sets LibTorch's intra-op threads to `threads` (0 keeps LibTorch's default) and, unless the
// environment sets OPENBLAS_NUM_THREADS, makes OpenBLAS single-threaded: its own thread pool
// competes with LibTorch's OpenMP threads for the same cores (bench/trainer on 2 cores: the
// autograd head step 3.6x faster, end to end +11%). Returns whether OpenBLAS's thread count
// was set (false when this process's BLAS is not OpenBLAS or the environment decides).
bool use_cpu_threads(int64_t threads);

// OpenBLAS's thread count, or 0 when this process's BLAS is not OpenBLAS.
int blas_threads();

}  // namespace hpt::trainer
