#pragma once
// The one error type of hpt::io: a file that cannot be read or written as asked. The
// message is one line naming the path and the problem.

#include <stdexcept>

namespace hpt {

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hpt
