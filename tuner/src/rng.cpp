#include "hpt/tuner/rng.hpp"

namespace hpt {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t derive_seed(uint64_t seed, int64_t trial_number, std::string_view stream) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a of the stream name.
  for (char c : stream) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return mix64(mix64(seed ^ h) + static_cast<uint64_t>(trial_number));
}

}  // namespace hpt
