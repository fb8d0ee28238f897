#include "hpt/io/regular_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hpt/io/folder.hpp"

namespace hpt {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "not a file";
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw FileError(fmt::format("{}: {}", path, problem));
}

void check_regular(const std::string& path, const struct stat& st, size_t max_bytes) {
  if (!S_ISREG(st.st_mode)) {
    fail(path, fmt::format("not a regular file ({})", kind_of(st.st_mode)));
  }
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    fail(path, fmt::format("larger than the limit of {} bytes", max_bytes));
  }
}

}  // namespace

void require_regular_file(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  check_regular(path, st, max_bytes);
}

std::string read_regular_file(const std::string& path, size_t max_bytes) {
  return read_regular_file(path, max_bytes, {});
}

std::string read_regular_file(const std::string& path, size_t max_bytes,
                              const std::vector<std::string>& within) {
  // stat first, so that a device is never opened (opening some has side effects)...
  require_regular_file(path, max_bytes);
  struct stat st {};
  // ...and open without blocking, so that a FIFO swapped in meanwhile cannot hang us.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) {
    fail(path, fmt::format("cannot read: {}", std::strerror(errno)));
  }
  check_regular(path, st, max_bytes);
  if (!within.empty() && !opened_within(fd, within)) {
    fail(path, fmt::format("opened outside {}", fmt::join(within, ", ")));
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail(path, fmt::format("cannot read: {}", std::strerror(errno)));
    }
    if (n == 0) {
      return text;
    }
    if (text.size() + static_cast<size_t>(n) > max_bytes) {  // It grew while we read it.
      fail(path, fmt::format("larger than the limit of {} bytes", max_bytes));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace hpt
