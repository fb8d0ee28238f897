#include "trial_cache.hpp"

#include <algorithm>
#include <utility>

namespace hpt {

std::shared_ptr<std::vector<FrozenTrial>> TrialCache::refresh(const Reader& read) {
  bool from_scratch = !m_trials;
  if (!m_trials) {
    m_trials = std::make_shared<std::vector<FrozenTrial>>();
  } else if (m_trials.use_count() > 1) {
    m_trials = std::make_shared<std::vector<FrozenTrial>>(*m_trials);  // Still held outside.
  }
  std::vector<int64_t> unfinished;
  for (const auto& t : *m_trials) {
    if (!is_finished(t.state)) {
      unfinished.push_back(t.id);
    }
  }
  Delta delta = read(m_max_id, unfinished);
  auto& trials = *m_trials;
  bool in_order = true;
  for (auto& t : delta.trials) {
    auto it = m_index.find(t.id);
    if (it != m_index.end()) {
      trials[it->second] = std::move(t);
      continue;
    }
    in_order = in_order && (trials.empty() || trials.back().number < t.number);
    m_max_id = std::max(m_max_id, t.id);
    m_index.emplace(t.id, trials.size());
    trials.push_back(std::move(t));
  }
  if (!from_scratch && (!in_order || trials.size() != delta.total)) {
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
