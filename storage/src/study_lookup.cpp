#include "hpt/storage/study_lookup.hpp"

#include <stdexcept>
#include <vector>

#include "hpt/io/terminal_text.hpp"

namespace hpt {

namespace {

std::string study_list(const std::vector<StudyInfo>& studies) {
  std::string out;
  for (const StudyInfo& s : studies) {
    out += (out.empty() ? "" : ", ") + terminal_text(s.name);  // A NUL would end the message.
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
