#pragma once
// Output files written all at once or not at all.

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpt/io/file_error.hpp"
#include "hpt/io/unique_fd.hpp"

namespace hpt {

// Defers SIGINT, SIGTERM, SIGHUP and SIGQUIT while it lives: blocks them in this thread and,
// where a signal would end the process (its default action), catches it in every other thread
// too; on destruction the dispositions and this thread's mask are restored and a caught signal
// is raised again. An output written meanwhile is complete or absent, never a temporary left
// behind by Ctrl-C. Guards nest, in one thread or several.
class SignalDeferral {
 public:
  SignalDeferral();
  ~SignalDeferral();
  SignalDeferral(const SignalDeferral&) = delete;
  SignalDeferral& operator=(const SignalDeferral&) = delete;

 private:
  sigset_t m_old_mask;
};

// The process's umask, read without changing it (umask(2) can only set it, and not for one
// thread alone).
mode_t current_umask();

// The files SQLite keeps beside a database file, by suffix: its write-ahead log, the log's
// shared-memory index and the rollback journal.
inline constexpr std::array<const char*, 3> k_sqlite_side_suffixes = {"-wal", "-shm", "-journal"};

// A fresh hidden temporary file beside path, "<dir>/.<name>.tmp-<host>-<pid>-<random>" (the name
// cut to stay under NAME_MAX with room for a suffix such as SQLite's "-journal"; mkostemp:
// O_EXCL, mode 0600, close-on-exec), and its open descriptor, which holds the writer's lock
// (an OFD lock on a byte far past the end) until it is closed. The temporaries beside path
// that no writer holds any more (kill -9), over a minute old, are removed first, with their
// SQLite side files (a temporary database's -wal): a live writer's never, whatever its host or
// PID namespace. Throws FileError naming the folder.
std::pair<std::string, int> make_temporary_beside(const std::string& path);

// A file written through a fresh temporary in the target's folder (mkstemp: O_CREAT|O_EXCL, a
// random name, so a planted symbolic link is never followed), renamed over the target by
// commit(). Until commit() the target is untouched; destroyed uncommitted, the temporary is
// removed. The target gets the mode an existing regular target has, else 0666 & ~umask.
// A target that is a character device or a pipe (/dev/null, /dev/stdout, a FIFO) is written
// in place instead, as a stream; so is a file descriptor's path (/proc/self/fd/N, /dev/fd/N, or
// a link to one such as /dev/stdout: `-o /dev/stdout > out.html` fills out.html, appending);
// any other kind of file (a block device, a socket) is refused.
// From the temporary's creation until it is renamed or removed, signals are deferred
// (SignalDeferral). Every failure throws FileError naming the target and the reason.
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
  std::optional<SignalDeferral> m_deferral;  // While m_tmp exists.
};

// Writes bytes to path through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Writes what write puts into a stream to path through an AtomicFile, as it comes (not held
// in memory): for libraries that write to a std::ostream (torch::save), which would otherwise
// truncate the target in place and write through a symbolic link planted there. The stream
// never fails: a failed write (a full disk) is thrown once write returns, and the target is
// left as it was.
void write_stream_atomically(const std::string& path,
                             const std::function<void(std::ostream&)>& write);

// A set of files that replaces an earlier set in the folder dir all at once. The files are
// written into staging(), a fresh hidden folder inside dir (".new.tmp-XXXXXX", mkdtemp);
// commit() moves the earlier set (the entries of dir named in `names` or staged) into a second
// hidden folder, key first, moves the staged files into dir, key last, and removes the earlier
// set. A reader that finds the key file (model.json) finds one whole set, never a mix; the
// other entries of dir are left alone. Commits into one folder take turns (an flock on it): of
// two writers at once, the later set replaces the earlier whole. Until commit() dir is
// untouched; a failure in commit()
// moves the earlier set back; destroyed uncommitted, the staging folder is removed with its
// contents. Signals are deferred (SignalDeferral) while the staging folder exists. Throws
// FileError naming dir and the reason.
class AtomicFileSet {
 public:
  AtomicFileSet(std::string dir, std::string key, std::vector<std::string> names);
  ~AtomicFileSet();
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;

  // The folder to write the new set into.
  const std::string& staging() const { return m_staging; }
  // Calls write_files(staging()); a FileError it throws names the file in dir, not in the
  // staging folder ("out/cnn.pt: cannot write: …").
  void write(const std::function<void(const std::string& folder)>& write_files);
  // Swaps the staged files in for the earlier set. Call once.
  void commit();

 private:
  // Made first, destroyed last; ended by commit(): lives as long as the staging folder.
  std::optional<SignalDeferral> m_deferral{std::in_place};
  std::string m_dir;
  std::string m_key;
  std::vector<std::string> m_names;
  std::string m_staging;
  UniqueFd m_staging_lock;  // The staging folder's lock (see remove_dead_writers).
};

// True if a and b name the same existing file (same device and inode; links followed).
bool same_file(const std::string& a, const std::string& b);

}  // namespace hpt
