#include <catch2/catch.hpp>

#include "../reports/study_fixtures.hpp"
#include "hpt/dashboard/study_watch.hpp"

namespace {

using hpt::FrozenTrial;
using hpt::dashboard::StudyWatch;

std::shared_ptr<const std::vector<FrozenTrial>> share(std::vector<FrozenTrial> trials) {
  return std::make_shared<const std::vector<FrozenTrial>>(std::move(trials));
}

}  // namespace

// The first update reports every trial; an identical snapshot changes nothing.
TEST_CASE("first update sees all, a repeat sees none", "[study_watch]") {
  StudyWatch w(hpt::test::study_info(1, "s"));
  CHECK(w.revision() == 0);
  CHECK(w.trials()->empty());
  REQUIRE(w.update(share(hpt::test::mixed_study(10))));
  CHECK(w.revision() == 1);
  CHECK(w.changed_since(0).size() == 10);
  CHECK(w.changed_since(1).empty());
  CHECK_FALSE(w.update(share(hpt::test::mixed_study(10))));
  CHECK(w.revision() == 1);
  CHECK(w.changed_since(1).empty());
}

// A new trial, a new step of a running trial and a finished trial are each reported once.
TEST_CASE("changes are reported after the cursor", "[study_watch]") {
  auto trials = hpt::test::mixed_study(5);
  trials[4].state = hpt::TrialState::Running;
  trials[4].value.reset();
  StudyWatch w(hpt::test::study_info(1, "s"));
  w.update(share(trials));
  trials[4].intermediate_values[99] = 0.5;
  REQUIRE(w.update(share(trials)));
  CHECK(w.changed_since(1) == std::vector<size_t>{4});
  trials[4].user_attrs["note"] = "y";
  trials.push_back(hpt::test::make_trial(5, hpt::TrialState::Complete, 1.0));
  REQUIRE(w.update(share(trials)));
  CHECK(w.revision() == 3);
  CHECK(w.changed_since(2) == std::vector<size_t>{4, 5});
  trials[4].user_attrs["note"] = "z";  // A running trial's attr value changes in place.
  REQUIRE(w.update(share(trials)));
  CHECK(w.changed_since(3) == std::vector<size_t>{4});
  CHECK(w.changed_since(0).size() == 6);
}

// The fingerprint tells apart what the page shows: state, value, steps.
TEST_CASE("trial fingerprint", "[study_watch]") {
  auto t = hpt::test::make_trial(0, hpt::TrialState::Complete, 1.0);
  const auto base = hpt::dashboard::trial_fingerprint(t);
  CHECK(hpt::dashboard::trial_fingerprint(t) == base);
  auto v = t;
  v.value = 2.0;
  CHECK(hpt::dashboard::trial_fingerprint(v) != base);
  auto s = t;
  s.state = hpt::TrialState::Pruned;
  CHECK(hpt::dashboard::trial_fingerprint(s) != base);
  auto i = t;
  i.intermediate_values[3] = 0.1;
  CHECK(hpt::dashboard::trial_fingerprint(i) != base);
}
