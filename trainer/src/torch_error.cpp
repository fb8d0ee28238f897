#include "hpt/trainer/torch_error.hpp"

#include <c10/util/Exception.h>

#include "hpt/io/utf8.hpp"

namespace hpt::trainer {

namespace {

constexpr const char* k_blank = "\r\n \t";

// The last non-empty line of text ("" if none).
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of(k_blank);
  if (end == std::string::npos) {
    return std::string();
  }
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end + 1 - (start == std::string::npos ? 0 : start + 1));
}

// The first non-empty line of text, without its trailing blanks ("" if none).
std::string first_line(const std::string& text) {
  const size_t start = text.find_first_not_of(k_blank);
  if (start == std::string::npos) {
    return std::string();
  }
  const size_t end = text.find_first_of("\r\n", start);
  const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
  return line.substr(0, line.find_last_not_of(k_blank) + 1);
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
  return first_line(what);
}

std::string shortened(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  const std::string_view fits = text.substr(0, max_bytes + 1);  // A space just after counts.
  const size_t space = fits.find_last_of(' ');
  std::string_view kept = space == std::string_view::npos || space == 0
                              ? hpt::utf8_prefix(text, max_bytes)
                              : text.substr(0, space);
  kept = kept.substr(0, kept.find_last_not_of(" ,;:") + 1);
  return std::string(kept) + "...";
}

}  // namespace hpt::trainer
