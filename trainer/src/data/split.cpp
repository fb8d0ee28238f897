#include "hpt/trainer/split.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "hpt/tuner/rng.hpp"

namespace hpt::trainer {
namespace {

// Uniform integer in [0, n) from one 64-bit draw (multiply-shift; platform-independent).
uint64_t draw_below(Rng& rng, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

}  // namespace

std::vector<std::vector<int64_t>> stratified_split(const std::vector<int64_t>& labels,
                                                   int64_t num_classes,
                                                   const std::vector<double>& fractions,
                                                   uint64_t seed) {
  double total_fraction = 0.0;
  for (double f : fractions) {
    if (!(f >= 0.0)) {
      throw std::invalid_argument(fmt::format("split fraction must be >= 0, got {}", f));
    }
    total_fraction += f;
  }
  if (total_fraction > 1.0 + 1e-9) {
    throw std::invalid_argument(
        fmt::format("split fractions must sum to at most 1, got {}", total_fraction));
  }
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw std::invalid_argument(
          fmt::format("label {} at index {} is outside [0, {})", labels[i], i, num_classes));
    }
    members[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }
  // Shuffle every class with its own stream, so one class's size never shifts another's.
  for (size_t c = 0; c < members.size(); ++c) {
    Rng rng(derive_seed(seed, static_cast<int64_t>(c), "data.split"));
    auto& m = members[c];
    for (size_t i = m.size(); i > 1; --i) {
      std::swap(m[i - 1], m[draw_below(rng, i)]);
    }
  }

  const auto n = static_cast<double>(labels.size());
  std::vector<std::vector<int64_t>> parts(fractions.size() + 1);
  std::vector<size_t> taken(members.size(), 0);
  for (size_t j = 0; j < fractions.size(); ++j) {
    // Largest remainder: floors of every class's quota, then +1 by descending remainder.
    const auto target = static_cast<int64_t>(std::llround(n * fractions[j]));
    std::vector<size_t> count(members.size());
    std::vector<double> remainder(members.size());
    int64_t assigned = 0;
    for (size_t c = 0; c < members.size(); ++c) {
      const double quota = static_cast<double>(members[c].size()) * fractions[j];
      const size_t left = members[c].size() - taken[c];
      count[c] = std::min(left, static_cast<size_t>(std::floor(quota + 1e-9)));
      remainder[c] = quota - std::floor(quota + 1e-9);
      assigned += static_cast<int64_t>(count[c]);
    }
    std::vector<size_t> order(members.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
    for (size_t k = 0; assigned < target && k < order.size(); ++k) {
      const size_t c = order[k];
      if (taken[c] + count[c] < members[c].size()) {
        ++count[c];
        ++assigned;
      }
    }
    for (size_t c = 0; c < members.size(); ++c) {
      const auto begin = members[c].begin() + static_cast<std::ptrdiff_t>(taken[c]);
      parts[j].insert(parts[j].end(), begin, begin + static_cast<std::ptrdiff_t>(count[c]));
      taken[c] += count[c];
    }
  }
  for (size_t c = 0; c < members.size(); ++c) {
    parts.back().insert(parts.back().end(),
                        members[c].begin() + static_cast<std::ptrdiff_t>(taken[c]),
                        members[c].end());
  }
  for (auto& part : parts) {
    std::sort(part.begin(), part.end());
  }
  return parts;
}

}  // namespace hpt::trainer
