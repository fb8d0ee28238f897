#pragma once
// Seeded, stratified splits of a labelled pool.

#include <cstdint>
#include <vector>

namespace hpt::trainer {

// Splits indices 0..labels.size()-1 into fractions.size() + 1 parts: part j holds
// round(N * fractions[j]) indices, the last part the rest. Within every class the
// members are shuffled with `seed` and each class gives its share to every part
// (largest remainder). Each part is returned in ascending index order.
// Throws std::invalid_argument for negative fractions, a sum above 1, or labels outside
// [0, num_classes).
std::vector<std::vector<int64_t>> stratified_split(const std::vector<int64_t>& labels,
                                                   int64_t num_classes,
                                                   const std::vector<double>& fractions,
                                                   uint64_t seed);

}  // namespace hpt::trainer
