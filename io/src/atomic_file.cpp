#include "hpt/io/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <tuple>

#include "hpt/io/stop_signals.hpp"
#include "hpt/io/unique_fd.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

constexpr const auto& k_deferred_signals = k_stop_signal_numbers;

// The SignalDeferral guards alive in the process, the dispositions they replaced (the default
// ones only) and the signals their handler caught meanwhile.
std::mutex g_deferral_mutex;
int g_deferrals = 0;
std::array<struct sigaction, k_deferred_signals.size()> g_replaced_actions{};
std::array<bool, k_deferred_signals.size()> g_replaced{};
std::array<volatile std::sig_atomic_t, k_deferred_signals.size()> g_caught{};

extern "C" void note_deferred_signal(int sig) {
  for (size_t i = 0; i < k_deferred_signals.size(); ++i) {
    if (k_deferred_signals[i] == sig) {
      g_caught[i] = 1;
    }
  }
}

// Another thread may take a signal this one blocks: where its action is the default (the
// process ends), it is caught instead, to be raised again by the last guard.
void catch_default_signals() {
  for (size_t i = 0; i < k_deferred_signals.size(); ++i) {
    struct sigaction& old = g_replaced_actions[i];
    ::sigaction(k_deferred_signals[i], nullptr, &old);
    g_replaced[i] = (old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL;
    if (g_replaced[i]) {
      struct sigaction sa {};
      sa.sa_handler = note_deferred_signal;
      sa.sa_flags = SA_RESTART;
      sigfillset(&sa.sa_mask);
      ::sigaction(k_deferred_signals[i], &sa, nullptr);
    }
  }
}

// Restores the default dispositions and raises each caught signal in this thread, where it
// stays pending until the thread's old mask is restored.
void release_default_signals() {
  for (size_t i = 0; i < k_deferred_signals.size(); ++i) {
    if (g_replaced[i]) {
      ::sigaction(k_deferred_signals[i], &g_replaced_actions[i], nullptr);
      g_replaced[i] = false;
    }
    if (g_caught[i] != 0) {
      g_caught[i] = 0;
      ::pthread_kill(::pthread_self(), k_deferred_signals[i]);
    }
  }
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Best effort: makes the renames in folder durable.
void sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// This host's name, letters and digits only (others become '_'), at most 32 characters.
std::string host_tag() {
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  std::string tag;
  for (const char* c = host.data(); *c != '\0' && tag.size() < 32; ++c) {
    tag += std::isalnum(static_cast<unsigned char>(*c)) != 0 ? *c : '_';
  }
  return tag;
}

// "<prefix><host>-": a writer's temporaries are named "<prefix><host>-<pid>-<random>".
std::string writer_prefix(const std::string& prefix) { return prefix + host_tag() + "-"; }

// Removes the folders of dir named writer_prefix(prefix) + "<pid>-…" that their writer left
// (killed with -9 while it wrote): no such process here, no writer holds the folder's lock
// (lock_folder: a live writer in another PID namespace of this host name does), and over a
// minute old. Never another host's (a shared filesystem).
void remove_dead_writers(const std::string& dir, const std::string& prefix) {
  const std::string ours = writer_prefix(prefix);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    struct stat st {};
    if (name.rfind(ours, 0) != 0 || ::lstat(entry.path().c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode) || st.st_mtime > std::time(nullptr) - 60) {
      continue;
    }
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + ours.size(), &end, 10);
    if (pid <= 0 || *end != '-' || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
      continue;
    }
    const UniqueFd fd(
        ::open(entry.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid() && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

// Opens folder and holds a shared lock on it while the descriptor is open (flock: seen from
// any PID namespace); none when it cannot be opened.
UniqueFd lock_folder(const std::string& folder) {
  UniqueFd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) {
    ::flock(fd.get(), LOCK_SH | LOCK_NB);
  }
  return fd;
}

// A fresh folder "<dir>/<prefix>.tmp-<host>-<pid>-XXXXXX" (mkdtemp: mode 0700, a random name).
std::string make_temporary_folder(const std::string& dir, const std::string& prefix) {
  // The host and pid name the writer, so that a later run can tell the leftover of one killed
  // with -9 (this host, no such process) from a live writer's (remove_dead_stagings).
  std::string tmp = fmt::format("{}/{}{}-XXXXXX", dir, writer_prefix(prefix + ".tmp-"), ::getpid());
  if (::mkdtemp(tmp.data()) == nullptr) {
    throw FileError(
        fmt::format("{}: cannot create a temporary folder: {}", dir, std::strerror(errno)));
  }
  return tmp;
}

// The kind of file at path, links not followed; 0 when there is none.
mode_t file_kind(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

// The entries of staging in the order they move into place: key last.
std::vector<std::string> staged_names(const std::string& staging, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(staging)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  std::stable_partition(out.begin(), out.end(), [&](const std::string& n) { return n != key; });
  return out;
}

// The earlier set: the entries of dir named key, in names or in staged, in the order they move
// out (key first). Throws FileError for a folder among them (never removed as a set's file).
std::vector<std::string> earlier_names(const std::string& dir, const std::string& key,
                                       const std::vector<std::string>& names,
                                       const std::vector<std::string>& staged) {
  std::vector<std::string> all = {key};
  all.insert(all.end(), names.begin(), names.end());
  all.insert(all.end(), staged.begin(), staged.end());
  std::vector<std::string> out;
  for (const auto& name : all) {
    const mode_t kind = file_kind(dir + "/" + name);
    if (kind == S_IFDIR) {
      throw FileError(fmt::format("{}: '{}' is a folder, not a file", dir, name));
    }
    if (kind != 0 && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  }
  return out;
}

// The renames made so far, undone in reverse order by undo().
class Renames {
 public:
  // Renames from to to; throws FileError naming dir, the entry and the reason.
  void move(const std::string& dir, const std::string& name, const std::string& from,
            const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      throw FileError(
          fmt::format("{}: cannot move '{}' into place: {}", dir, name, std::strerror(errno)));
    }
    m_done.emplace_back(from, to);
  }
  // Whether every rename was undone.
  bool undo() {
    bool ok = true;
    for (auto it = m_done.rbegin(); it != m_done.rend(); ++it) {
      ok &= ::rename(it->second.c_str(), it->first.c_str()) == 0;
    }
    m_done.clear();
    return ok;
  }

 private:
  std::vector<std::pair<std::string, std::string>> m_done;
};

// Whether path, or a symbolic link on the way from it, names a file descriptor (/dev/fd/N,
// /proc/<self, thread-self or a pid>/fd/N; /dev/stdout is a link to /proc/self/fd/1): the
// caller's own stream, which a rename would replace with a regular file (as root, /dev/stdout
// itself) while the stream got nothing. Other paths under /proc (/proc/self/cwd/out.html)
// name files like any other.
bool names_descriptor(std::string path) {
  static const std::regex k_descriptor(
      R"((/dev/fd|/proc/(self|thread-self|\d+(/task/\d+)?)/fd)/\d+)");
  for (int hop = 0; hop < 40; ++hop) {
    if (std::regex_match(path, k_descriptor)) {
      return true;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      return false;
    }
    std::array<char, 4096> target{};
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size() - 1);
    if (n <= 0) {
      return false;
    }
    const std::string hop_target(target.data(), static_cast<size_t>(n));
    path = hop_target[0] == '/' ? hop_target : folder_of(path) + "/" + hop_target;
  }
  return false;
}

}  // namespace

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

SignalDeferral::SignalDeferral() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : k_deferred_signals) {
    sigaddset(&set, sig);
  }
  ::pthread_sigmask(SIG_BLOCK, &set, &m_old_mask);
  const std::lock_guard<std::mutex> lock(g_deferral_mutex);
  if (g_deferrals++ == 0) {
    catch_default_signals();
  }
}

SignalDeferral::~SignalDeferral() {
  {
    const std::lock_guard<std::mutex> lock(g_deferral_mutex);
    if (--g_deferrals == 0) {
      release_default_signals();
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
}

namespace {

// The start of the temporaries' names beside path: "<dir>/.<name, cut to 180 bytes>.tmp-".
std::pair<std::string, std::string> temporary_prefix(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return {folder_of(path), "." + std::string(utf8_prefix(name, 180)) + ".tmp-"};
}

// The byte a writer locks in its temporary while its descriptor is open (an OFD lock: held by
// the open file, so any process on any host sharing the folder, in any PID namespace, sees it):
// far beyond any file's end and beyond SQLite's own lock bytes (at 1 GiB), so a temporary
// database keeps it while SQLite locks the file as usual.
constexpr off_t k_writer_lock_byte = off_t{1} << 62;

// Takes the writer's lock (type F_WRLCK) on fd, or a lock that conflicts with it (F_RDLCK, on a
// descriptor opened read-only); false when another open file holds the writer's lock.
bool lock_writer_byte(int fd, short type = F_WRLCK) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = k_writer_lock_byte;
  lock.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

// Whether rest, a file name after its temporary prefix, is make_temporary_beside's
// "<host tag>-<pid>-<6 letters or digits>" (a side file, "…-wal", is not: it goes with its own).
bool temporary_name(const std::string& rest) {
  static const std::regex name("[A-Za-z0-9_]{1,32}-[0-9]+-[A-Za-z0-9]{6}");
  return std::regex_match(rest, name);
}

// Removes dir's temporaries named prefix + temporary_name that no writer holds, with their side
// files: their writer's lock is free (a writer killed with -9 left them; a live one holds it)
// and they are over a minute old (one being made is locked at once). Regular files only.
void remove_abandoned_temporaries(const std::string& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    struct stat st {};
    if (name.rfind(prefix, 0) != 0 || !temporary_name(name.substr(prefix.size())) ||
        ::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_mtime > std::time(nullptr) - 60) {
      continue;
    }
    // Read-only (a temporary takes its target's mode: 0444 for a read-only one); a read lock
    // conflicts with the writer's write lock as well.
    const UniqueFd fd(::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid() && lock_writer_byte(fd.get(), F_RDLCK)) {
      for (const char* suffix : k_sqlite_side_suffixes) {
        ::unlink((entry.path().string() + suffix).c_str());
      }
      ::unlink(entry.path().c_str());
    }
  }
}

}  // namespace

std::pair<std::string, int> make_temporary_beside(const std::string& path) {
  const auto [dir, prefix] = temporary_prefix(path);
  remove_abandoned_temporaries(dir, prefix);
  std::string tmp = fmt::format("{}/{}{}-XXXXXX", dir, writer_prefix(prefix), ::getpid());
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    throw FileError(
        fmt::format("cannot create a temporary file in '{}': {}", dir, std::strerror(errno)));
  }
  lock_writer_byte(fd);  // Fresh: nobody else can hold it.
  return {tmp, fd};
}

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)) {
  const auto slash = m_path.rfind('/');
  const std::string name = slash == std::string::npos ? m_path : m_path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    fail("names a folder, not a file");
  }
  if (names_descriptor(m_path)) {
    // Written in place, appended as the stream's own writes would be (a `>>` redirection).
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (m_fd < 0) {
      fail(fmt::format("cannot open: {}", std::strerror(errno)));
    }
    return;
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
  m_deferral.emplace();
  try {
    std::tie(m_tmp, m_fd) = make_temporary_beside(m_path);
  } catch (const FileError& e) {
    fail(e.what());
  }
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
}  // m_deferral ends last: a signal acts once the temporary is gone.

void AtomicFile::fail(const std::string& problem) {
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
    m_tmp.clear();
  }
  m_deferral.reset();
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
  // A copy keeps the writer's lock until the rename: once the temporary's descriptors are all
  // closed, another writer's make_temporary_beside may take it for abandoned.
  const UniqueFd keep_until_renamed(m_tmp.empty() ? -1 : ::dup(fd));
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
  sync_folder(folder_of(m_path));
  m_deferral.reset();
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

namespace {

// A stream buffer writing through an AtomicFile that keeps the first write failure (a full
// disk) for finish() and drops what comes after it, so that the stream's user never sees one:
// LibTorch's archive writer, told of a short write, throws from its destructor on the next
// (std::terminate).
class AtomicFileBuf : public std::streambuf {
 public:
  explicit AtomicFileBuf(AtomicFile& file) : m_file(file), m_buffer(size_t{1} << 16) {
    setp(m_buffer.data(), m_buffer.data() + m_buffer.size());
  }
  // Writes what is buffered; throws the first failure.
  void finish() {
    drain();
    if (m_error) {
      std::rethrow_exception(m_error);
    }
  }

 protected:
  int_type overflow(int_type c) override {
    drain();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n < epptr() - pptr()) {
      return std::streambuf::xsputn(s, n);
    }
    drain();
    put({s, static_cast<size_t>(n)});  // A large block goes straight to the file.
    return n;
  }
  int sync() override {
    drain();
    return 0;
  }

 private:
  void drain() {
    put({pbase(), static_cast<size_t>(pptr() - pbase())});
    setp(m_buffer.data(), m_buffer.data() + m_buffer.size());
  }
  void put(std::string_view bytes) {
    if (m_error || bytes.empty()) {
      return;
    }
    try {
      m_file.write(bytes);
    } catch (...) {
      m_error = std::current_exception();
    }
  }

  AtomicFile& m_file;
  std::vector<char> m_buffer;
  std::exception_ptr m_error;
};

}  // namespace

void write_stream_atomically(const std::string& path,
                             const std::function<void(std::ostream&)>& write) {
  AtomicFile file(path);
  AtomicFileBuf buffer(file);
  std::ostream out(&buffer);
  write(out);
  buffer.finish();
  file.commit();
}

AtomicFileSet::AtomicFileSet(std::string dir, std::string key, std::vector<std::string> names)
    : m_dir(std::move(dir)), m_key(std::move(key)), m_names(std::move(names)) {
  // The staging folders of writers killed with -9; the earlier sets that a commit moved aside
  // (".old.tmp-…") are left for the user.
  remove_dead_writers(m_dir, ".new.tmp-");
  m_staging = make_temporary_folder(m_dir, ".new");
  m_staging_lock = lock_folder(m_staging);
}

AtomicFileSet::~AtomicFileSet() {
  if (!m_staging.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(m_staging, ec);
  }
}  // m_staging_lock closes after: the folder is gone by then.

void AtomicFileSet::write(const std::function<void(const std::string& folder)>& write_files) {
  try {
    write_files(m_staging);
  } catch (const FileError& e) {
    std::string message = e.what();
    for (size_t at = 0; (at = message.find(m_staging, at)) != std::string::npos;) {
      message.replace(at, m_staging.size(), m_dir);
      at += m_dir.size();
    }
    throw FileError(message);
  }
}

void AtomicFileSet::commit() {
  if (m_staging.empty()) {
    throw FileError(m_dir + ": committed twice");
  }
  // One commit into dir at a time (an flock on the folder itself, which leaves no file
  // behind): two writers' renames interleaved left one's key over the other's files, or failed
  // on a file the other had just moved aside.
  const UniqueFd dir_lock(::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  while (dir_lock.valid() && ::flock(dir_lock.get(), LOCK_EX) != 0 && errno == EINTR) {
  }
  const std::vector<std::string> staged = staged_names(m_staging, m_key);
  const std::vector<std::string> earlier = earlier_names(m_dir, m_key, m_names, staged);
  const std::string old = make_temporary_folder(m_dir, ".old");
  Renames renames;
  try {
    for (const auto& name : earlier) {
      renames.move(m_dir, name, m_dir + "/" + name, old + "/" + name);
    }
    for (const auto& name : staged) {
      renames.move(m_dir, name, m_staging + "/" + name, m_dir + "/" + name);
    }
  } catch (const FileError& e) {
    if (!renames.undo() || ::rmdir(old.c_str()) != 0) {
      throw FileError(fmt::format("{} (the earlier files are in '{}')", e.what(), old));
    }
    throw;
  }
  sync_folder(m_dir);
  std::error_code ec;
  std::filesystem::remove_all(old, ec);
  ::rmdir(m_staging.c_str());
  m_staging.clear();
  m_deferral.reset();
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace hpt
