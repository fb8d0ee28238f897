#pragma once
// A file-size limit (ulimit -f) for one test's scope: the process's RLIMIT_FSIZE soft limit
// lowered to `bytes` with SIGXFSZ ignored, as hpt's and hpt-train's main ignore it, so that a
// write past it fails with EFBIG (a full disk alike) instead of ending the test. Both are
// restored on destruction.
#include <sys/resource.h>

#include <csignal>
#include <stdexcept>

namespace hpt::test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) : m_old_action(std::signal(SIGXFSZ, SIG_IGN)) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_FSIZE, &m_old) != 0) {
      throw std::runtime_error("getrlimit(RLIMIT_FSIZE) failed");
    }
    limit = m_old;
    limit.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
    }
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &m_old);
    std::signal(SIGXFSZ, m_old_action);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  void (*m_old_action)(int);
  rlimit m_old{};
};

}  // namespace hpt::test
