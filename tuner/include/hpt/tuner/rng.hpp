#pragma once
// Seeded randomness without global state: every draw derives from the study seed,
// the trial number and a named stream, so resumed studies sample the same values.

#include <cstdint>
#include <random>
#include <string_view>

namespace hpt {

// SplitMix64 finaliser: a well-mixed 64-bit hash of x.
uint64_t mix64(uint64_t x);
// A seed for (study seed, trial number, stream name); distinct streams are independent.
uint64_t derive_seed(uint64_t seed, int64_t trial_number, std::string_view stream);
using Rng = std::mt19937_64;

}  // namespace hpt
