#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "hpt/io/folder.hpp"
#include "support/temp_dir.hpp"

using namespace hpt;
namespace fs = std::filesystem;

// A folder to write in: an existing writable one, or a new one under a writable parent. A
// file, a path under a file and a folder nobody may write are named with the culprit.
TEST_CASE("folder_problem", "[io][folder]") {
  test::TempDir dir("folder");
  std::ofstream(dir.file("a-file")) << "x";
  CHECK(folder_problem(dir.file("a-file")) ==
        "'" + dir.file("a-file") + "' exists and is not a folder");
  CHECK(folder_problem(dir.file("a-file/run")) == "cannot create '" + dir.file("a-file/run") +
                                                      "': '" + dir.file("a-file") +
                                                      "' is not a folder");
  CHECK(folder_problem(dir.file("new/nested/run")).empty());
  CHECK(folder_problem(dir.path().string()).empty());
  if (::geteuid() != 0) {  // root may write anywhere.
    fs::create_directory(dir.file("locked"));
    fs::permissions(dir.file("locked"), fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THAT(folder_problem(dir.file("locked/run")), Catch::Contains("not writable"));
    fs::permissions(dir.file("locked"), fs::perms::owner_all);
  }
  // Even for root (whom access() answers yes): /proc takes no folder; the probe leaves nothing.
  if (fs::is_directory("/proc/self")) {
    CHECK(folder_problem("/proc/hpt-trials/s") ==
          "cannot create '/proc/hpt-trials/s': folder '/proc' is not writable");
  }
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  // A umask that takes the owner's permissions (umask 277) makes a folder its owner cannot
  // fill: said before anything is made (a study made its database, then failed on its own
  // trials folder). An existing folder is judged as it is.
  const mode_t old_mask = ::umask(0277);
  const std::string under_mask = folder_problem(dir.file("masked/run"));
  const std::string existing = folder_problem(dir.path().string());
  ::umask(old_mask);
  CHECK(under_mask == "cannot create '" + dir.file("masked/run") +
                          "': the umask 0277 takes the owner's permissions from new folders "
                          "(umask 022 or 077 keeps them)");
  CHECK(existing.empty());
  CHECK_FALSE(fs::exists(dir.file("masked")));
  // A path beyond PATH_MAX (a runaway $HPT_CACHE_DIR) is named, cut, with the system's reason;
  // it passed, and the first use failed with a bare "filesystem error: status: ...".
  std::string deep = dir.path().string();
  while (deep.size() < 5000) {
    deep += "/" + std::string(200, 'd');
  }
  CHECK(folder_problem(deep) == "'" + deep.substr(0, 200) + "...' (" + std::to_string(deep.size()) +
                                    " bytes): File name too long");
}

// A relative folder once the working folder is deleted (`cd x; rmdir ../x`, HOME unset: the
// cache's .hpt-cache) is said as that; it read "'.hpt-cache' is not a folder".
TEST_CASE("folder_problem in a deleted working folder", "[io][folder]") {
  test::TempDir dir("folder-cwd");
  fs::create_directory(dir.file("gone"));
  const pid_t child = ::fork();
  if (child == 0) {
    const bool ok = ::chdir(dir.file("gone").c_str()) == 0 &&
                    ::rmdir(dir.file("gone").c_str()) == 0 &&
                    folder_problem(".hpt-cache") ==
                        "cannot use '.hpt-cache': the working folder was deleted (cd to an "
                        "existing one)" &&
                    folder_problem(dir.file("abs")).empty();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// A dangling symbolic link or a loop of them, as the folder or one of its missing parents, is
// refused up front naming it (it passed, and creating the folder failed after the whole run
// with "cannot create directories: File exists").
TEST_CASE("folder_problem names dangling links and link loops", "[io][folder]") {
  test::TempDir dir("folder");
  fs::create_symlink(dir.file("nowhere"), dir.file("dangling"));
  fs::create_symlink(dir.file("loop"), dir.file("loop"));
  CHECK(folder_problem(dir.file("dangling")) ==
        "'" + dir.file("dangling") + "' is a dangling symbolic link");
  CHECK(folder_problem(dir.file("loop")) == "'" + dir.file("loop") + "' is a symbolic link loop");
  CHECK(folder_problem(dir.file("dangling/quad")) == "cannot create '" + dir.file("dangling/quad") +
                                                         "': '" + dir.file("dangling") +
                                                         "' is a dangling symbolic link");
  CHECK(folder_problem(dir.file("loop/a/b")) == "cannot create '" + dir.file("loop/a/b") + "': '" +
                                                    dir.file("loop") + "' is a symbolic link loop");
  CHECK_THROWS_WITH(create_folder(dir.file("dangling/quad")),
                    Catch::EndsWith("is a dangling symbolic link"));
  CHECK_FALSE(fs::exists(dir.file("nowhere")));
  fs::create_directory(dir.file("real"));
  fs::create_symlink(dir.file("real"), dir.file("good"));
  CHECK(folder_problem(dir.file("good")).empty());  // A link to a folder is that folder.
  CHECK(folder_problem(dir.file("good/new")).empty());
}

// create_folder makes the missing parents, accepts an existing folder, and refuses with
// folder_problem's line (nothing created) otherwise.
TEST_CASE("create_folder", "[io][folder]") {
  test::TempDir dir("folder");
  create_folder(dir.file("a/b/c"));
  CHECK(fs::is_directory(dir.file("a/b/c")));
  CHECK_NOTHROW(create_folder(dir.file("a/b/c")));
  std::ofstream(dir.file("study_trials")) << "x";
  CHECK_THROWS_WITH(create_folder(dir.file("study_trials/s")),
                    "cannot create '" + dir.file("study_trials/s") + "': '" +
                        dir.file("study_trials") + "' is not a folder");
  CHECK(fs::is_regular_file(dir.file("study_trials")));
}

// Where a path leads decides, not how it is spelled: "..", a linked folder, the folder itself.
TEST_CASE("path_within and resolved_path", "[io]") {
  hpt::test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "data" / "cat");
  std::filesystem::create_directories(dir.path() / "elsewhere");
  std::filesystem::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "data" / "l");
  const std::string data = (dir.path() / "data").string();
  CHECK(hpt::path_within(data, data));
  CHECK(hpt::path_within(data + "/cat/new/1.log", data));  // Not there yet.
  CHECK(hpt::path_within(data + "/x/../cat", data));
  CHECK_FALSE(hpt::path_within(data + "/../elsewhere/1.log", data));
  CHECK_FALSE(hpt::path_within(data + "/l/1.log", data));  // The link leads out.
  CHECK_FALSE(hpt::path_within(data + "-other", data));
  CHECK(hpt::resolved_path(data + "/l/x") ==
        hpt::resolved_path((dir.path() / "elsewhere" / "x").string()));
  CHECK(hpt::resolved_path(data + "/l/x").find("/l/") == std::string::npos);
  CHECK(std::filesystem::path(hpt::resolved_path("rel")).is_absolute());
}

// Where an open file lies is the kernel's word for it: a folder of its path swapped for a link
// to elsewhere after a check of the path (a planted race) is caught after the open.
TEST_CASE("opened_within", "[io][folder]") {
  hpt::test::TempDir dir;
  fs::create_directories(dir.path() / "trusted" / "study");
  fs::create_directories(dir.path() / "secret");
  std::ofstream(dir.path() / "trusted" / "study" / "1.log") << "mine\n";
  std::ofstream(dir.path() / "secret" / "1.log") << "not yours\n";
  const std::vector<std::string> trusted = {(dir.path() / "trusted").string()};
  const auto opened = [&](const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const bool within = hpt::opened_within(fd, trusted);
    ::close(fd);
    return within;
  };
  const fs::path log = dir.path() / "trusted" / "study" / "1.log";
  CHECK(opened(log));
  fs::rename(dir.path() / "trusted" / "study", dir.path() / "trusted" / "was");
  fs::create_directory_symlink(dir.path() / "secret", dir.path() / "trusted" / "study");
  CHECK_FALSE(opened(log));  // The same path, now through the link.
  CHECK_FALSE(hpt::opened_within(-1, trusted));
  CHECK_FALSE(hpt::opened_within(0, {}));
}

// A link (or a chain of them, relative or absolute) leads to the file it names, which need not
// exist; a plain path and a loop of links stay as they are.
TEST_CASE("link_target", "[io][folder]") {
  hpt::test::TempDir dir;
  const fs::path d = dir.path();
  fs::create_directories(d / "sub");
  std::ofstream(d / "sub" / "s.db") << "x";
  fs::create_symlink("sub/s.db", d / "a.db");
  fs::create_symlink(d / "a.db", d / "b.db");
  fs::create_symlink("gone.db", d / "dangling.db");
  fs::create_symlink("loop2", d / "loop1");
  fs::create_symlink("loop1", d / "loop2");
  CHECK(hpt::link_target((d / "a.db").string()) == (d / "sub" / "s.db").string());
  CHECK(hpt::link_target((d / "b.db").string()) == (d / "sub" / "s.db").string());
  CHECK(hpt::link_target((d / "dangling.db").string()) == (d / "gone.db").string());
  CHECK(hpt::link_target((d / "sub" / "s.db").string()) == (d / "sub" / "s.db").string());
  CHECK(hpt::link_target("no/such/file.db") == "no/such/file.db");
  CHECK_FALSE(hpt::link_target((d / "loop1").string()).empty());  // Ends after 40 hops.
}
