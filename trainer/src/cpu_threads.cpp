#include "hpt/trainer/cpu_threads.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>

#include "hpt/io/usable_cores.hpp"

namespace hpt::trainer {

namespace {

// An OpenBLAS function by name (LibTorch links the system BLAS; the symbol is there only when
// that BLAS is OpenBLAS), or nullptr.
template <class F>
F* openblas_function(const char* name) {
  return reinterpret_cast<F*>(::dlsym(RTLD_DEFAULT, name));
}

}  // namespace

bool use_cpu_threads(int64_t threads) {
  if (threads > 0) {
    torch::set_num_threads(static_cast<int>(threads));
  }
  auto* set = openblas_function<void(int)>("openblas_set_num_threads");
  if (set == nullptr || std::getenv("OPENBLAS_NUM_THREADS") != nullptr) {
    return false;
  }
  set(1);
  return true;
}

std::string guard_omp_threads_env() {
  const auto omp = omp_threads_env();
  if (omp.problem.empty()) {
    return "";
  }
  torch::set_num_threads(usable_cores());
  return fmt::format("{}: using {} threads (the usable cores)", omp.problem, usable_cores());
}

int blas_threads() {
  auto* get = openblas_function<int()>("openblas_get_num_threads");
  return get == nullptr ? 0 : get();
}

}  // namespace hpt::trainer
