#include <algorithm>
#include <catch2/catch.hpp>

#include "../../storage/src/trial_cache.hpp"  // Internal to storage.

using namespace hpt;

namespace {

FrozenTrial trial(int64_t id, int number, TrialState state, double value = 0.0) {
  FrozenTrial t;
  t.id = id;
  t.number = number;
  t.state = state;
  t.value = value;
  return t;
}

// A study's trials as a database holds them, read the way SqlStorage reads them: the trials
// with id > max_id or id in unfinished, by number, and the count of all. Records each read.
struct FakeTable {
  std::vector<FrozenTrial> rows;
  std::vector<std::pair<int64_t, std::vector<int64_t>>> reads;  // (max_id, unfinished).

  TrialCache::Reader reader() {
    return [this](int64_t max_id, const std::vector<int64_t>& unfinished) {
      reads.emplace_back(max_id, unfinished);
      TrialCache::Delta delta;
      for (const auto& t : rows) {
        if (t.id > max_id || std::count(unfinished.begin(), unfinished.end(), t.id) > 0) {
          delta.trials.push_back(t);
        }
      }
      std::stable_sort(
          delta.trials.begin(), delta.trials.end(),
          [](const FrozenTrial& a, const FrozenTrial& b) { return a.number < b.number; });
      delta.total = rows.size();
      return delta;
    };
  }
  FrozenTrial& with_id(int64_t id) {
    return *std::find_if(rows.begin(), rows.end(),
                         [&](const FrozenTrial& t) { return t.id == id; });
  }
};

std::vector<int> numbers(const std::vector<FrozenTrial>& trials) {
  std::vector<int> out;
  for (const auto& t : trials) {
    out.push_back(t.number);
  }
  return out;
}

}  // namespace

// The first refresh reads every trial; later ones only the new trials, those unfinished at
// the last refresh and the first finished one (the probe, kept as cached), so a finished trial
// is never read again but that one.
TEST_CASE("TrialCache reads only what may have changed", "[storage][cache]") {
  FakeTable db;
  db.rows = {trial(1, 0, TrialState::Complete, 1.0), trial(2, 1, TrialState::Running),
             trial(3, 2, TrialState::Waiting)};
  TrialCache cache;
  CHECK_FALSE(cache.trials());
  auto first = cache.refresh(db.reader());
  REQUIRE(first);
  CHECK(numbers(*first) == std::vector<int>{0, 1, 2});
  CHECK(cache.trials() == first);
  REQUIRE(db.reads.size() == 1);
  CHECK(db.reads[0] == std::make_pair(int64_t{0}, std::vector<int64_t>{}));
  first.reset();

  db.with_id(1).value = 99.0;  // Finished: not read again.
  db.with_id(2).state = TrialState::Complete;
  db.with_id(2).value = 2.0;
  db.rows.push_back(trial(4, 3, TrialState::Running));
  auto second = cache.refresh(db.reader());
  REQUIRE(db.reads.size() == 2);
  CHECK(db.reads[1] == std::make_pair(int64_t{3}, std::vector<int64_t>{2, 3, 1}));
  REQUIRE(second->size() == 4);
  CHECK((*second)[0].value == 1.0);
  CHECK((*second)[1].state == TrialState::Complete);
  CHECK((*second)[1].value == 2.0);
  CHECK((*second)[3].id == 4);
  second.reset();

  cache.refresh(db.reader());
  CHECK(db.reads[2] == std::make_pair(int64_t{4}, std::vector<int64_t>{3, 4, 1}));
}

// A vector still held by a caller is copied before a refresh changes anything; one nobody
// else holds is updated in place.
TEST_CASE("TrialCache is copy-on-write", "[storage][cache]") {
  FakeTable db;
  db.rows = {trial(1, 0, TrialState::Running)};
  TrialCache cache;
  auto held = cache.refresh(db.reader());
  db.with_id(1).state = TrialState::Pruned;
  db.rows.push_back(trial(2, 1, TrialState::Running));
  auto fresh = cache.refresh(db.reader());
  CHECK(fresh != held);
  REQUIRE(held->size() == 1);
  CHECK(held->at(0).state == TrialState::Running);
  REQUIRE(fresh->size() == 2);
  CHECK(fresh->at(0).state == TrialState::Pruned);

  held.reset();
  const auto* address = fresh.get();
  fresh.reset();
  db.with_id(2).state = TrialState::Fail;
  auto again = cache.refresh(db.reader());
  CHECK(again.get() == address);
  CHECK(again->at(1).state == TrialState::Fail);
}

// A first read out of number order is sorted, and later updates still reach the right trial.
TEST_CASE("TrialCache sorts by number", "[storage][cache]") {
  FakeTable db;
  db.rows = {trial(1, 0, TrialState::Running), trial(2, 1, TrialState::Running)};
  TrialCache cache;
  // A reader that returns the first read in reverse order.
  auto reversed = [&](int64_t max_id, const std::vector<int64_t>& unfinished) {
    auto delta = db.reader()(max_id, unfinished);
    std::reverse(delta.trials.begin(), delta.trials.end());
    return delta;
  };
  CHECK(numbers(*cache.refresh(reversed)) == std::vector<int>{0, 1});
  db.with_id(1).value = 5.0;
  db.with_id(2).value = 6.0;
  auto trials = cache.refresh(db.reader());
  CHECK(trials->at(0).id == 1);
  CHECK(trials->at(0).value == 5.0);
  CHECK(trials->at(1).value == 6.0);
}

// When the delta does not fit the cache (a new trial numbered below a cached one, or trials
// deleted), everything is read again.
TEST_CASE("TrialCache reads all again when the delta does not fit", "[storage][cache]") {
  FakeTable db;
  db.rows = {trial(1, 0, TrialState::Complete), trial(2, 2, TrialState::Complete)};
  TrialCache cache;
  cache.refresh(db.reader());

  SECTION("numbers out of order") {
    db.rows.push_back(trial(3, 1, TrialState::Complete));
    auto trials = cache.refresh(db.reader());
    REQUIRE(db.reads.size() == 3);
    CHECK(db.reads[2] == std::make_pair(int64_t{0}, std::vector<int64_t>{}));
    CHECK(numbers(*trials) == std::vector<int>{0, 1, 2});
  }
  SECTION("the study deleted and made again, its trial ids reused") {
    // As many trials as before, same ids and numbers: only the probe tells them apart.
    db.rows = {trial(1, 0, TrialState::Complete, 7.0), trial(2, 1, TrialState::Complete, 8.0)};
    db.rows[0].datetime_start = hpt::Clock::now();
    auto trials = cache.refresh(db.reader());
    REQUIRE(db.reads.size() == 3);
    CHECK(db.reads[2].first == 0);
    CHECK(numbers(*trials) == std::vector<int>{0, 1});
    CHECK(trials->at(0).value == 7.0);
    CHECK(trials->at(1).value == 8.0);
  }
  SECTION("a trial deleted") {
    db.rows.erase(db.rows.begin());
    auto trials = cache.refresh(db.reader());
    REQUIRE(db.reads.size() == 3);
    CHECK(db.reads[2].first == 0);
    CHECK(numbers(*trials) == std::vector<int>{2});
  }
}

// trials_in_states keeps the given states in order; no states means all.
TEST_CASE("trials_in_states", "[storage][cache]") {
  const std::vector<FrozenTrial> all = {
      trial(1, 0, TrialState::Complete), trial(2, 1, TrialState::Fail),
      trial(3, 2, TrialState::Complete), trial(4, 3, TrialState::Waiting)};
  CHECK(numbers(trials_in_states(all, {})) == std::vector<int>{0, 1, 2, 3});
  CHECK(numbers(trials_in_states(all, {TrialState::Complete})) == std::vector<int>{0, 2});
  CHECK(numbers(trials_in_states(all, {TrialState::Waiting, TrialState::Fail})) ==
        std::vector<int>{1, 3});
  CHECK(trials_in_states(all, {TrialState::Pruned}).empty());
}
