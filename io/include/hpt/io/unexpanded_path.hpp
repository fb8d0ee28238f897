#pragma once
// Paths written as a shell's text that no shell expanded: a config file's paths (and flags a
// script quoted) reach hpt as written, so "~/runs/study.db" would name a folder called "~".

#include <string>

namespace hpt {

// Why path looks like shell text left unexpanded ("" when it does not): a leading "~" (or
// "~user"), or a "$NAME" / "${NAME}" anywhere. One line, naming what to give instead.
std::string unexpanded_path_problem(const std::string& path);

}  // namespace hpt
