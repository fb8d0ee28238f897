#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>

#include "../../storage/src/trial_arguments.hpp"  // Internal to storage.
#include "hpt/io/utf8.hpp"

using namespace hpt;

namespace {

// n copies of the UTF-8 character c.
std::string repeat(const std::string& c, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += c;
  }
  return out;
}

bool valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = decode_utf8(text, i).second;
    if (length == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

// A WAITING trial with one float parameter and its distribution.
FrozenTrial waiting_trial() {
  FrozenTrial t;
  t.state = TrialState::Waiting;
  t.params = {{"x", 0.5}};
  t.distributions = {{"x", FloatDistribution{0.0, 1.0, false, std::nullopt}}};
  return t;
}

bool near_now(const std::optional<Clock::time_point>& t) {
  return t && std::abs(std::chrono::duration<double>(Clock::now() - *t).count()) < 5.0;
}

}  // namespace

// Names are counted in characters, not bytes: 512 fit, 513 are refused with a message
// showing the start of the name, the count and the limit.
TEST_CASE("name_problem", "[storage][arguments]") {
  CHECK_FALSE(name_problem("study name", ""));
  CHECK_FALSE(name_problem("study name", repeat("\u00e9", k_max_name_chars)));
  auto problem = name_problem("study name", repeat("a", k_max_name_chars + 1));
  REQUIRE(problem);
  CHECK(*problem == "study name '" + repeat("a", 40) +
                        "...' has 513 characters; Optuna's schema holds at most 512");
}

// The start of a name cut for a message never splits a character, so the message stays
// valid UTF-8 (it may be stored as a trial's fail_reason, a JSON string).
TEST_CASE("name_problem cuts names at a character boundary", "[storage][arguments]") {
  for (const char* c : {"\u20ac", "\U0001F600", "\u00e9"}) {  // 3, 4 and 2 bytes.
    INFO(c);
    auto problem = name_problem("attribute key", repeat(c, k_max_name_chars + 1));
    REQUIRE(problem);
    CHECK(valid_utf8(*problem));
    CHECK_THAT(*problem, Catch::StartsWith("attribute key '" + std::string(c)) &&
                             Catch::Contains("...' has 513 characters"));
  }
}

// create_trial's template: every parameter has a distribution, names and keys fit, and no
// value is NaN (infinities are stored).
TEST_CASE("new_trial_problem", "[storage][arguments]") {
  auto t = waiting_trial();
  CHECK_FALSE(new_trial_problem(t));
  t.state = TrialState::Complete;
  t.value = HUGE_VAL;
  CHECK_FALSE(new_trial_problem(t));

  auto no_distribution = waiting_trial();
  no_distribution.params["y"] = 1.0;
  CHECK(new_trial_problem(no_distribution) ==
        "cannot create a trial: parameter 'y' has no distribution");

  const std::string too_long = repeat("k", k_max_name_chars + 1);
  auto long_param = waiting_trial();
  long_param.params[too_long] = 0.5;
  long_param.distributions[too_long] = long_param.distributions.at("x");
  CHECK_THAT(new_trial_problem(long_param).value_or(""),
             Catch::StartsWith("cannot create a trial: parameter name '"));
  auto long_user_key = waiting_trial();
  long_user_key.user_attrs[too_long] = 1;
  CHECK_THAT(new_trial_problem(long_user_key).value_or(""),
             Catch::StartsWith("cannot create a trial: attribute key '"));
  auto long_system_key = waiting_trial();
  long_system_key.system_attrs[too_long] = 1;
  CHECK_THAT(new_trial_problem(long_system_key).value_or(""), Catch::Contains("513 characters"));

  auto nan = waiting_trial();
  nan.value = std::nan("");
  CHECK(new_trial_problem(nan) == "cannot create a trial: its value is NaN");
  auto nan_objective = waiting_trial();
  nan_objective.values = {1.0, std::nan("")};
  CHECK(new_trial_problem(nan_objective) == "cannot create a trial: its value is NaN");
}

// A finish refuses NaN values and COMPLETE without a value; other states may have none.
TEST_CASE("state_values_problem", "[storage][arguments]") {
  CHECK_FALSE(state_values_problem(7, TrialState::Complete, {1.0}));
  CHECK_FALSE(state_values_problem(7, TrialState::Complete, {-HUGE_VAL, 2.0}));
  CHECK_FALSE(state_values_problem(7, TrialState::Pruned, {}));
  CHECK_FALSE(state_values_problem(7, TrialState::Fail, {}));
  CHECK(state_values_problem(7, TrialState::Complete, {}) == "trial id 7: COMPLETE needs a value");
  CHECK(state_values_problem(7, TrialState::Pruned, {0.5, std::nan("")}) ==
        "trial id 7: a NaN value cannot be stored (make the trial FAIL)");
}

// The attributes written with a finish: an object whose keys fit Optuna's schema, or none.
TEST_CASE("state_values_problem with system attributes", "[storage][arguments]") {
  const Json attrs{{"constraints", {-1.0, 0.5}}, {"fail_reason", "x"}};
  CHECK_FALSE(state_values_problem(7, TrialState::Complete, {1.0}, &attrs));
  const Json empty = Json::object();
  CHECK_FALSE(state_values_problem(7, TrialState::Fail, {}, &empty));
  const Json list{1, 2};
  CHECK(state_values_problem(7, TrialState::Fail, {}, &list) ==
        "trial id 7: system attributes must be an object, not array");
  const Json long_key{{std::string(k_max_name_chars + 1, 'k'), 1}};
  const auto problem = state_values_problem(7, TrialState::Fail, {}, &long_key);
  REQUIRE(problem);
  CHECK(problem->rfind("trial id 7: attribute key 'kkkk", 0) == 0);
  // The values are checked first: the same message as without attributes.
  CHECK(state_values_problem(7, TrialState::Complete, {}, &attrs) ==
        "trial id 7: COMPLETE needs a value");
}

// Given times are kept; a missing start is now unless WAITING, a missing completion is now
// for finished states only.
TEST_CASE("new_trial_times", "[storage][arguments]") {
  auto waiting = new_trial_times(waiting_trial());
  CHECK_FALSE(waiting.start);
  CHECK_FALSE(waiting.complete);

  FrozenTrial running;
  running.state = TrialState::Running;
  auto r = new_trial_times(running);
  CHECK(near_now(r.start));
  CHECK_FALSE(r.complete);

  for (auto state : {TrialState::Complete, TrialState::Pruned, TrialState::Fail}) {
    FrozenTrial done;
    done.state = state;
    auto d = new_trial_times(done);
    CHECK(near_now(d.start));
    CHECK(near_now(d.complete));
  }

  const auto start = Clock::time_point(std::chrono::hours(24 * 365 * 30));
  FrozenTrial imported;
  imported.state = TrialState::Complete;
  imported.datetime_start = start;
  imported.datetime_complete = start + std::chrono::seconds(90);
  auto i = new_trial_times(imported);
  CHECK(i.start == start);
  CHECK(i.complete == start + std::chrono::seconds(90));
  auto waiting_with_start = waiting_trial();
  waiting_with_start.datetime_start = start;
  CHECK(new_trial_times(waiting_with_start).start == start);
}
