#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).

#include <cstdlib>

#include "hpt/trainer/cpu_threads.hpp"

using namespace hpt::trainer;

TEST_CASE("use_cpu_threads sets LibTorch's threads and single-threads OpenBLAS", "[threads]") {
  const int before = torch::get_num_threads();
  ::unsetenv("OPENBLAS_NUM_THREADS");
  // scripts/install-deps.sh installs OpenBLAS (libopenblas0-pthread) as the system BLAS.
  INFO("this process's BLAS is not OpenBLAS");
  REQUIRE(blas_threads() > 0);
  CHECK(use_cpu_threads(1));
  CHECK(torch::get_num_threads() == 1);
  CHECK(blas_threads() == 1);
  CHECK(use_cpu_threads(0));  // 0 keeps LibTorch's threads as they are.
  CHECK(torch::get_num_threads() == 1);
  // A user's OPENBLAS_NUM_THREADS decides: left alone.
  ::setenv("OPENBLAS_NUM_THREADS", "2", 1);
  CHECK_FALSE(use_cpu_threads(0));
  ::unsetenv("OPENBLAS_NUM_THREADS");
  torch::set_num_threads(before);
}
