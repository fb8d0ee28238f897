#include "hpt/engine/gpu_pool.hpp"

#include <algorithm>
#include <climits>

namespace hpt {

GpuPool::GpuPool(std::vector<int> gpus, int per_trial)
    : m_all(std::move(gpus)), m_per_trial(std::max(per_trial, 1)) {
  m_free = m_all;
  std::sort(m_free.begin(), m_free.end());
}

int GpuPool::capacity() const {
  return enabled() ? static_cast<int>(m_all.size()) / m_per_trial : INT_MAX;
}

bool GpuPool::available() const {
  return !enabled() || static_cast<int>(m_free.size()) >= m_per_trial;
}

std::optional<std::vector<int>> GpuPool::acquire() {
  if (!enabled()) {
    return std::vector<int>{};
  }
  if (!available()) {
    return std::nullopt;
  }
  std::vector<int> taken(m_free.begin(), m_free.begin() + m_per_trial);
  m_free.erase(m_free.begin(), m_free.begin() + m_per_trial);
  return taken;
}

void GpuPool::release(const std::vector<int>& devices) {
  for (int d : devices) {
    const bool ours = std::find(m_all.begin(), m_all.end(), d) != m_all.end();
    if (ours && std::find(m_free.begin(), m_free.end(), d) == m_free.end()) {
      m_free.insert(std::upper_bound(m_free.begin(), m_free.end(), d), d);
    }
  }
}

std::string gpu_list(const std::vector<int>& devices) {
  std::string out;
  for (int d : devices) {
    out += (out.empty() ? "" : ",") + std::to_string(d);
  }
  return out;
}

}  // namespace hpt
