#include "trial_cache.hpp"

#include <algorithm>
#include <utility>

#include "hpt/storage/storage.hpp"

namespace hpt {

std::shared_ptr<std::vector<FrozenTrial>> TrialCache::refresh(const Reader& read) {
  bool from_scratch = !m_trials;
  if (!m_trials) {
    m_trials = std::make_shared<std::vector<FrozenTrial>>();
  } else if (m_trials.use_count() > 1) {
    m_trials = std::make_shared<std::vector<FrozenTrial>>(*m_trials);  // Still held outside.
  }
  std::vector<int64_t> reread;  // The unfinished trials, and one finished trial as a probe.
  const FrozenTrial* probe = nullptr;
  for (const auto& t : *m_trials) {
    if (!is_finished(t.state)) {
      reread.push_back(t.id);
    } else if (!probe) {
      probe = &t;
    }
  }
  if (probe) {
    reread.push_back(probe->id);
  }
  Delta delta = read(m_max_id, reread);
  auto& trials = *m_trials;
  bool in_order = true;
  bool probe_holds = !probe;
  for (auto& t : delta.trials) {
    auto it = m_index.find(t.id);
    if (it != m_index.end()) {
      // A finished trial never changes: the probe changed only if the study was deleted and
      // made again (its trials' ids reused: SQLite gives a deleted row's id again).
      const FrozenTrial& cached = trials[it->second];
      if (probe && t.id == probe->id) {
        probe_holds = same_finished_trial(cached, t);
        continue;  // Kept as cached while it holds.
      }
      trials[it->second] = std::move(t);
      continue;
    }
    in_order = in_order && (trials.empty() || trials.back().number < t.number);
    m_max_id = std::max(m_max_id, t.id);
    m_index.emplace(t.id, trials.size());
    trials.push_back(std::move(t));
  }
  if (!from_scratch && (!in_order || !probe_holds || trials.size() != delta.total)) {
    *this = TrialCache{};
    return refresh(read);
  }
  if (!in_order) {
    std::stable_sort(trials.begin(), trials.end(), [](const FrozenTrial& a, const FrozenTrial& b) {
      return a.number < b.number;
    });
    for (size_t i = 0; i < trials.size(); ++i) {
      m_index[trials[i].id] = i;
    }
  }
  return m_trials;
}

bool same_finished_trial(const FrozenTrial& was, const FrozenTrial& now) {
  return now.number == was.number && now.state == was.state &&
         now.datetime_start == was.datetime_start &&
         now.datetime_complete == was.datetime_complete;
}

std::vector<FrozenTrial> trials_in_states(const std::vector<FrozenTrial>& trials,
                                          const std::vector<TrialState>& states) {
  if (states.empty()) {
    return trials;
  }
  std::vector<FrozenTrial> out;
  for (const auto& t : trials) {
    if (std::find(states.begin(), states.end(), t.state) != states.end()) {
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace hpt
