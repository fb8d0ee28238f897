#include "support/temp_dir.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace hpt::test {

TempDir::TempDir(const std::string& label) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/hpt-" + label + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + templ);
  }
  m_path = templ;
}

std::string TempDir::script(const std::string& name, const std::string& body) const {
  const std::string path = file(name);
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TempDir::~TempDir() {
  std::error_code ec;
  // A test may leave read-only folders behind: make them removable first.
  for (auto it = std::filesystem::recursive_directory_iterator(m_path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    }
  }
  std::filesystem::permissions(m_path, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(m_path, ec);
}

std::string process_temp_dir(const std::string& label) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<TempDir>> dirs;  // Removed at exit.
  std::lock_guard<std::mutex> lock(mutex);
  dirs.push_back(std::make_unique<TempDir>(label));
  return dirs.back()->path().string();
}

}  // namespace hpt::test
