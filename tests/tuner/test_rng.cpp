#include <catch2/catch.hpp>
#include <set>

#include "hpt/tuner/rng.hpp"

using namespace hpt;

// mix64 is SplitMix64's output step: mix64(state) for the states seed + k * golden gamma
// gives the reference generator's stream (Vigna's splitmix64.c; seed 1234567 is the
// published test vector).
TEST_CASE("mix64 is SplitMix64", "[rng]") {
  constexpr uint64_t k_gamma = 0x9e3779b97f4a7c15ULL;
  const uint64_t expected[] = {6457827717110365317ULL, 3203168211198807973ULL,
                               9817491932198370423ULL, 4593380528125082431ULL,
                               16408922859458223821ULL};
  uint64_t state = 1234567;
  for (uint64_t want : expected) {
    CHECK(mix64(state) == want);
    state += k_gamma;
  }
  CHECK(mix64(0) == 0xe220a8397b1dcdafULL);
}

// A seed depends on the study seed, the trial number and the stream name, and on nothing
// else: the same triple always gives the same seed (resumed studies sample the same values).
TEST_CASE("derive_seed is a function of its arguments", "[rng]") {
  CHECK(derive_seed(42, 7, "tpe") == derive_seed(42, 7, "tpe"));
  CHECK(derive_seed(42, 7, "tpe") != derive_seed(43, 7, "tpe"));
  CHECK(derive_seed(42, 7, "tpe") != derive_seed(42, 8, "tpe"));
  CHECK(derive_seed(42, 7, "tpe") != derive_seed(42, 7, "random"));
  CHECK(derive_seed(42, 7, "ab") != derive_seed(42, 7, "ba"));  // Order matters.
  CHECK(derive_seed(42, 7, "") != derive_seed(42, 7, std::string_view("\0", 1)));
  Rng a(derive_seed(1, 0, "nsga2"));
  Rng b(derive_seed(1, 0, "nsga2"));
  for (int i = 0; i < 5; ++i) {
    CHECK(a() == b());
  }
}

// Neighbouring seeds, trial numbers (negative ones too) and streams give distinct seeds:
// no collision among 3 seeds x 2,001 numbers x 4 streams.
TEST_CASE("derive_seed spreads neighbouring inputs", "[rng]") {
  std::set<uint64_t> seen;
  size_t count = 0;
  for (uint64_t seed : {0ULL, 1ULL, ~0ULL}) {
    for (int64_t number = -1000; number <= 1000; ++number) {
      for (const char* stream : {"tpe", "random", "nsga2", "worker"}) {
        seen.insert(derive_seed(seed, number, stream));
        ++count;
      }
    }
  }
  CHECK(seen.size() == count);
}

// Each output bit of derive_seed flips for about half of the single-bit changes of the
// seed (an avalanche check): no bit is stuck or copied straight from the input.
TEST_CASE("derive_seed mixes every bit", "[rng]") {
  int flips[64] = {};
  int trials = 0;
  for (uint64_t seed : {0ULL, 12345ULL, 0xdeadbeefULL}) {
    const uint64_t base = derive_seed(seed, 3, "tpe");
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t changed = base ^ derive_seed(seed ^ (1ULL << bit), 3, "tpe");
      for (int out = 0; out < 64; ++out) {
        flips[out] += (changed >> out) & 1;
      }
      ++trials;
    }
  }
  for (int out = 0; out < 64; ++out) {
    INFO("output bit " << out);
    CHECK(flips[out] > trials / 4);
    CHECK(flips[out] < trials * 3 / 4);
  }
}
