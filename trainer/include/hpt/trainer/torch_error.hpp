#pragma once
// LibTorch's errors as one line: c10::Error appends a C++ backtrace ("Exception raised from
// ... frame #0: ...") that no user should see.

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace hpt::trainer {

// The first line of a c10::Error's message without its backtrace; for an error raised inside
// a TorchScript module (any exception type), the last line after its TorchScript tracebacks
// ("RuntimeError: boom"); the first non-empty line of e.what() for any other exception (a
// TorchScript compilation error starts with a blank line and quotes the module's source).
std::string torch_error_line(const std::exception& e);

// text when it is at most max_bytes long, else cut after its last whole word that fits and
// ended with "..." (at most max_bytes + 3 bytes; a first word longer than max_bytes is cut
// where a UTF-8 character ends): how a LibTorch message is kept short in hpt's one-line errors.
std::string shortened(std::string_view text, size_t max_bytes);

}  // namespace hpt::trainer
