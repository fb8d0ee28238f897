#include "hpt/io/folder.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace fs = std::filesystem;

namespace {

// Why the symbolic link p (shown as shown) leads nowhere ("" when p is no link, or one that
// leads to something): it is dangling, or a loop of links.
std::string link_problem(const fs::path& p, const std::string& shown) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(p, ec))) {
    return "";
  }
  if (fs::exists(fs::status(p, ec))) {
    return "";
  }
  return ec.value() == ELOOP ? fmt::format("'{}' is a symbolic link loop", shown)
                             : fmt::format("'{}' is a dangling symbolic link", shown);
}

}  // namespace

std::string folder_problem(const std::string& path) {
  std::error_code ec;
  if (path.empty() || path.front() != '/') {
    std::array<char, 4096> cwd{};
    if (::getcwd(cwd.data(), cwd.size()) == nullptr && errno == ENOENT) {
      return fmt::format("cannot use '{}': the working folder was deleted (cd to an existing one)",
                         path);
    }
  }
  fs::path p = path.empty() ? fs::path(".") : fs::path(path);
  if (std::string problem = link_problem(p, path); !problem.empty()) {
    return problem;
  }
  const bool exists = fs::exists(p, ec);
  if (ec == std::errc::filename_too_long) {  // Beyond PATH_MAX or NAME_MAX.
    return fmt::format("'{}' ({} bytes): {}", shortened(path, 200), path.size(), ec.message());
  }
  if (!exists) {
    p = fs::absolute(p, ec).lexically_normal();
    while (!fs::exists(p, ec) && p.has_parent_path() && p.parent_path() != p) {
      p = p.parent_path();
      if (std::string problem = link_problem(p, p.string()); !problem.empty()) {
        return fmt::format("cannot create '{}': {}", path, problem);
      }
    }
  }
  if (!fs::is_directory(p, ec)) {
    return exists ? fmt::format("'{}' exists and is not a folder", path)
                  : fmt::format("cannot create '{}': '{}' is not a folder", path, p.string());
  }
  if (const mode_t mask = current_umask(); !exists && (mask & S_IRWXU) != 0) {
    // A folder made now would refuse its own owner: the next level, or the first file, fails.
    return fmt::format(
        "cannot create '{}': the umask {:04o} takes the owner's permissions from new folders "
        "(umask 022 or 077 keeps them)",
        path, mask);
  }
  // access() says yes to root everywhere but on a read-only mount, /proc and /sys included:
  // a folder made and removed at once is the answer that holds.
  std::string probe = (p / ".hpt-probe-XXXXXX").string();
  const bool made = ::access(p.c_str(), W_OK | X_OK) == 0 && ::mkdtemp(probe.data()) != nullptr;
  if (!made) {
    return exists
               ? fmt::format("folder '{}' is not writable", path)
               : fmt::format("cannot create '{}': folder '{}' is not writable", path, p.string());
  }
  ::rmdir(probe.c_str());
  return "";
}

std::string resolved_path(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return (ec ? fs::absolute(path, ec).lexically_normal() : p).string();
}

std::string link_target(const std::string& path) {
  std::error_code ec;
  fs::path p = path;
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) {
      break;
    }
    p = (to.is_absolute() ? to : p.parent_path() / to).lexically_normal();
  }
  return p.string();
}

bool path_within(const std::string& path, const std::string& folder) {
  const std::filesystem::path rel =
      std::filesystem::path(resolved_path(path)).lexically_relative(resolved_path(folder));
  return !rel.empty() && *rel.begin() != "..";
}

bool path_within_any(const std::string& path, const std::vector<std::string>& folders) {
  return std::any_of(folders.begin(), folders.end(),
                     [&](const std::string& folder) { return path_within(path, folder); });
}

bool opened_within(int fd, const std::vector<std::string>& folders) {
  std::error_code ec;
  const std::filesystem::path opened =
      std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  return !ec && path_within_any(opened.string(), folders);
}

void create_folder(const std::string& path) {
  if (const std::string problem = folder_problem(path); !problem.empty()) {
    throw FileError(problem);
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    throw FileError(fmt::format("cannot create folder '{}': {}", path, ec.message()));
  }
}

}  // namespace hpt
