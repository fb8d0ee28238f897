#pragma once
// What changed in one study between two polls of its database. The Optuna schema has no
// "modified at" column, so the dashboard numbers its own observations: each trial carries the
// revision at which it was last seen to change, and a client asks for the trials changed after
// the revision it already has.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "hpt/storage/storage.hpp"

namespace hpt::dashboard {

class StudyWatch {
 public:
  explicit StudyWatch(StudyInfo study) : m_study(std::move(study)) {}

  // Takes a fresh snapshot of the study's trials (ordered by number): every trial that is new
  // or differs from the last snapshot gets the revision revision() + 1. Returns true if any did.
  bool update(std::shared_ptr<const std::vector<FrozenTrial>> trials);
  // Drops the snapshot (not the revisions), so that the storage can refresh its cache in place.
  void release_snapshot() { m_trials.reset(); }

  const StudyInfo& study() const { return m_study; }
  // Starts at 0 (nothing seen); grows by one per update that saw a change.
  uint64_t revision() const { return m_revision; }
  // The last snapshot (empty before the first update).
  std::shared_ptr<const std::vector<FrozenTrial>> trials() const;
  // Positions in trials() of the trials changed after revision since (all for since = 0).
  std::vector<size_t> changed_since(uint64_t since) const;

 private:
  struct Seen {
    uint64_t fingerprint = 0;
    uint64_t revision = 0;
  };
  StudyInfo m_study;
  std::shared_ptr<const std::vector<FrozenTrial>> m_trials;
  std::unordered_map<int64_t, Seen> m_seen;  // Trial id -> last fingerprint and revision.
  std::vector<uint64_t> m_revisions;         // By position in m_trials.
  uint64_t m_revision = 0;
};

// A hash of what a dashboard shows of a trial: cheap for finished trials (which Optuna never
// changes), over every field for unfinished ones.
uint64_t trial_fingerprint(const FrozenTrial& trial);

}  // namespace hpt::dashboard
