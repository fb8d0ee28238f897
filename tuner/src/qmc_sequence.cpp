#include "hpt/tuner/qmc_sequence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "hpt/tuner/param_transform.hpp"
#include "qmc_direction_numbers.hpp"

namespace hpt {

SobolSequence::SobolSequence(size_t dims, Rng* rng) : m_dims(dims), m_shift(dims, 0) {
  if (dims == 0 || dims > k_max_dims) {
    throw std::invalid_argument(
        fmt::format("a Sobol' sequence has 1 to {} dimensions here, not {}", k_max_dims, dims));
  }
  m_v.assign(dims * k_bits, 0);
  for (int j = 0; j < k_bits; ++j) {  // Dimension 1: van der Corput.
    m_v[j] = 1u << (k_bits - 1 - j);
  }
  for (size_t d = 1; d < dims; ++d) {  // Bratley and Fox's recurrence over the polynomial.
    const SobolPolynomial& p = sobol_polynomials()[d - 1];
    int m = 0;  // Its degree: the polynomial's bit length - 1.
    while ((p.poly >> (m + 1)) != 0) {
      ++m;
    }
    uint32_t* v = &m_v[d * k_bits];
    for (int j = 0; j < k_bits; ++j) {
      if (j < m) {
        v[j] = p.init[j];
        continue;
      }
      uint32_t next = v[j - m];
      for (int k = 0; k < m; ++k) {
        if ((p.poly >> (m - 1 - k)) & 1u) {
          next ^= v[j - k - 1] << (k + 1);
        }
      }
      v[j] = next;
    }
    for (int j = 0; j < k_bits; ++j) {  // m_j / 2^j as a k_bits-bit fraction.
      v[j] <<= (k_bits - 1 - j);
    }
  }
  if (rng != nullptr) {
    for (uint32_t& s : m_shift) {
      s = static_cast<uint32_t>((*rng)() >> (64 - k_bits));
    }
  }
}

std::vector<double> SobolSequence::point(uint64_t index) const {
  index &= (uint64_t{1} << k_bits) - 1;
  const uint64_t gray = index ^ (index >> 1);
  std::vector<double> x(m_dims);
  for (size_t d = 0; d < m_dims; ++d) {
    uint32_t bits = m_shift[d];
    for (int j = 0; j < k_bits; ++j) {
      if ((gray >> j) & 1u) {
        bits ^= m_v[d * k_bits + j];
      }
    }
    x[d] = std::ldexp(static_cast<double>(bits), -k_bits);
  }
  return x;
}

HaltonSequence::HaltonSequence(size_t dims, Rng* rng) {
  for (uint32_t candidate = 2; m_bases.size() < dims; ++candidate) {
    if (std::all_of(m_bases.begin(), m_bases.end(),
                    [&](uint32_t p) { return p * p > candidate || candidate % p != 0; })) {
      m_bases.push_back(candidate);
    }
  }
  if (rng != nullptr) {
    for (uint32_t base : m_bases) {
      std::vector<uint32_t> perm(base);
      std::iota(perm.begin(), perm.end(), 0u);
      for (uint32_t i = base - 1; i > 0; --i) {  // Fisher-Yates with hpt's uniform draws.
        const auto j = static_cast<uint32_t>(std::min<double>(i, uniform01(*rng) * (i + 1)));
        std::swap(perm[i], perm[j]);
      }
      m_permutations.push_back(std::move(perm));
    }
  }
}

std::vector<double> HaltonSequence::point(uint64_t index) const {
  std::vector<double> x(m_bases.size());
  for (size_t d = 0; d < m_bases.size(); ++d) {
    const uint32_t base = m_bases[d];
    const double inv = 1.0 / base;
    double scale = inv;
    double value = 0.0;
    uint64_t rest = index;
    // Unscrambled, the digits end with the index's; scrambled, a permuted 0 may not be 0, so
    // digits go on until they no longer change a double.
    while (rest > 0 || (!m_permutations.empty() && scale > 0x1.0p-54)) {
      const auto digit = static_cast<uint32_t>(rest % base);
      value += (m_permutations.empty() ? digit : m_permutations[d][digit]) * scale;
      rest /= base;
      scale *= inv;
    }
    x[d] = std::min(value, std::nextafter(1.0, 0.0));
  }
  return x;
}

}  // namespace hpt
