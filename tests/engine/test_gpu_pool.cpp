#include <catch2/catch.hpp>

#include "hpt/engine/gpu_pool.hpp"

using namespace hpt;

// Devices are handed out per_trial at a time, never twice, and come back on release.
TEST_CASE("gpu pool: acquire and release", "[gpu]") {
  GpuPool pool({3, 1, 2, 0}, 2);
  CHECK(pool.enabled());
  CHECK(pool.capacity() == 2);
  auto a = pool.acquire();
  auto b = pool.acquire();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == std::vector<int>{0, 1});
  CHECK(*b == std::vector<int>{2, 3});
  CHECK_FALSE(pool.available());
  CHECK_FALSE(pool.acquire());
  pool.release(*a);
  pool.release(*a);   // Twice: no duplicate.
  pool.release({7});  // Not ours: ignored.
  auto c = pool.acquire();
  REQUIRE(c);
  CHECK(*c == std::vector<int>{0, 1});
  CHECK_FALSE(pool.acquire());
  CHECK(gpu_list(*c) == "0,1");
}

// Without study.gpus every trial gets an empty set and nothing limits concurrency.
TEST_CASE("gpu pool: disabled", "[gpu]") {
  GpuPool pool({}, 1);
  CHECK_FALSE(pool.enabled());
  for (int i = 0; i < 5; ++i) {
    auto g = pool.acquire();
    REQUIRE(g);
    CHECK(g->empty());
  }
  CHECK(gpu_list({}) == "");
}
