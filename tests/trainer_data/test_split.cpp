#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "hpt/trainer/split.hpp"

using namespace hpt::trainer;

namespace {

// 3 classes of sizes 50, 30, 21 in an interleaved order.
std::vector<int64_t> labels_101() {
  std::vector<int64_t> labels;
  int64_t left[3] = {50, 30, 21};
  for (int i = 0; labels.size() < 101; ++i) {
    if (left[i % 3]-- > 0) {
      labels.push_back(i % 3);
    }
  }
  return labels;
}

}  // namespace

// Parts are disjoint, cover every index, are sorted, and have round(N * f) members.
TEST_CASE("stratified_split sizes and coverage", "[split]") {
  const auto labels = labels_101();
  const auto parts = stratified_split(labels, 3, {0.1, 0.2}, 7);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].size() == 10);  // round(10.1)
  CHECK(parts[1].size() == 20);  // round(20.2)
  CHECK(parts[2].size() == 71);
  std::set<int64_t> all;
  for (const auto& part : parts) {
    CHECK(std::is_sorted(part.begin(), part.end()));
    all.insert(part.begin(), part.end());
  }
  CHECK(all.size() == 101);
  CHECK(*all.rbegin() == 100);
}

// Every class contributes floor or ceil of its share to each part.
TEST_CASE("stratified_split is stratified", "[split]") {
  const auto labels = labels_101();
  const int64_t class_size[3] = {50, 30, 21};
  const auto parts = stratified_split(labels, 3, {0.2, 0.5}, 3);
  for (size_t j = 0; j < 2; ++j) {
    const double fraction = j == 0 ? 0.2 : 0.5;
    for (int64_t c = 0; c < 3; ++c) {
      const auto n = std::count_if(parts[j].begin(), parts[j].end(),
                                   [&](int64_t i) { return labels[static_cast<size_t>(i)] == c; });
      const double quota = static_cast<double>(class_size[c]) * fraction;
      CHECK(n >= static_cast<int64_t>(std::floor(quota)));
      CHECK(n <= static_cast<int64_t>(std::ceil(quota)));
    }
  }
}

// The same seed gives the same parts; another seed gives other parts.
TEST_CASE("stratified_split is deterministic by seed", "[split]") {
  const auto labels = labels_101();
  CHECK(stratified_split(labels, 3, {0.3}, 11) == stratified_split(labels, 3, {0.3}, 11));
  CHECK(stratified_split(labels, 3, {0.3}, 11) != stratified_split(labels, 3, {0.3}, 12));
}

// Negative fractions, sums above 1 and out-of-range labels are rejected.
TEST_CASE("stratified_split rejects bad arguments", "[split]") {
  CHECK_THROWS_AS(stratified_split({0, 1}, 2, {-0.1}, 0), std::invalid_argument);
  CHECK_THROWS_AS(stratified_split({0, 1}, 2, {0.6, 0.5}, 0), std::invalid_argument);
  CHECK_THROWS_WITH(stratified_split({0, 2}, 2, {0.5}, 0), Catch::Contains("label 2"));
  const auto parts = stratified_split({0, 0, 1, 1}, 2, {0.5}, 0);
  CHECK(parts[0].size() == 2);
}
