#pragma once
// The GPUs a study hands out (study.gpus): each running trial takes gpus_per_trial devices
// of its own and gives them back when it ends, so trials that run at once never share one.
#include <optional>
#include <string>
#include <vector>

namespace hpt {

class GpuPool {
 public:
  // requires: gpus has no duplicates; 1 <= per_trial <= gpus.size() unless gpus is empty.
  GpuPool(std::vector<int> gpus, int per_trial);

  // False when the study has no GPUs (every acquire then gives an empty set).
  bool enabled() const { return !m_all.empty(); }
  // How many trials can hold devices at once (unbounded: INT_MAX when not enabled).
  int capacity() const;
  // True if acquire() would succeed now.
  bool available() const;
  // Takes per_trial free devices (the lowest ids first); std::nullopt if too few are free.
  // An empty vector when the pool is not enabled.
  std::optional<std::vector<int>> acquire();
  // Gives devices back (ids not taken from this pool are ignored).
  void release(const std::vector<int>& devices);

 private:
  std::vector<int> m_all;
  std::vector<int> m_free;  // Sorted.
  int m_per_trial = 1;
};

// "0,1": the value of CUDA_VISIBLE_DEVICES and HPT_GPUS for devices.
std::string gpu_list(const std::vector<int>& devices);

}  // namespace hpt
