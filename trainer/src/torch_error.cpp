#include "hpt/trainer/torch_error.hpp"

#include <c10/util/Exception.h>

namespace hpt::trainer {

namespace {

// The last non-empty line of text ("" if none).
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) {
    return std::string();
  }
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end + 1 - (start == std::string::npos ? 0 : start + 1));
}

}  // namespace

std::string torch_error_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  const std::string what = c10 != nullptr ? c10->what_without_backtrace() : e.what();
  // An error inside a TorchScript module (its own `raise`, or a failing op) ends, after the
  // interpreter's tracebacks, with the line that says what went wrong.
  if (what.find("Traceback of TorchScript") != std::string::npos) {
    std::string line = last_line(what);
    if (line.rfind("builtins.", 0) == 0) {
      line.erase(0, 9);
    }
    return line;
  }
  if (c10 == nullptr) {
    return what;
  }
  return what.substr(0, what.find('\n'));
}

}  // namespace hpt::trainer
