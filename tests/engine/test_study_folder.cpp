#include <catch2/catch.hpp>
#include <set>

#include "hpt/engine/study_folder.hpp"

using namespace hpt;

// Plain names are kept; anything else becomes a safe name with a hash, inside trials_dir.
TEST_CASE("study folder: safe, readable, unique", "[study_folder]") {
  CHECK(study_folder_name("quad") == "quad");
  CHECK(study_folder_name("fashion_mnist-v2.1") == "fashion_mnist-v2.1");
  const std::vector<std::string> hostile{"../../x",
                                         "/etc/passwd",
                                         "..",
                                         ".",
                                         "",
                                         "a/b",
                                         "a b",
                                         "-rf",
                                         ".hidden",
                                         std::string(5000, 'n'),
                                         "caf\xc3\xa9",
                                         std::string("a\0b", 3),
                                         "a_b",
                                         "x\ny"};
  std::set<std::string> seen;
  for (const auto& name : hostile) {
    const std::string f = study_folder_name(name);
    INFO(name);
    CHECK_FALSE(f.empty());
    CHECK(f != ".");
    CHECK(f != "..");
    CHECK(f.find('/') == std::string::npos);
    CHECK(f.find('\0') == std::string::npos);
    CHECK(f.size() <= 113);
    CHECK(f[0] != '.');
    CHECK(seen.insert(f).second);  // Distinct names, distinct folders.
  }
  CHECK(study_folder_name("../../x").rfind("_._.._x~", 0) == 0);  // The readable part stays.
  // A plain name can never take the folder of a changed one ('~' is never kept).
  CHECK(study_folder_name("a b") != study_folder_name(study_folder_name("a b")));
  CHECK(study_folder_name("a b") == study_folder_name("a b"));  // Stable.
}
