#pragma once
// Reading an input file that may be anything a user names: a FIFO, a device, a directory,
// a file without end (/dev/zero) or a huge one.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hpt/io/file_error.hpp"

namespace hpt {

// The whole content of the regular file at path (symbolic links followed), at most max_bytes.
// Never blocks on a FIFO or device: throws FileError "path: not a regular file (a FIFO)",
// "path: larger than the limit of N bytes", or "path: cannot open: reason".
std::string read_regular_file(const std::string& path, size_t max_bytes);

// read_regular_file of a file that must lie inside one of folders where it is opened
// (opened_within), else FileError "path: opened outside ...": for paths a less trusted
// process may have planted links in (a trial's files).
std::string read_regular_file(const std::string& path, size_t max_bytes,
                              const std::vector<std::string>& within);

// Throws as read_regular_file does unless path (links followed) is a regular file of at most
// max_bytes; opens nothing. For files a library opens itself (LibTorch's torch::load).
void require_regular_file(const std::string& path, size_t max_bytes = SIZE_MAX);

}  // namespace hpt
