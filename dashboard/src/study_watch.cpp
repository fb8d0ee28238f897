#include "hpt/dashboard/study_watch.hpp"

#include <cstring>
#include <functional>

namespace hpt::dashboard {
namespace {

void mix(uint64_t& h, uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); }

uint64_t bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

uint64_t time_bits(const std::optional<Clock::time_point>& t) {
  return t ? static_cast<uint64_t>(t->time_since_epoch().count()) : 1;
}

}  // namespace

uint64_t trial_fingerprint(const FrozenTrial& t) {
  uint64_t h = 0;
  mix(h, static_cast<uint64_t>(t.number));
  mix(h, static_cast<uint64_t>(t.state));
  mix(h, t.value ? bits(*t.value) : 2);
  mix(h, time_bits(t.datetime_start));
  mix(h, time_bits(t.datetime_complete));
  mix(h, t.params.size());
  mix(h, t.intermediate_values.size());
  mix(h, t.user_attrs.size());
  mix(h, t.system_attrs.size());
  if (!t.intermediate_values.empty()) {
    mix(h, static_cast<uint64_t>(t.intermediate_values.rbegin()->first));
    mix(h, bits(t.intermediate_values.rbegin()->second));
  }
  if (!is_finished(t.state)) {
    // Running and waiting trials may change anywhere; they are few.
    const std::hash<std::string> text_hash;
    for (const auto& [name, v] : t.params) {
      mix(h, text_hash(name));
      mix(h, bits(v));
    }
    for (const auto* attrs : {&t.user_attrs, &t.system_attrs}) {
      for (const auto& [key, v] : *attrs) {
        mix(h, text_hash(key));
        mix(h, text_hash(v.dump(-1, ' ', false, Json::error_handler_t::replace)));
      }
    }
  }
  return h;
}

bool StudyWatch::update(std::shared_ptr<const std::vector<FrozenTrial>> trials) {
  const uint64_t next = m_revision + 1;
  bool changed = false;
  m_revisions.assign(trials->size(), 0);
  for (size_t i = 0; i < trials->size(); ++i) {
    const FrozenTrial& t = (*trials)[i];
    const uint64_t fp = trial_fingerprint(t);
    auto [it, inserted] = m_seen.try_emplace(t.id, Seen{fp, next});
    if (!inserted && it->second.fingerprint != fp) {
      it->second = Seen{fp, next};
    }
    changed = changed || it->second.revision == next;
    m_revisions[i] = it->second.revision;
  }
  m_trials = std::move(trials);
  if (changed) {
    m_revision = next;
  }
  return changed;
}

std::shared_ptr<const std::vector<FrozenTrial>> StudyWatch::trials() const {
  return m_trials ? m_trials : std::make_shared<const std::vector<FrozenTrial>>();
}

std::vector<size_t> StudyWatch::changed_since(uint64_t since) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < m_revisions.size(); ++i) {
    if (m_revisions[i] > since) {
      out.push_back(i);
    }
  }
  return out;
}

}  // namespace hpt::dashboard
