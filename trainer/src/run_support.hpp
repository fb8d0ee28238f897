#pragma once
// Small helpers shared by the trainer's loop, extractor builds and whole runs (internal).

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "hpt/tuner/rng.hpp"

namespace hpt::trainer {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// An independent seed for (seed, stream): hpt's one seed derivation (hpt/tuner/rng.hpp).
inline uint64_t seed_for(uint64_t seed, std::string_view stream) {
  return hpt::derive_seed(seed, 0, stream);
}

inline std::vector<int64_t> to_vector(const torch::Tensor& labels) {
  auto l = labels.to(torch::kInt64).contiguous();
  return {l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel()};
}

inline bool is_images(const torch::Tensor& inputs) { return inputs.scalar_type() == torch::kUInt8; }

// Scores of pairs (higher = more similar): negated distances.
inline std::vector<double> scores_of(const std::vector<double>& distances) {
  std::vector<double> s(distances.size());
  std::transform(distances.begin(), distances.end(), s.begin(), [](double v) { return -v; });
  return s;
}

}  // namespace hpt::trainer
