#include "hpt/tuner/step_values.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace hpt {

namespace {

// A chunk past this many entries is split in two: an insertion moves at most this many.
constexpr size_t k_chunk_limit = 1024;

bool step_less(const StepValues::value_type& item, int64_t step) { return item.first < step; }

}  // namespace

StepValues::StepValues(std::initializer_list<value_type> items) {
  for (const auto& [step, value] : items) {
    emplace(step, value);
  }
}

void StepValues::clear() {
  m_chunks.clear();
  m_size = 0;
}

std::pair<size_t, size_t> StepValues::locate(int64_t step) const {
  if (m_chunks.empty()) {
    return {0, 0};
  }
  if (m_chunks.back().back().first < step) {  // The usual case: steps arrive in order.
    return {m_chunks.size() - 1, m_chunks.back().size()};
  }
  // The first chunk whose last step is not below step holds it, or is where it goes.
  const auto chunk = std::lower_bound(m_chunks.begin(), m_chunks.end(), step,
                                      [](const Chunk& c, int64_t s) { return c.back().first < s; });
  const auto index = std::lower_bound(chunk->begin(), chunk->end(), step, step_less);
  return {static_cast<size_t>(chunk - m_chunks.begin()),
          static_cast<size_t>(index - chunk->begin())};
}

StepValues::value_type& StepValues::insert_at(std::pair<size_t, size_t> at, int64_t step,
                                              double value) {
  auto [c, i] = at;
  if (m_chunks.empty()) {
    m_chunks.emplace_back();
  } else if (c == m_chunks.size() - 1 && i == m_chunks[c].size() &&
             m_chunks[c].size() >= k_chunk_limit) {
    m_chunks.emplace_back();  // Appending past a full last chunk: a new one, nothing moved.
    ++c;
    i = 0;
  }
  Chunk& chunk = m_chunks[c];
  chunk.insert(chunk.begin() + static_cast<std::ptrdiff_t>(i), {step, value});
  ++m_size;
  if (chunk.size() > k_chunk_limit) {  // Split in halves; the entry may move to the second.
    const size_t half = chunk.size() / 2;
    Chunk second(chunk.begin() + static_cast<std::ptrdiff_t>(half), chunk.end());
    chunk.resize(half);
    m_chunks.insert(m_chunks.begin() + static_cast<std::ptrdiff_t>(c) + 1, std::move(second));
    if (i >= half) {
      return m_chunks[c + 1][i - half];
    }
  }
  return m_chunks[c][i];
}

StepValues::const_iterator StepValues::lower_bound(int64_t step) const {
  const auto [c, i] = locate(step);
  if (c == m_chunks.size()) {
    return end();
  }
  if (i == m_chunks[c].size()) {  // Beyond this chunk's last: the next chunk's first.
    return {&m_chunks, c + 1, 0};
  }
  return {&m_chunks, c, i};
}

StepValues::const_iterator StepValues::find(int64_t step) const {
  const auto it = lower_bound(step);
  return it != end() && it->first == step ? it : end();
}

double StepValues::at(int64_t step) const {
  const auto it = find(step);
  if (it == end()) {
    throw std::out_of_range("no intermediate value at step " + std::to_string(step));
  }
  return it->second;
}

double& StepValues::operator[](int64_t step) {
  const auto at = locate(step);
  if (at.first < m_chunks.size() && at.second < m_chunks[at.first].size() &&
      m_chunks[at.first][at.second].first == step) {
    return m_chunks[at.first][at.second].second;
  }
  return insert_at(at, step, 0.0).second;
}

bool StepValues::emplace(int64_t step, double value) {
  const auto at = locate(step);
  if (at.first < m_chunks.size() && at.second < m_chunks[at.first].size() &&
      m_chunks[at.first][at.second].first == step) {
    return false;
  }
  insert_at(at, step, value);
  return true;
}

size_t StepValues::erase(int64_t step) {
  const auto [c, i] = locate(step);
  if (c == m_chunks.size() || i == m_chunks[c].size() || m_chunks[c][i].first != step) {
    return 0;
  }
  m_chunks[c].erase(m_chunks[c].begin() + static_cast<std::ptrdiff_t>(i));
  if (m_chunks[c].empty()) {
    m_chunks.erase(m_chunks.begin() + static_cast<std::ptrdiff_t>(c));
  }
  --m_size;
  return 1;
}

bool StepValues::operator==(const StepValues& o) const {
  return m_size == o.m_size && std::equal(begin(), end(), o.begin());
}

}  // namespace hpt
