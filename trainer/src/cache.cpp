#include "hpt/trainer/cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/utf8.hpp"
#include "hpt/trainer/torch_error.hpp"

namespace hpt::trainer {

namespace fs = std::filesystem;

namespace {

uint64_t fnv1a(uint64_t h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr uint64_t k_fnv_offset = 0xcbf29ce484222325ULL;

// Holds an exclusive flock on a file for its lifetime (released by the OS on crash too).
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) {
      throw std::runtime_error(fmt::format("cannot open lock file {}", path));
    }
    while (::flock(m_fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(m_fd);
        throw std::runtime_error(fmt::format("cannot lock {}", path));
      }
    }
  }
  ~FileLock() {
    ::flock(m_fd, LOCK_UN);
    ::close(m_fd);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int m_fd = -1;
};

}  // namespace

std::string cache_root() {
  if (const char* dir = std::getenv("HPT_CACHE_DIR"); dir && *dir) {
    return dir;
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.cache/hpt";
  }
  return ".hpt-cache";
}

std::string digest(std::string_view text) {
  return fmt::format("{:016x}", fnv1a(k_fnv_offset, text.data(), text.size()));
}

std::string file_digest(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot read {}: {}", path, ec.message()));
  }
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  std::ifstream in(path, std::ios::binary);
  uint64_t h = k_fnv_offset;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = fnv1a(h, buf.data(), static_cast<size_t>(in.gcount()));
  }
  return fmt::format("{:016x}-{}-{}", h, size, static_cast<long long>(mtime));
}

std::string content_fingerprint(const std::string& file_digest_text) {
  // "<hash>-<size>-<mtime>": the first two fields (the mtime count may itself be negative).
  const size_t first = file_digest_text.find('-');
  const size_t second =
      first == std::string::npos ? std::string::npos : file_digest_text.find('-', first + 1);
  return second == std::string::npos ? "" : file_digest_text.substr(0, second);
}

void check_saved_file(const std::string& file, const std::string& recorded) {
  const std::string now = content_fingerprint(file_digest(file));
  if (now != recorded) {
    throw std::runtime_error(fmt::format(
        "{}: not the file saved with this model.json (fingerprint {}, model.json records {}): "
        "another run's? put back the one trained with it",
        file, now, recorded));
  }
}

bool ensure_cached(const std::string& path, const std::function<void()>& build,
                   const std::function<void(std::ostream&)>& save,
                   const std::function<void(const std::string&)>& read, std::ostream& log) {
  // Why read(path) failed; nullopt when it succeeded.
  const auto read_problem = [&]() -> std::optional<std::string> {
    try {
      read(path);
      return std::nullopt;
    } catch (const std::exception& e) {
      return torch_error_line(e);
    }
  };
  if (fs::exists(path) && !read_problem()) {
    return true;
  }
  fs::create_directories(fs::path(path).parent_path());
  FileLock lock(path + ".lock");
  // Another worker may have finished (or rebuilt) it while we waited; only the lock holder
  // removes an entry, so none is removed while another worker renames or reads it.
  if (fs::exists(path)) {
    const auto problem = read_problem();
    if (!problem) {
      return true;
    }
    log << fmt::format("warning: unreadable cache file {} ({}): removed, rebuilding it\n", path,
                       hpt::utf8_prefix(*problem, 200));
    fs::remove(path);
  }
  build();
  try {
    write_stream_atomically(path, save);
  } catch (const FileError& e) {
    log << fmt::format("warning: cannot cache it: {}; going on without it\n",
                       hpt::utf8_prefix(e.what(), 300));
  }
  return false;
}

}  // namespace hpt::trainer
