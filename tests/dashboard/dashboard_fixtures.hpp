#pragma once
// A study database on disk, written through the real SQLite storage, for the dashboard tests.

#include <memory>
#include <string>

#include "../reports/study_fixtures.hpp"
#include "hpt/storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace hpt::test {

// A temporary database holding study "alpha" (n mixed trials) and an empty study "beta".
struct StudyDb {
  explicit StudyDb(int n = 20) {
    writer = open_storage(path());
    alpha = writer->create_study("alpha", Direction::Minimize);
    writer->create_study("beta", Direction::Maximize);
    for (const auto& t : mixed_study(n)) {
      writer->create_trial(alpha, t);
    }
  }
  std::string path() const { return (dir.path() / "study.db").string(); }
  // A RUNNING trial numbered number (claimed the way an orchestrator claims it).
  FrozenTrial claim() {
    auto claim = writer->claim_trial(alpha, 1 << 30, Json::object(),
                                     [](const FrozenTrial&) { return false; });
    return claim->trial;
  }

  TempDir dir;
  std::unique_ptr<Storage> writer;
  int64_t alpha = -1;
};

}  // namespace hpt::test
