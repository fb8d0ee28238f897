#include "hpt/io/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

// The process's umask, read without changing it (umask(2) can only set it).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8)) & 0777;
    }
  }
  return 022;
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)) {
  const auto slash = m_path.rfind('/');
  const std::string name = slash == std::string::npos ? m_path : m_path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    fail("names a folder, not a file");
  }
  struct stat st {};
  mode_t mode = 0666 & ~current_umask();
  if (::stat(m_path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      fail("is a directory");
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      // /dev/null, a terminal, a pipe (/dev/stdout): written in place as a stream. A rename
      // would replace the device node (or the link to it) with a regular file.
      m_fd = ::open(m_path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (m_fd < 0) {
        fail(fmt::format("cannot open: {}", std::strerror(errno)));
      }
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      fail("is not a regular file, a character device or a pipe");
    }
    mode = st.st_mode & 07777;
  }
  // A hidden, random name beside the target (kept under NAME_MAX for long names).
  const std::string tmp_name = "." + std::string(utf8_prefix(name, 200)) + ".tmp-XXXXXX";
  std::string tmp = folder_of(m_path) + "/" + tmp_name;
  m_fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (m_fd < 0) {
    fail(fmt::format("cannot create a temporary file in '{}': {}", folder_of(m_path),
                     std::strerror(errno)));
  }
  m_tmp = tmp;
  if (::fchmod(m_fd, mode) != 0) {
    fail(fmt::format("cannot set the mode of '{}': {}", m_tmp, std::strerror(errno)));
  }
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
  }
}

void AtomicFile::fail(const std::string& problem) {
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
    m_tmp.clear();
  }
  throw FileError(fmt::format("{}: {}", m_path, problem));
}

void AtomicFile::write(std::string_view bytes) {
  if (m_fd < 0) {
    fail("written after commit");
  }
  while (!bytes.empty()) {
    const ssize_t n = ::write(m_fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      fail(fmt::format("cannot write: {}", n < 0 ? std::strerror(errno) : "no space written"));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void AtomicFile::commit() {
  if (m_fd < 0) {
    fail("committed twice");
  }
  if (!m_tmp.empty() && ::fsync(m_fd) != 0) {
    fail(fmt::format("cannot write: {}", std::strerror(errno)));
  }
  const int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) {
    fail(fmt::format("cannot write: {}", std::strerror(errno)));
  }
  if (m_tmp.empty()) {
    return;  // Written in place.
  }
  if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    fail(fmt::format("cannot move the new file into place: {}", std::strerror(errno)));
  }
  m_tmp.clear();
  // Best effort: make the rename itself durable.
  const int dir = ::open(folder_of(m_path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void write_stream_atomically(const std::string& path,
                             const std::function<void(std::ostream&)>& write) {
  std::ostringstream bytes;
  write(bytes);
  write_file_atomically(path, bytes.str());
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace hpt
