#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include "hpt/tuner/step_values.hpp"

using hpt::StepValues;

// The map operations the code uses behave as std::map's, in any order of steps: random
// emplace / [] / erase against a std::map, compared after every operation.
TEST_CASE("StepValues behaves as std::map<int64_t, double>", "[step_values]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> step(-3000, 3000);  // Several chunks' worth.
  std::uniform_int_distribution<int> op(0, 3);
  StepValues flat;
  std::map<int64_t, double> map;
  for (int i = 0; i < 20000; ++i) {
    const int64_t s = step(rng);
    const double v = i * 0.5;
    switch (op(rng)) {
      case 0:
        CHECK(flat.emplace(s, v) == map.emplace(s, v).second);
        break;
      case 1:
        flat[s] = v;
        map[s] = v;
        break;
      case 2:
        CHECK(flat.erase(s) == map.erase(s));
        break;
      default:
        CHECK(flat.count(s) == map.count(s));
        if (map.count(s)) {
          CHECK(flat.at(s) == map.at(s));
          CHECK(flat.find(s)->second == map.at(s));
        } else {
          CHECK(flat.find(s) == flat.end());
          CHECK_THROWS_AS(flat.at(s), std::out_of_range);
        }
    }
    REQUIRE(flat.size() == map.size());
  }
  auto it = flat.begin();
  for (const auto& [s, v] : map) {  // Same entries, in increasing step order.
    REQUIRE(it != flat.end());
    CHECK(it->first == s);
    CHECK(it->second == v);
    ++it;
  }
  CHECK(it == flat.end());
  CHECK(flat.rbegin()->first == map.rbegin()->first);
  auto back = flat.end();
  for (auto m = map.rbegin(); m != map.rend(); ++m) {  // Backwards across chunks too.
    --back;
    REQUIRE(back->first == m->first);
  }
  CHECK(back == flat.begin());
  for (int64_t s = -3001; s <= 3001; s += 7) {
    const auto want = map.lower_bound(s);
    const auto got = flat.lower_bound(s);
    REQUIRE((want == map.end()) == (got == flat.end()));
    if (want != map.end()) {
      CHECK(got->first == want->first);
    }
  }
}

// Steps in order, backwards and interleaved (a hostile worker's orders) all end sorted and
// whole; 200,000 backwards steps take no quadratic time (a flat vector moved 320 GB for them).
TEST_CASE("StepValues keeps any arrival order sorted", "[step_values]") {
  for (const int order : {0, 1, 2}) {
    INFO("order " << order);
    StepValues v;
    const int64_t n = 200000;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = order == 0   ? i
                        : order == 1 ? n - 1 - i
                                     : (i % 2 == 0 ? i / 2 : n - 1 - i / 2);
      REQUIRE(v.emplace(s, static_cast<double>(s) * 2));
    }
    REQUIRE(v.size() == static_cast<size_t>(n));
    int64_t expect = 0;
    for (const auto& [s, value] : v) {
      REQUIRE(s == expect);
      REQUIRE(value == static_cast<double>(s) * 2);
      ++expect;
    }
    CHECK(expect == n);
    CHECK_FALSE(v.emplace(5, -1.0));
    CHECK(v.at(5) == 10.0);
  }
}

// An initializer list keeps the first of repeated steps (std::map's rule); equality compares
// values with ==, so a NaN equals nothing (as std::map's does); clear empties.
TEST_CASE("StepValues construction, equality and clear", "[step_values]") {
  const StepValues a{{3, 1.0}, {1, 2.0}, {3, 9.0}};
  REQUIRE(a.size() == 2);
  CHECK(a.begin()->first == 1);
  CHECK(a.at(3) == 1.0);
  CHECK(a == StepValues{{1, 2.0}, {3, 1.0}});
  CHECK(a != StepValues{{1, 2.0}});
  const StepValues nan{{0, std::nan("")}};
  CHECK(nan != nan);
  StepValues b = a;
  b.clear();
  CHECK(b.empty());
  CHECK(b.lower_bound(0) == b.end());
}
