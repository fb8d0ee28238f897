#include "hpt/trainer/torch_error.hpp"

#include <c10/util/Exception.h>

namespace hpt::trainer {

std::string torch_error_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  if (c10 == nullptr) {
    return e.what();
  }
  const std::string what = c10->what_without_backtrace();
  return what.substr(0, what.find('\n'));
}

}  // namespace hpt::trainer
