#include "hpt/trainer/batch_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

namespace hpt::trainer {

PkSampler::PkSampler(const std::vector<int64_t>& labels, int64_t classes_per_batch,
                     int64_t images_per_class, uint64_t seed)
    : m_p(classes_per_batch), m_k(images_per_class), m_rng(seed) {
  if (classes_per_batch < 1 || images_per_class < 1) {
    throw std::invalid_argument(fmt::format("PkSampler: P and K must be >= 1, got {} x {}",
                                            classes_per_batch, images_per_class));
  }
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      throw std::invalid_argument(fmt::format("PkSampler: negative label {}", labels[i]));
    }
    by_class[labels[i]].push_back(static_cast<int64_t>(i));
  }
  if (by_class.empty()) {
    throw std::invalid_argument("PkSampler: no labels");
  }
  for (auto& [label, members] : by_class) {
    std::shuffle(members.begin(), members.end(), m_rng);
    m_members.push_back(std::move(members));
  }
  m_cursor.assign(m_members.size(), 0);
  m_class_order.resize(m_members.size());
  std::iota(m_class_order.begin(), m_class_order.end(), 0);
  std::shuffle(m_class_order.begin(), m_class_order.end(), m_rng);
  m_p = std::min<int64_t>(m_p, static_cast<int64_t>(m_members.size()));
}

std::vector<int64_t> PkSampler::next() {
  std::vector<int64_t> batch;
  batch.reserve(static_cast<size_t>(m_p * m_k));
  std::vector<size_t> chosen;
  while (static_cast<int64_t>(chosen.size()) < m_p) {
    if (m_class_cursor == m_class_order.size()) {
      std::shuffle(m_class_order.begin(), m_class_order.end(), m_rng);
      m_class_cursor = 0;
    }
    const size_t c = m_class_order[m_class_cursor++];
    if (std::find(chosen.begin(), chosen.end(), c) == chosen.end()) {
      chosen.push_back(c);
    }
  }
  for (size_t c : chosen) {
    auto& members = m_members[c];
    if (static_cast<int64_t>(members.size()) < m_k) {
      std::uniform_int_distribution<size_t> pick(0, members.size() - 1);
      for (int64_t k = 0; k < m_k; ++k) {
        batch.push_back(members[pick(m_rng)]);
      }
      continue;
    }
    for (int64_t k = 0; k < m_k; ++k) {
      if (m_cursor[c] == members.size()) {
        std::shuffle(members.begin(), members.end(), m_rng);
        m_cursor[c] = 0;
      }
      batch.push_back(members[m_cursor[c]++]);
    }
  }
  return batch;
}

}  // namespace hpt::trainer
