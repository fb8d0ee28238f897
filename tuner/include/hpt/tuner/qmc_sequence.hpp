#pragma once
// Low-discrepancy sequences for the QMC sampler: Sobol' and Halton points, equal to SciPy's
// qmc.Sobol and qmc.Halton unscrambled, and scrambled by a seeded randomisation.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hpt/tuner/rng.hpp"

namespace hpt {

class SobolSequence {
 public:
  static constexpr size_t k_max_dims = 128;  // The direction numbers hpt carries.
  static constexpr int k_bits = 30;          // SciPy's: points 0 .. 2^30 - 1.

  // Throws std::invalid_argument for 0 or more than k_max_dims dimensions. With rng, the
  // sequence is scrambled by a random digital shift (each coordinate's bits XORed with a random
  // word), which keeps its net structure.
  explicit SobolSequence(size_t dims, Rng* rng = nullptr);
  // Point index in [0, 1)^dims (index taken modulo 2^30), by its Gray code.
  std::vector<double> point(uint64_t index) const;

 private:
  size_t m_dims;
  std::vector<uint32_t> m_v;      // Direction numbers, dims × k_bits.
  std::vector<uint32_t> m_shift;  // Per coordinate; zeros when unscrambled.
};

class HaltonSequence {
 public:
  // Coordinate i is the radical inverse in the i-th prime. With rng, each coordinate's digits go
  // through one random permutation of its base's digits, the same at every digit position
  // (Braaten and Weller's scrambling; SciPy draws one per position).
  explicit HaltonSequence(size_t dims, Rng* rng = nullptr);
  std::vector<double> point(uint64_t index) const;

 private:
  std::vector<uint32_t> m_bases;
  std::vector<std::vector<uint32_t>> m_permutations;  // Empty when unscrambled.
};

}  // namespace hpt
