#include <catch2/catch.hpp>

#include "hpt/tuner/importance.hpp"

namespace {

// A tree with the given splits, built by hand: node i's children and leaf values.
hpt::RegressionTree make_tree(std::vector<int> feature, std::vector<double> threshold,
                              std::vector<int> left, std::vector<int> right,
                              std::vector<double> value) {
  hpt::RegressionTree t;
  t.feature = std::move(feature);
  t.threshold = std::move(threshold);
  t.left = std::move(left);
  t.right = std::move(right);
  t.value = std::move(value);
  return t;
}

}  // namespace

// A step in y at x=2.5 is found as the root split, at the midpoint, and predicts both sides.
TEST_CASE("tree splits at the midpoint of the best gap", "[fanova]") {
  const std::vector<double> x = {1, 7, 2, 7, 3, 7, 4, 7};  // feature 1 is constant
  const std::vector<double> y = {0, 0, 10, 10};
  const auto tree = hpt::fit_regression_tree(x, 2, y, {1, 1, 1, 1}, {}, 42);
  REQUIRE(tree.n_nodes() == 3);
  CHECK(tree.feature[0] == 0);
  CHECK(tree.threshold[0] == Approx(2.5));
  const double a[2] = {1.5, 7};
  const double b[2] = {3.9, 7};
  CHECK(tree.predict(a) == Approx(0.0));
  CHECK(tree.predict(b) == Approx(10.0));
}

// Bootstrap weights enter the node means; rows of weight 0 are left out entirely.
TEST_CASE("tree uses sample weights as counts", "[fanova]") {
  const std::vector<double> x = {0, 1, 2};
  const std::vector<double> y = {1, 4, 100};
  hpt::FanovaOptions o;
  o.max_depth = 0;  // root only
  const auto tree = hpt::fit_regression_tree(x, 1, y, {2, 1, 0}, o, 1);
  REQUIRE(tree.n_nodes() == 1);
  CHECK(tree.value[0] == Approx((2 * 1 + 4) / 3.0));
}

// Fully grown trees fit distinct training points exactly; min_samples_leaf bounds leaf sizes.
TEST_CASE("tree grows until pure or limited", "[fanova]") {
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i);
    y.push_back((i * 7) % 5);
  }
  const auto tree = hpt::fit_regression_tree(x, 1, y, std::vector<int>(20, 1), {}, 3);
  for (int i = 0; i < 20; ++i) {
    CHECK(tree.predict(&x[i]) == Approx(y[i]));
  }
  hpt::FanovaOptions o;
  o.min_samples_leaf = 10;
  const auto stump = hpt::fit_regression_tree(x, 1, y, std::vector<int>(20, 1), o, 3);
  CHECK(stump.n_nodes() == 3);
  CHECK(stump.threshold[0] == Approx(9.5));
}

// One split on x0 between leaves 0 and 2: all variance is x0's, none is x1's.
TEST_CASE("fractions of a one-split tree", "[fanova]") {
  const auto tree = make_tree({0, -1, -1}, {0.5, 0, 0}, {1, -1, -1}, {2, -1, -1}, {1, 0, 2});
  const auto f = hpt::fanova_fractions({tree}, {{0, 1}, {0, 1}}, {{0}, {1}});
  CHECK(f[0] == Approx(1.0));
  CHECK(f[1] == Approx(0.0).margin(1e-12));
}

// An AND-shaped tree (4 only where x0 > .5 and x1 > .5): total variance 3, each main
// effect has marginal 0 | 2, variance 1, so each fraction is 1/3 (the rest is interaction).
TEST_CASE("fractions of an interaction tree", "[fanova]") {
  // 0: x0<=.5 ? 1 : 2; 1: x1<=.5 ? 3 : 4; 2: x1<=.5 ? 5 : 6.
  const auto tree =
      make_tree({0, 1, 1, -1, -1, -1, -1}, {0.5, 0.5, 0.5, 0, 0, 0, 0}, {1, 3, 5, -1, -1, -1, -1},
                {2, 4, 6, -1, -1, -1, -1}, {1, 0, 2, 0, 0, 0, 4});
  const auto f = hpt::fanova_fractions({tree}, {{0, 1}, {0, 1}}, {{0}, {1}, {0, 1}});
  CHECK(f[0] == Approx(1.0 / 3));
  CHECK(f[1] == Approx(1.0 / 3));
  CHECK(f[2] == Approx(1.0));  // Both columns together explain everything.
}

// Uneven box: split at 0.25 of [0, 2] (leaves 0 over width .25, 8 over 1.75): the volume
// weights give mean 7 and variance 0.125*49 + 0.875*1 = 7; the marginal of x0 is the same.
TEST_CASE("fractions weight leaves by volume", "[fanova]") {
  const auto tree = make_tree({0, -1, -1}, {0.25, 0, 0}, {1, -1, -1}, {2, -1, -1}, {4, 0, 8});
  const auto f = hpt::fanova_fractions({tree}, {{0, 2}, {-1, 1}}, {{0}, {1}});
  CHECK(f[0] == Approx(1.0));
  // A constant tree has no variance and is skipped: the average stays over the first tree.
  const auto flat = make_tree({-1}, {0}, {-1}, {-1}, {3});
  const auto g = hpt::fanova_fractions({tree, flat}, {{0, 2}, {-1, 1}}, {{0}, {1}});
  CHECK(g[0] == Approx(1.0));
}

// The pairwise method gives the grid method's numbers: the interaction tree's joint group and
// a group of three one-hot-like columns with nested splits, on an uneven box.
TEST_CASE("pairwise marginals equal grid marginals", "[fanova]") {
  const auto tree =
      make_tree({0, 1, 1, -1, -1, -1, -1}, {0.5, 0.5, 0.5, 0, 0, 0, 0}, {1, 3, 5, -1, -1, -1, -1},
                {2, 4, 6, -1, -1, -1, -1}, {1, 0, 2, 0, 0, 0, 4});
  const std::vector<std::vector<int>> groups{{0}, {1}, {0, 1}};
  const auto grid = hpt::fanova_fractions({tree}, {{0, 1}, {0, 1}}, groups);
  const auto pairwise = hpt::fanova_fractions({tree}, {{0, 1}, {0, 1}}, groups, 0);
  CHECK(pairwise[2] == Approx(grid[2]));
  CHECK(pairwise[2] == Approx(1.0));

  // 0: c0<=.5 ? node 1 : leaf 2 (5); 1: c1<=.3 ? node 3 : node 4; 3: x<=.7 ? leaf 5 (2) :
  // leaf 6 (7); 4: c2<=.5 ? leaf 7 (3) : leaf 8 (0). x's box is [0, 2].
  const auto nested =
      make_tree({0, 1, -1, 3, 2, -1, -1, -1, -1}, {0.5, 0.3, 0, 0.7, 0.5, 0, 0, 0, 0},
                {1, 3, -1, 5, 7, -1, -1, -1, -1}, {2, 4, -1, 6, 8, -1, -1, -1, -1},
                {0, 0, 5, 0, 0, 2, 7, 3, 0});
  const std::vector<std::pair<double, double>> box{{0, 1}, {0, 1}, {0, 1}, {0, 2}};
  const std::vector<std::vector<int>> cat{{0, 1, 2}, {3}};
  const auto g2 = hpt::fanova_fractions({nested}, box, cat);
  const auto p2 = hpt::fanova_fractions({nested}, box, cat, 0);
  CHECK(g2[0] > 0.0);
  CHECK(p2[0] == Approx(g2[0]));
  CHECK(p2[1] == Approx(g2[1]));
}
