#include <fmt/format.h>

#include <cstdlib>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/io/usable_cores.hpp"
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

// An OMP_NUM_THREADS that is no thread count (100000 crashed the trainer with SIGSEGV) gives
// LibTorch the usable cores and a warning naming it; a good one, or none, changes nothing.
TEST_CASE("guard_omp_threads_env", "[threads]") {
  const int before = torch::get_num_threads();
  const char* user = std::getenv("OMP_NUM_THREADS");
  const std::string saved = user != nullptr ? user : "";
  torch::set_num_threads(1);
  ::setenv("OMP_NUM_THREADS", "3", 1);
  CHECK(guard_omp_threads_env().empty());
  ::unsetenv("OMP_NUM_THREADS");
  CHECK(guard_omp_threads_env().empty());
  CHECK(torch::get_num_threads() == 1);
  for (const char* bad : {"100000", "", "lots", "0", "1025", "4,2", " 4"}) {
    torch::set_num_threads(1);
    ::setenv("OMP_NUM_THREADS", bad, 1);
    CHECK(guard_omp_threads_env() ==
          fmt::format("OMP_NUM_THREADS={} is not a thread count from 1 to 1024: using {} threads "
                      "(the usable cores)",
                      bad, hpt::usable_cores()));
    CHECK(torch::get_num_threads() == hpt::usable_cores());
  }
  ::setenv("OMP_NUM_THREADS", "1024", 1);
  CHECK(hpt::omp_threads_env().threads == 1024);
  if (user != nullptr) {
    ::setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_NUM_THREADS");
  }
  torch::set_num_threads(before);
}
