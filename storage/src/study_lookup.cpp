#include "hpt/storage/study_lookup.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "hpt/io/terminal_text.hpp"
#include "hpt/io/utf8.hpp"

namespace hpt {

namespace {

// The studies' names for a one-line message: each cut to 80 bytes, at most 20 of them (a
// 3,000-character name another tool wrote, or thousands of studies, made a screenful).
std::string study_list(const std::vector<StudyInfo>& studies) {
  constexpr size_t k_names = 20;
  constexpr size_t k_bytes = 80;
  std::string out;
  for (size_t i = 0; i < studies.size() && i < k_names; ++i) {
    // terminal_text: a NUL would end the message.
    out += (out.empty() ? "" : ", ") + terminal_text(shortened(studies[i].name, k_bytes));
  }
  if (studies.size() > k_names) {
    out += " and " + std::to_string(studies.size() - k_names) + " more (hpt studies lists them)";
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

StudyInfo resolve_study(Storage& storage, const std::string& study_name) {
  if (study_name.empty()) {
    const std::vector<StudyInfo> studies = storage.list_studies();
    if (studies.size() == 1) {
      return studies[0];
    }
    throw std::invalid_argument(
        studies.empty() ? std::string("the database has no study")
                        : "the database has " + std::to_string(studies.size()) +
                              " studies; choose one with --study: " + study_list(studies));
  }
  if (auto found = storage.find_study(study_name)) {
    return *found;
  }
  throw std::invalid_argument("no study named '" + terminal_text(study_name) +
                              "'; available studies: " + study_list(storage.list_studies()));
}

}  // namespace hpt
