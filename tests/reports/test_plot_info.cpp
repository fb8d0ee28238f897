#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>

#include "hpt/reports/info.hpp"
#include "study_fixtures.hpp"

using hpt::TrialState;
using hpt::test::make_trial;

namespace {

// Values 5, 3, (pruned 1), (fail), 4, NaN, 2 for trials 0..6.
std::vector<hpt::FrozenTrial> small_study() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {make_trial(0, TrialState::Complete, 5.0, {{"x", {0.5, hpt::test::k_unit}}}),
          make_trial(1, TrialState::Complete, 3.0, {{"x", {0.25, hpt::test::k_unit}}}),
          make_trial(2, TrialState::Pruned, 1.0, {{"x", {0.0, hpt::test::k_unit}}}),
          make_trial(3, TrialState::Fail, std::nullopt),
          make_trial(4, TrialState::Complete, 4.0,
                     {{"x", {1.0, hpt::test::k_unit}}, {"opt", {2.0, hpt::test::k_opt}}}),
          make_trial(5, TrialState::Complete, nan, {{"x", {0.1, hpt::test::k_unit}}}),
          make_trial(6, TrialState::Complete, 2.0, {{"opt", {0.0, hpt::test::k_opt}}})};
}

}  // namespace

// Only complete finite trials, best-so-far per direction.
TEST_CASE("history keeps complete trials and the best so far", "[plot_info]") {
  const auto trials = small_study();
  const auto h = hpt::reports::get_history_info(trials, hpt::Direction::Minimize);
  REQUIRE(h.points.size() == 4);
  const std::vector<int> numbers = {0, 1, 4, 6};
  const std::vector<double> best = {5, 3, 3, 2};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(h.points[i].number == numbers[i]);
    CHECK(h.points[i].best_so_far == best[i]);
  }
  const auto m = hpt::reports::get_history_info(trials, hpt::Direction::Maximize);
  CHECK(m.points.back().best_so_far == 5.0);
  CHECK(hpt::reports::get_history_info({}, hpt::Direction::Minimize).note.find("Not enough") !=
        std::string::npos);
}

// In a constrained study the best so far counts feasible trials only, NaN before the first
// one; infeasible points stay in the plot, marked.
TEST_CASE("history of a constrained study", "[plot_info][constraints]") {
  auto trials = small_study();
  trials[0].system_attrs["constraints"] = hpt::Json::array({0.5});   // 5, infeasible.
  trials[1].system_attrs["constraints"] = hpt::Json::array({-1});    // 3, feasible.
  trials[6].system_attrs["constraints"] = hpt::Json::array({1e-9});  // 2, infeasible.
  const auto h = hpt::reports::get_history_info(trials, hpt::Direction::Minimize);
  REQUIRE(h.points.size() == 4);
  CHECK(std::isnan(h.points[0].best_so_far));
  CHECK_FALSE(h.points[0].feasible);
  CHECK(h.points[1].best_so_far == 3.0);
  CHECK(h.points[2].best_so_far == 3.0);  // Trial 4 has no constraint values: feasible, 4.
  CHECK(h.points[2].feasible);
  CHECK(h.points[3].best_so_far == 3.0);
  CHECK_FALSE(h.points[3].feasible);
}

// Slices per param over the trials that have it; categorical x is the label index.
TEST_CASE("slice per parameter with categorical labels", "[plot_info]") {
  const auto s = hpt::reports::get_slice_info(small_study());
  REQUIRE(s.params.size() == 2);
  const auto& opt = s.params[0];
  CHECK(opt.axis.name == "opt");
  CHECK(opt.axis.categorical);
  CHECK(opt.axis.labels == std::vector<std::string>{"adam", "sgd", "[1,2]"});
  CHECK(opt.x == std::vector<double>{2.0, 0.0});
  CHECK(opt.y == std::vector<double>{4.0, 2.0});
  const auto& x = s.params[1];
  CHECK(x.x == std::vector<double>{0.5, 0.25, 1.0});
  CHECK(x.index == std::vector<int>{0, 1, 4});
  CHECK_FALSE(x.axis.log);
  CHECK(x.axis.low == 0.0);
  CHECK(x.axis.high == 1.0);
}

// Positions on log, categorical, linear and one-value axes.
TEST_CASE("axis positions", "[plot_info]") {
  const auto t = make_trial(0, TrialState::Complete, 1.0, {{"lr", {1e-3, hpt::test::k_lr}}});
  const auto axis = hpt::reports::make_param_axis({t}, {0}, "lr");
  CHECK(axis.log);
  CHECK(hpt::reports::axis_position(axis, 1e-3) == Approx(0.5));
  hpt::reports::ParamAxis cat;
  cat.categorical = true;
  cat.labels = {"a", "b", "c"};
  CHECK(hpt::reports::axis_position(cat, 2) == Approx(1.0));
  hpt::reports::ParamAxis one;
  one.low = one.high = 3;
  CHECK(hpt::reports::axis_position(one, 3) == 0.5);
}

// Choices whose texts are the same (64 and "64", true and "true", null and "null", as Optuna
// allows) are told apart: each labelled by its JSON, each trial at its own choice (they were
// one category: 9 choices drawn as 5).
TEST_CASE("categorical axes keep choices of one text apart", "[plot_info]") {
  using hpt::Json;
  const hpt::CategoricalDistribution d{
      {Json(64), Json("64"), Json(true), Json("true"), Json(nullptr), Json("null"), Json("x")}};
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < 7; ++i) {
    auto t = make_trial(i, TrialState::Complete, i);
    t.params["c"] = i;
    t.distributions["c"] = d;
    trials.push_back(t);
  }
  const auto axis = hpt::reports::make_param_axis(trials, {0, 1, 2, 3, 4, 5, 6}, "c");
  CHECK(axis.labels ==
        std::vector<std::string>{"64", "\"64\"", "true", "\"true\"", "null", "\"null\"", "\"x\""});
  for (int i = 0; i < 7; ++i) {
    CHECK(hpt::reports::axis_value(axis, trials[i]) == i);
  }
  // No two texts alike: plain labels, as before.
  const hpt::CategoricalDistribution plain{{Json("a"), Json(2), Json::array({1, 2})}};
  for (auto& t : trials) {
    t.params["c"] = t.number % 3;
    t.distributions["c"] = plain;
  }
  const auto simple = hpt::reports::make_param_axis(trials, {0, 1, 2}, "c");
  CHECK(simple.labels == std::vector<std::string>{"a", "2", "[1,2]"});
  CHECK(simple.keys.empty());
  CHECK(hpt::reports::axis_value(simple, trials[2]) == 2);
}

// Objective first, then params; missing params are NaN.
TEST_CASE("parallel coordinates normalise every axis", "[plot_info]") {
  const auto p = hpt::reports::get_parallel_info(small_study(), hpt::Direction::Minimize);
  REQUIRE(p.axes.size() == 3);
  CHECK(p.axes[1].name == "opt");
  REQUIRE(p.pos.size() == 4);
  // Trial 0: value 5 of [2, 5] -> 1; no opt; x 0.5.
  CHECK(p.pos[0][0] == Approx(1.0));
  CHECK(std::isnan(p.pos[0][1]));
  CHECK(p.pos[0][2] == Approx(0.5));
  // Trial 4: value 4 -> 2/3, opt "[1,2]" -> 1.
  CHECK(p.pos[2][0] == Approx(2.0 / 3));
  CHECK(p.pos[2][1] == Approx(1.0));
}

// A study of more complete trials than k_max_plotted_trials: slice and parallel plots draw an
// evenly spaced k_max_plotted_trials of them (first and last kept) and say so; the axes still
// span every trial.
TEST_CASE("slice and parallel plots thin a huge study", "[plot_info]") {
  const auto trials = hpt::test::mixed_study(1400);
  const auto s = hpt::reports::get_slice_info(trials);
  const auto p = hpt::reports::get_parallel_info(trials, hpt::Direction::Minimize);
  const size_t complete = static_cast<size_t>(std::count_if(
      trials.begin(), trials.end(), [](const auto& t) { return t.state == TrialState::Complete; }));
  REQUIRE(complete > hpt::reports::k_max_plotted_trials);
  CHECK(p.index.size() == hpt::reports::k_max_plotted_trials);
  CHECK(p.index.front() == 0);
  const auto last = std::find_if(trials.rbegin(), trials.rend(),
                                 [](const auto& t) { return t.state == TrialState::Complete; });
  CHECK(p.index.back() == last->number);
  CHECK(std::is_sorted(p.index.begin(), p.index.end()));
  CHECK(p.note ==
        fmt::format("Showing 1000 of the {} complete trials, evenly spaced by number.", complete));
  CHECK(s.note == p.note);
  for (const auto& param : s.params) {
    CHECK(param.index.size() <= hpt::reports::k_max_plotted_trials);
  }
  const auto small = hpt::reports::get_slice_info(hpt::test::mixed_study(50));
  CHECK(small.note.empty());
}

// A study of more params than k_max_plotted_params: slice and parallel plots draw the most
// important ones (the ranking given, topped up by quick_param_ranking), in name order, and say
// so; the rest of a plot is unchanged.
TEST_CASE("slice and parallel plots of a very wide study draw its most important params",
          "[plot_info]") {
  constexpr int k_params = 120;
  std::vector<hpt::FrozenTrial> trials;
  uint64_t state = 12345;
  auto uniform = [&state] {  // A fixed LCG: the same study on every run.
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (int n = 0; n < 60; ++n) {
    std::map<std::string, std::pair<double, hpt::Distribution>> params;
    for (int k = 0; k < k_params; ++k) {
      params[fmt::format("p{:03}", k)] = {uniform(), hpt::test::k_unit};
    }
    const double value = 10 * params["p077"].first + 0.01 * params["p003"].first;
    trials.push_back(make_trial(n, TrialState::Complete, value, params));
  }
  REQUIRE(hpt::reports::k_max_plotted_params < k_params);
  const std::string note = fmt::format("Showing the {} most important of the {} parameters.",
                                       hpt::reports::k_max_plotted_params, k_params);
  auto names = [](const auto& info) {
    std::vector<std::string> out;
    for (const auto& p : info.params) {
      out.push_back(p.axis.name);
    }
    return out;
  };

  const auto quick = hpt::reports::get_slice_info(trials);
  CHECK(quick.note == note);
  CHECK(quick.params.size() == hpt::reports::k_max_plotted_params);
  const auto quick_names = names(quick);
  CHECK(std::is_sorted(quick_names.begin(), quick_names.end()));
  CHECK(std::count(quick_names.begin(), quick_names.end(), "p077") == 1);  // What drives it.
  CHECK(quick.params.front().x.size() == trials.size());

  // A given ranking decides first: its 10 names, then 40 in quick_param_ranking's order.
  std::vector<std::string> ranked;
  for (int k = k_params - 1; k >= k_params - 10; --k) {
    ranked.push_back(fmt::format("p{:03}", k));
  }
  const auto given = hpt::reports::get_slice_info(trials, ranked);
  const auto given_names = names(given);
  CHECK(given_names.size() == hpt::reports::k_max_plotted_params);
  for (const auto& name : ranked) {
    CHECK(std::count(given_names.begin(), given_names.end(), name) == 1);
  }
  CHECK(std::count(given_names.begin(), given_names.end(), "p077") == 1);

  const auto parallel = hpt::reports::get_parallel_info(trials, hpt::Direction::Minimize, ranked);
  CHECK(parallel.note == note);
  REQUIRE(parallel.axes.size() == hpt::reports::k_max_plotted_params + 1);  // Objective first.
  for (size_t a = 1; a < parallel.axes.size(); ++a) {
    CHECK(parallel.axes[a].name == given_names[a - 1]);
  }
  REQUIRE(parallel.pos.size() == trials.size());
  CHECK(parallel.pos.front().size() == parallel.axes.size());

  // At the limit, nothing is left out and nothing is said.
  for (auto& t : trials) {
    while (t.params.size() > hpt::reports::k_max_plotted_params) {
      t.distributions.erase(t.params.rbegin()->first);
      t.params.erase(std::prev(t.params.end()));
    }
  }
  const auto all = hpt::reports::get_slice_info(trials, ranked);
  CHECK(all.note.empty());
  CHECK(all.params.size() == hpt::reports::k_max_plotted_params);
}

// Learning curves: capped count with the best trial kept, downsampled points, NaN dropped.
TEST_CASE("intermediate values are capped and downsampled", "[plot_info]") {
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < 10; ++i) {
    auto t = make_trial(i, i == 3 ? TrialState::Pruned : TrialState::Complete, 10.0 - (i == 7));
    for (int s = 0; s < 10; ++s) {
      t.intermediate_values[s] = s == 1 ? std::nan("") : s;
    }
    trials.push_back(t);
  }
  trials.push_back(make_trial(10, TrialState::Complete, 50.0));  // No curve.
  const auto all = hpt::reports::get_intermediate_info(trials, hpt::Direction::Minimize);
  CHECK(all.curves.size() == 10);
  CHECK(all.curves[3].state == TrialState::Pruned);
  CHECK(all.curves[0].points.size() == 9);
  const auto capped = hpt::reports::get_intermediate_info(trials, hpt::Direction::Minimize, 4, 3);
  CHECK(capped.n_with_values == 10);
  REQUIRE(capped.curves.size() == 4);
  bool has_best = false;
  for (const auto& c : capped.curves) {
    has_best = has_best || c.number == 7;
    REQUIRE(c.points.size() == 3);
    CHECK(c.points[0].first == 0);
    CHECK(c.points[2].first == 9);
  }
  CHECK(has_best);
  CHECK(capped.note.find("4 of 10") != std::string::npos);
  // Values reported, none finite: said so, not "no trial reported".
  std::vector<hpt::FrozenTrial> nan_only{make_trial(0, TrialState::Complete, 1.0),
                                         make_trial(1, TrialState::Complete, 2.0)};
  nan_only[0].intermediate_values = {{0, std::nan("")}, {1, HUGE_VAL}};
  CHECK(hpt::reports::get_intermediate_info(nan_only, hpt::Direction::Minimize).note ==
        "1 trial reported intermediate values, none of them finite (NaN or infinite).");
  nan_only.resize(1);
  nan_only[0].intermediate_values.clear();
  CHECK(hpt::reports::get_intermediate_info(nan_only, hpt::Direction::Minimize).note ==
        "No trial reported intermediate values.");
}

// EDF: sorted finite complete values.
TEST_CASE("empirical distribution values", "[plot_info]") {
  CHECK(hpt::reports::get_edf_info(small_study()).values == std::vector<double>{2, 3, 4, 5});
  CHECK_FALSE(hpt::reports::get_edf_info({}).note.empty());
}

// Bars from each start to its completion (now for a RUNNING trial or one without a completion),
// seconds since the first start, by number; WAITING trials have none; a huge study is thinned.
TEST_CASE("timeline bars", "[plot_info]") {
  using std::chrono::seconds;
  const hpt::Clock::time_point t0 = hpt::Clock::now() - std::chrono::hours(1);
  auto trials = small_study();
  for (auto& t : trials) {  // Trial n ran from t0 + 10 n s for n + 1 s.
    t.datetime_start = t0 + seconds(10 * t.number);
    t.datetime_complete = t0 + seconds(11 * t.number + 1);
  }
  std::swap(trials[0], trials[4]);             // Any order in; bars by number.
  trials[4].datetime_start = t0 + seconds(5);  // Trial 0 started after trial 1 ...
  trials[1].datetime_start = t0;               // ... which started first.
  trials[2].state = TrialState::Running;       // Trial 2: still running at now.
  trials[3].datetime_complete.reset();         // Trial 3: no completion time.
  trials[5].datetime_complete = t0;            // Trial 5: "completed" before it started.
  trials[6].state = TrialState::Waiting;       // Trial 6: never started.
  trials[6].datetime_start.reset();
  const auto now = t0 + seconds(100);
  const auto info = hpt::reports::get_timeline_info(trials, now);
  REQUIRE(info.bars.size() == 6);
  std::vector<int> numbers;
  for (const auto& b : info.bars) {
    numbers.push_back(trials[b.index].number);
    CHECK(b.end >= b.start);
  }
  CHECK(numbers == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(info.bars[0].start == Approx(5));
  CHECK(info.bars[0].end == info.bars[0].start);  // Clamped: completed at 1 s, started at 5 s.
  CHECK(info.bars[1].start == Approx(0));
  CHECK(info.bars[1].end == Approx(12));
  CHECK(info.bars[2].state == TrialState::Running);
  CHECK(info.bars[2].end == Approx(100));
  CHECK(info.bars[3].end == Approx(100));
  CHECK(info.bars[4].end == Approx(45));
  CHECK(info.bars[5].end == info.bars[5].start);
  CHECK(info.span == Approx(100));
  CHECK(info.note.empty());

  CHECK(hpt::reports::get_timeline_info({}, now).note == "No trial has started yet.");
  // Finished trials without start times (another tool's rows) are not "not started yet".
  std::vector<hpt::FrozenTrial> undated = {make_trial(0, TrialState::Complete, 1.0)};
  undated[0].datetime_start.reset();
  CHECK(hpt::reports::get_timeline_info(undated, now).note ==
        "No trial has a start time: the tool that ran them did not record one.");
  undated[0].state = TrialState::Waiting;
  CHECK(hpt::reports::get_timeline_info(undated, now).note == "No trial has started yet.");
  // Starts centuries apart (a hostile database): seconds, no overflow into negative bars.
  std::vector<hpt::FrozenTrial> far = {make_trial(0, TrialState::Complete, 1.0),
                                       make_trial(1, TrialState::Complete, 1.0)};
  const auto year = std::chrono::hours(24 * 365);
  far[0].datetime_start = hpt::Clock::time_point{} - 270 * year;  // 1700
  far[0].datetime_complete = far[0].datetime_start;
  far[1].datetime_start = hpt::Clock::time_point{} + 230 * year;  // 2200
  far[1].datetime_complete = far[1].datetime_start;
  const auto spread = hpt::reports::get_timeline_info(far, now);
  REQUIRE(spread.bars.size() == 2);
  CHECK(spread.bars[0].start == 0);
  CHECK(spread.bars[1].start == Approx(500.0 * 365 * 24 * 3600));
  CHECK(spread.span == Approx(spread.bars[1].start));
  std::vector<hpt::FrozenTrial> many;
  for (int i = 0; i < 3000; ++i) {
    many.push_back(make_trial(i, TrialState::Complete, 1.0));
    many.back().datetime_start = t0 + seconds(i);
    many.back().datetime_complete = t0 + seconds(i + 2);
  }
  const auto thinned = hpt::reports::get_timeline_info(many, now);
  CHECK(thinned.bars.size() == hpt::reports::k_max_plotted_trials);
  CHECK(thinned.note.find("of the 3000 started trials") != std::string::npos);
  CHECK(many[thinned.bars.back().index].number == 2999);
  CHECK(thinned.span == Approx(3001));
}
