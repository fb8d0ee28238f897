#pragma once
// Output folders a user names (hpt train --out, a study's database folder, its trials folder):
// checked before any work, so that a wrong path fails first, in one line.

#include <string>
#include <vector>

#include "hpt/io/file_error.hpp"

namespace hpt {

// Why path cannot be (or become) a folder to write in ("" when it can): an existing path must
// be a writable folder (links followed), else its nearest existing parent must be one; a
// dangling symbolic link or a loop of them, at path or a missing parent, is named as such.
std::string folder_problem(const std::string& path);

// Makes path and its missing parents. Throws FileError "path: problem" (folder_problem's, or
// the system's reason) when it cannot.
void create_folder(const std::string& path);

// path made absolute with its symbolic links and ".." resolved as far as it exists: where a
// path leads, not how it is spelled.
std::string resolved_path(const std::string& path);

// The file a symbolic link at path names, following a chain of links (at most 40), whether or
// not that file exists; path itself when it is not a link. Relative targets are taken from
// their link's folder. Only the last component is followed: the folders are left as spelled.
std::string link_target(const std::string& path);

// Whether path is folder or lies inside it, both resolved (resolved_path).
bool path_within(const std::string& path, const std::string& folder);
// Whether path lies within one of folders (path_within).
bool path_within_any(const std::string& path, const std::vector<std::string>& folders);

// Whether the file open at fd lies inside one of folders, by where the kernel found it
// (/proc/self/fd): checked after opening, a folder of the path swapped for a symbolic link
// between a check of the path and the open cannot lead outside.
bool opened_within(int fd, const std::vector<std::string>& folders);

}  // namespace hpt
