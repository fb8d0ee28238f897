#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "hpt/reports/info.hpp"
#include "hpt/reports/plots_html.hpp"
#include "study_fixtures.hpp"

using hpt::TrialState;
using hpt::test::make_trial;

// Two trials at the corners (0,0)=0 and (1,1)=10 on a 2x2 grid: centre (.25,.25) has squared
// distances .125 and 1.125, so z = 10*(1/1.125)/(8 + 1/1.125) = 1; off-diagonal cells are
// equidistant (z = 5); (.75,.75) mirrors to 9.
TEST_CASE("contour interpolates by inverse squared distance", "[contour_info]") {
  std::vector<hpt::FrozenTrial> trials = {
      make_trial(0, TrialState::Complete, 0.0,
                 {{"a", {0.0, hpt::test::k_unit}}, {"b", {0.0, hpt::test::k_unit}}}),
      make_trial(1, TrialState::Complete, 10.0,
                 {{"a", {1.0, hpt::test::k_unit}}, {"b", {1.0, hpt::test::k_unit}}}),
      make_trial(2, TrialState::Pruned, 99.0,
                 {{"a", {0.5, hpt::test::k_unit}}, {"b", {0.5, hpt::test::k_unit}}})};
  const auto c = hpt::reports::get_contour_info(trials, {"b", "a"}, 3, 2);
  REQUIRE(c.plots.size() == 1);
  const auto& p = c.plots[0];
  CHECK(p.x_axis.name == "b");
  CHECK(p.grid_x == std::vector<double>{0.25, 0.75});
  REQUIRE(p.z.size() == 2);
  CHECK(p.z[0][0] == Approx(1.0));
  CHECK(p.z[0][1] == Approx(5.0));
  CHECK(p.z[1][0] == Approx(5.0));
  CHECK(p.z[1][1] == Approx(9.0));
  CHECK(p.index == std::vector<int>{0, 1});
  CHECK(p.z_low == 0.0);
  CHECK(p.z_high == 10.0);
}

// Top-3 params give 3 pairs; categorical axes get one cell per choice; log axes map in log10.
TEST_CASE("contour pairs of the most important params", "[contour_info]") {
  const auto trials = hpt::test::mixed_study(40);
  const auto c = hpt::reports::get_contour_info(trials, {"lr", "opt", "layers"}, 3, 10);
  REQUIRE(c.plots.size() == 3);
  CHECK(c.plots[0].x_axis.name == "lr");
  CHECK(c.plots[0].y_axis.name == "opt");
  CHECK(c.plots[0].x_axis.log);
  CHECK(c.plots[0].grid_y.size() == 3);
  CHECK(c.plots[0].grid_x.size() == 10);
  CHECK(c.plots[2].x_axis.name == "opt");
  for (const auto& p : c.plots) {
    for (double x : p.x) {
      CHECK(x >= 0.0);
      CHECK(x <= 1.0);
    }
  }
  // Trial 0: lr position = (log10 lr + 5) / 4.
  const auto& first = c.plots[0];
  REQUIRE(first.index[0] == 0);
  CHECK(first.x[0] == Approx((std::log10(trials[0].params.at("lr")) + 5) / 4));
  CHECK(first.y[0] == Approx((trials[0].params.at("opt") + 0.5) / 3));
}

// Zero or one trial, or one parameter: a note, no plot.
TEST_CASE("contour needs two trials and two params", "[contour_info]") {
  CHECK(hpt::reports::get_contour_info({}, {}).plots.empty());
  CHECK_FALSE(hpt::reports::get_contour_info({}, {}).note.empty());
  const auto one = hpt::reports::get_contour_info(hpt::test::mixed_study(1), {});
  CHECK(one.plots.empty());
  CHECK_FALSE(one.note.empty());
  const std::vector<hpt::FrozenTrial> single_param = {
      make_trial(0, TrialState::Complete, 1.0, {{"a", {0.1, hpt::test::k_unit}}}),
      make_trial(1, TrialState::Complete, 2.0, {{"a", {0.2, hpt::test::k_unit}}})};
  CHECK(hpt::reports::get_contour_info(single_param, {}).note.find("2 parameters") !=
        std::string::npos);
}

// A categorical axis keeps the choices its trials took (as Optuna's contour): two parameters of
// 5,000 choices made a grid of 25 million cells (a 1.7 GB page from 3 trials). One whose trials
// took more than 100 is not drawn, with a note naming the pair.
TEST_CASE("contour axes keep the choices trials took", "[contour_info]") {
  hpt::CategoricalDistribution many;
  for (int i = 0; i < 5000; ++i) {
    many.choices.push_back("c" + std::to_string(i));
  }
  const std::vector<hpt::FrozenTrial> few = {
      make_trial(0, TrialState::Complete, 1.0, {{"a", {4000, many}}, {"b", {7, many}}}),
      make_trial(1, TrialState::Complete, 2.0, {{"a", {12, many}}, {"b", {7, many}}}),
      make_trial(2, TrialState::Complete, 3.0, {{"a", {4000, many}}, {"b", {4999, many}}})};
  const auto c = hpt::reports::get_contour_info(few, {});
  REQUIRE(c.plots.size() == 1);
  const auto& p = c.plots[0];
  CHECK(p.x_axis.labels == std::vector<std::string>{"c12", "c4000"});
  CHECK(p.y_axis.labels == std::vector<std::string>{"c7", "c4999"});
  CHECK(p.grid_x.size() == 2);
  CHECK(p.z.size() == 2);
  CHECK(p.x[0] == Approx(0.75));  // c4000, second of two.
  CHECK(p.x[1] == Approx(0.25));
  CHECK(p.y[2] == Approx(0.75));
  std::vector<hpt::FrozenTrial> spread;
  for (int i = 0; i < 150; ++i) {
    spread.push_back(make_trial(i, TrialState::Complete, i,
                                {{"a", {static_cast<double>(i), many}}, {"b", {7, many}}}));
  }
  const auto wide = hpt::reports::get_contour_info(spread, {});
  CHECK(wide.plots.empty());
  CHECK_THAT(wide.note,
             Catch::Contains("Not drawn: a x b") && Catch::Contains("more than 100 choices"));
}

// Values near the largest double (a failure penalty of sys.float_info.max, or both signs of it)
// interpolate to finite values between them, and the drawn cells take more than one colour (the
// weights overflowed to inf and the colour span to inf: one colour for every cell; helper audit).
TEST_CASE("contour of values near the largest double stays finite and shaded", "[contour_info]") {
  const double big = std::numeric_limits<double>::max();
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < 6; ++i) {
    const double a = i / 5.0;
    trials.push_back(
        make_trial(i, TrialState::Complete, i < 3 ? -big : big,
                   {{"a", {a, hpt::test::k_unit}}, {"b", {1 - a, hpt::test::k_unit}}}));
  }
  const auto c = hpt::reports::get_contour_info(trials, {"a", "b"}, 3, 8);
  REQUIRE(c.plots.size() == 1);
  for (const auto& row : c.plots[0].z) {
    for (double z : row) {
      CHECK(std::isfinite(z));
    }
  }
  const std::string html =
      hpt::reports::render_plot_sections(hpt::test::study_info(1, "s"), trials);
  const size_t at = html.find("<section id=\"contour\">");
  REQUIRE(at != std::string::npos);
  const std::string contour = html.substr(at, html.find("</section>", at) - at);
  std::set<std::string> fills;
  for (size_t f = contour.find("fill=\"#"); f != std::string::npos;
       f = contour.find("fill=\"#", f + 1)) {
    fills.insert(contour.substr(f + 6, 7));
  }
  CHECK(fills.size() > 3);
}
