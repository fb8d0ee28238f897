#pragma once
// The tests' one temporary folder: a fresh directory under $TMPDIR (or /tmp) with a name
// no other test process can take (mkdtemp), so `ctest -j` runs never collide. Removed with
// its contents, read-only parts included, on destruction.
#include <filesystem>
#include <string>

namespace hpt::test {

class TempDir {
 public:
  // Creates $TMPDIR/hpt-<label>-XXXXXX. Throws std::runtime_error if it cannot.
  explicit TempDir(const std::string& label = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  // The path of name inside the folder (nothing is created).
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  // An executable shell script name in the folder running body (after "#!/bin/sh"): a stand-in
  // for a program hpt starts. Returns its path.
  std::string script(const std::string& name, const std::string& body) const;

 private:
  std::filesystem::path m_path;
};

// A fresh TempDir that lives until the test process exits (for fixtures built once and
// shared by a process's tests); its path.
std::string process_temp_dir(const std::string& label);

}  // namespace hpt::test
