#pragma once
// Internal to the storage backends: the in-process cache of a study's trials behind
// get_all_trials and trials_snapshot.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "hpt/tuner/trial.hpp"

namespace hpt {

// The trials of one study as last read, ordered by number. Trial ids only grow and
// finished trials never change, so a refresh reads only the trials unfinished at the last
// refresh and the new ones, and one finished trial as a probe: a study deleted and made again
// reuses its trials' ids (SQLite), and the probe found changed reads all again.
class TrialCache {
 public:
  // What a refresh read: the trials with id > max_id or id in reread, ordered by number, and
  // the count of all the study's trials.
  struct Delta {
    std::vector<FrozenTrial> trials;
    size_t total = 0;
  };
  using Reader = std::function<Delta(int64_t max_id, const std::vector<int64_t>& reread)>;

  // Brings the cache up to date with read and returns its trials. Copy-on-write: a vector
  // still held by a caller is copied first, never changed. When the delta does not fit
  // (numbers out of order, trials deleted, the probe changed), reads all again.
  std::shared_ptr<std::vector<FrozenTrial>> refresh(const Reader& read);

  // The trials as last refreshed; null before the first refresh.
  const std::shared_ptr<std::vector<FrozenTrial>>& trials() const { return m_trials; }

 private:
  std::shared_ptr<std::vector<FrozenTrial>> m_trials;
  std::unordered_map<int64_t, size_t> m_index;  // Trial id -> position.
  int64_t m_max_id = 0;
};

// The trials whose state is one of states (a copy of all of them if states is empty).
std::vector<FrozenTrial> trials_in_states(const std::vector<FrozenTrial>& trials,
                                          const std::vector<TrialState>& states);

}  // namespace hpt
