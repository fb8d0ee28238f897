#include "hpt/trainer/cpu_threads.hpp"

#include <dlfcn.h>
#include <torch/torch.h>

#include <cstdlib>

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

int blas_threads() {
  auto* get = openblas_function<int()>("openblas_get_num_threads");
  return get == nullptr ? 0 : get();
}

}  // namespace hpt::trainer
