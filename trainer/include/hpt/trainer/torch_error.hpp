#pragma once
// LibTorch's errors as one line: c10::Error appends a C++ backtrace ("Exception raised from
// ... frame #0: ...") that no user should see.

#include <exception>
#include <string>

namespace hpt::trainer {

// The first line of a c10::Error's message without its backtrace; for an error raised inside
// a TorchScript module (any exception type), the last line after its TorchScript tracebacks
// ("RuntimeError: boom"); e.what() for any other exception.
std::string torch_error_line(const std::exception& e);

}  // namespace hpt::trainer
