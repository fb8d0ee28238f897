#pragma once
// Internal to the QMC sampler: the data behind Sobol' sequences.

#include <cstdint>
#include <vector>

namespace hpt {

struct SobolPolynomial {
  uint32_t poly;               // The primitive polynomial's coefficients as bits.
  std::vector<uint32_t> init;  // Its initial direction numbers m_1 .. m_degree.
};

// Dimensions 2 .. 1 + size(): see qmc_direction_numbers.cpp.
const std::vector<SobolPolynomial>& sobol_polynomials();

}  // namespace hpt
