#pragma once
// Output files written all at once or not at all.

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "hpt/io/file_error.hpp"

namespace hpt {

// A file written through a fresh temporary in the target's folder (mkstemp: O_CREAT|O_EXCL, a
// random name, so a planted symbolic link is never followed), renamed over the target by
// commit(). Until commit() the target is untouched; destroyed uncommitted, the temporary is
// removed. The target gets the mode an existing regular target has, else 0666 & ~umask.
// A target that is a character device or a pipe (/dev/null, /dev/stdout, a FIFO) is written
// in place instead, as a stream; any other kind of file (a block device, a socket) is refused.
// Every failure throws FileError naming the target and the reason.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends bytes to the temporary (throws on a short write: disk full, file-size limit).
  void write(std::string_view bytes);
  // Flushes the temporary to disk and renames it over the target. Call once.
  void commit();
  const std::string& path() const { return m_path; }

 private:
  [[noreturn]] void fail(const std::string& problem);

  std::string m_path;
  std::string m_tmp;
  int m_fd = -1;
};

// Writes bytes to path through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Writes what write puts into a stream to path through an AtomicFile: for libraries that
// write to a std::ostream (torch::save), which would otherwise truncate the target in place
// and write through a symbolic link planted there.
void write_stream_atomically(const std::string& path,
                             const std::function<void(std::ostream&)>& write);

// True if a and b name the same existing file (same device and inode; links followed).
bool same_file(const std::string& a, const std::string& b);

}  // namespace hpt
