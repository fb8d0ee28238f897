#pragma once
// The storage conformance suite: every Storage backend must pass it. A backend's test
// file expands HPT_STORAGE_CONFORMANCE_TESTS(name, new_db) where new_db() makes a new,
// empty database and returns a StorageFactory opening connections to it, or an empty
// factory (after a WARN saying why) to skip the case, e.g. when no server is configured.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "child_processes.hpp"
#include "faulty_dialect.hpp"
#include "hpt/io/stop_signals.hpp"
#include "hpt/storage/attribute_names.hpp"
#include "hpt/storage/storage.hpp"

namespace hpt::conformance {

using StorageFactory = std::function<std::unique_ptr<Storage>()>;

inline const double k_nan = std::numeric_limits<double>::quiet_NaN();
inline const double k_inf = std::numeric_limits<double>::infinity();

// Attribute values of every JSON type.
inline std::map<std::string, Json> every_json_type() {
  return {{"null", nullptr},
          {"true", true},
          {"int", -42},
          {"big", int64_t{1} << 53},
          {"float", 0.125},
          {"small", 1e-300},
          {"string", "héllo \"quoted\"\n"},
          {"empty", ""},
          {"list", Json::array({1, "two", nullptr, Json::array({3.5})})},
          {"object", Json{{"a", 1}, {"b", Json::array({true, false})}, {"c", Json::object()}}}};
}

inline std::map<std::string, Distribution> every_distribution() {
  return {{"f", FloatDistribution{-1.0, 1.0, false, std::nullopt}},
          {"flog", FloatDistribution{1e-5, 1e-1, true, std::nullopt}},
          {"fstep", FloatDistribution{0.0, 1.0, false, 0.25}},
          {"i", IntDistribution{0, 10, false, 1}},
          {"ilog", IntDistribution{1, 1024, true, 1}},
          {"istep", IntDistribution{8, 64, false, 8}},
          {"cat", CategoricalDistribution{{"adam", 3, nullptr, true, 0.5, Json::array({64, 32})}}}};
}

inline FrozenTrial finished_template(TrialState state, std::optional<double> value) {
  FrozenTrial t;
  t.state = state;
  t.value = value;
  t.distributions = every_distribution();
  t.params = {{"f", -0.5},   {"flog", 1e-3}, {"fstep", 0.75}, {"i", 7},
              {"ilog", 256}, {"istep", 24},  {"cat", 5}};
  t.intermediate_values = {{0, 1.5}, {1, k_nan}, {2, k_inf}, {3, -k_inf}, {10, -2.25}};
  t.user_attrs = every_json_type();
  t.system_attrs = {{"fixed_params", Json{{"f", -0.5}}}};
  t.datetime_start = Clock::now() - std::chrono::seconds(90);
  t.datetime_complete = Clock::now() - std::chrono::seconds(30);
  return t;
}

// NaN-aware equality of intermediate values.
inline bool same_values(const hpt::StepValues& a, const hpt::StepValues& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (const auto& [step, v] : a) {
    auto it = b.find(step);
    if (it == b.end() || !(v == it->second || (std::isnan(v) && std::isnan(it->second)))) {
      return false;
    }
  }
  return true;
}

inline void check_same_time(const std::optional<Clock::time_point>& a,
                            const std::optional<Clock::time_point>& b) {
  REQUIRE(a.has_value() == b.has_value());
  if (a) {
    auto diff = std::chrono::duration_cast<std::chrono::microseconds>(*a - *b).count();
    CHECK(std::abs(diff) <= 1);
  }
}

inline void check_same_trial(const FrozenTrial& got, const FrozenTrial& want) {
  CHECK(got.state == want.state);
  CHECK(got.value == want.value);
  CHECK(got.params == want.params);
  CHECK(got.distributions == want.distributions);
  CHECK(same_values(got.intermediate_values, want.intermediate_values));
  CHECK(got.user_attrs == want.user_attrs);
  for (const auto& [k, v] : want.system_attrs) {
    CHECK(got.system_attrs.at(k) == v);
  }
  check_same_time(got.datetime_start, want.datetime_start);
  check_same_time(got.datetime_complete, want.datetime_complete);
}

inline void check_studies(const StorageFactory& open) {
  auto s = open();
  CHECK(s->list_studies().empty());
  CHECK_FALSE(s->find_study("a").has_value());
  int64_t a = s->create_study("a", Direction::Minimize);
  int64_t b = s->create_study("b", Direction::Maximize);
  CHECK(a != b);
  CHECK_THROWS_AS(s->create_study("a", Direction::Maximize), StorageError);
  auto found = s->find_study("b");
  REQUIRE(found);
  CHECK(found->id == b);
  CHECK(found->direction() == Direction::Maximize);
  auto all = s->list_studies();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "a");
  CHECK(all[0].direction() == Direction::Minimize);
  CHECK(all[1].name == "b");
  // Another connection sees the same studies.
  CHECK(open()->find_study("a")->id == a);
}

inline void check_study_attrs(const StorageFactory& open) {
  auto s = open();
  int64_t id = s->create_study("attrs", Direction::Minimize);
  CHECK(s->study_user_attrs(id).empty());
  for (const auto& [k, v] : every_json_type()) {
    s->set_study_user_attr(id, k, v);
  }
  s->set_study_system_attr(id, "sys", Json{{"x", 1}});
  s->set_study_system_attr(id, "sys", Json{{"x", 2}});  // Overwrites.
  s->set_study_user_attr(id, "nan", k_nan);
  auto user = open()->study_user_attrs(id);
  CHECK(std::isnan(user.at("nan").get<double>()));
  user.erase("nan");
  CHECK(user == every_json_type());
  CHECK(s->study_system_attrs(id) == std::map<std::string, Json>{{"sys", Json{{"x", 2}}}});
  CHECK_THROWS_AS(s->set_study_user_attr(id + 100, "k", 1), StorageError);
  CHECK_THROWS_AS(s->study_user_attrs(id + 100), StorageError);
}

// study_system_attr_once: the first value wins, for racing connections too.
inline void check_study_attr_once(const StorageFactory& open) {
  const int64_t id = open()->create_study("once", Direction::Minimize);
  std::vector<Json> got(4);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] { got[w] = open()->study_system_attr_once(id, "key", w); });
  }
  for (auto& t : threads) {
    t.join();
  }
  const Json first = open()->study_system_attrs(id).at("key");
  CHECK(first.is_number_integer());
  for (const Json& v : got) {
    CHECK(v == first);
  }
  auto s = open();
  CHECK(s->study_system_attr_once(id, "key", "other") == first);  // Kept.
  CHECK(s->study_system_attrs(id).at("key") == first);
  CHECK_THROWS_AS(s->study_system_attr_once(id + 100, "key", 1), StorageError);
}

inline void check_create_and_read_trials(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("trials", Direction::Minimize);
  auto complete = finished_template(TrialState::Complete, 0.5);
  auto pruned = finished_template(TrialState::Pruned, -2.25);
  auto failed = finished_template(TrialState::Fail, std::nullopt);
  auto inf = finished_template(TrialState::Complete, k_inf);
  auto neg_inf = finished_template(TrialState::Complete, -k_inf);
  FrozenTrial waiting;
  waiting.state = TrialState::Waiting;
  waiting.system_attrs = {{"fixed_params", Json{{"i", 3}}}};
  std::vector<FrozenTrial> templates = {complete, pruned, failed, inf, neg_inf, waiting};
  std::vector<int64_t> ids;
  for (const auto& t : templates) {
    ids.push_back(s->create_trial(study, t));
  }
  CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == ids.size());
  auto reader = open();
  auto all = reader->get_all_trials(study);
  REQUIRE(all.size() == templates.size());
  for (size_t i = 0; i < all.size(); ++i) {
    INFO("trial " << i);
    CHECK(all[i].number == static_cast<int>(i));
    CHECK(all[i].id == ids[i]);
    check_same_trial(all[i], templates[i]);
    check_same_trial(reader->get_trial(ids[i]), templates[i]);
  }
  CHECK_FALSE(all[5].datetime_start.has_value());
  CHECK(all[3].value == k_inf);
  CHECK(all[4].value == -k_inf);
  // External values come back through the distributions: a list choice as the JSON text
  // it is stored as, which Optuna reads too.
  CHECK(all[0].external_params()["cat"] == Json("[64,32]"));
  CHECK(all[0].external_params()["istep"] == 24);

  auto only = reader->get_all_trials(study, {TrialState::Complete, TrialState::Waiting});
  REQUIRE(only.size() == 4);
  CHECK(only[0].number == 0);
  CHECK(only[3].number == 5);
  CHECK(reader->count_trials(study) == 6);
  CHECK(reader->count_trials(study, {TrialState::Complete}) == 3);
  CHECK(reader->count_trials(study, {TrialState::Pruned, TrialState::Fail}) == 2);
  CHECK_THROWS_AS(reader->get_trial(ids.back() + 1000), StorageError);
  // find_trial: one trial by number, as get_all_trials reads it; none past the last.
  for (size_t i = 0; i < all.size(); ++i) {
    const auto one = reader->find_trial(study, static_cast<int>(i));
    REQUIRE(one);
    CHECK(one->id == all[i].id);
    check_same_trial(*one, templates[i]);
  }
  CHECK_FALSE(reader->find_trial(study, static_cast<int>(all.size())));
  CHECK_FALSE(reader->find_trial(study, -1));
  CHECK_THROWS_AS(reader->find_trial(study + 1000, 0), StorageError);
  CHECK_THROWS_AS(reader->get_all_trials(study + 1000), StorageError);
  // Studies do not see each other's trials; numbers restart at 0.
  int64_t other = s->create_study("other", Direction::Maximize);
  int64_t first = s->create_trial(other, complete);
  CHECK(s->get_trial(first).number == 0);
  CHECK(s->get_all_trials(other).size() == 1);
  CHECK(s->get_all_trials(study).size() == 6);
  CHECK(s->find_trial(other, 0)->id == first);  // Its own trial 0, not the first study's.
  CHECK_FALSE(s->find_trial(other, 1));
}

// trial_outlines: every study's trials (studies interleaved, one multi-objective, one empty)
// with the ids, numbers, states, values and datetimes get_all_trials reads.
inline void check_trial_outlines(const StorageFactory& open) {
  auto s = open();
  const int64_t a = s->create_study("a", Direction::Minimize);
  const int64_t mo = s->create_study("mo", {Direction::Minimize, Direction::Maximize});
  const int64_t empty = s->create_study("empty", Direction::Maximize);
  FrozenTrial two;
  two.state = TrialState::Complete;
  two.values = {1.5, -k_inf};
  for (const auto& t : {finished_template(TrialState::Complete, 0.5),
                        finished_template(TrialState::Pruned, -2.25)}) {
    s->create_trial(a, t);
    s->create_trial(mo, two);
  }
  s->create_trial(a, finished_template(TrialState::Fail, std::nullopt));
  FrozenTrial waiting;
  waiting.state = TrialState::Waiting;
  s->create_trial(mo, waiting);
  auto reader = open();
  const auto outlines_read = reader->trial_outlines();
  const auto& outlines = *outlines_read;
  CHECK(outlines.count(empty) == 0);
  for (const int64_t study : {a, mo}) {
    INFO("study " << study);
    const auto all = reader->get_all_trials(study);
    REQUIRE(outlines.count(study) == 1);
    const auto& got = outlines.at(study);
    REQUIRE(got.size() == all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(got[i].id == all[i].id);
      CHECK(got[i].number == all[i].number);
      CHECK(got[i].state == all[i].state);
      CHECK(got[i].value == all[i].value);
      CHECK(got[i].values == all[i].values);
      check_same_time(got[i].datetime_start, all[i].datetime_start);
      check_same_time(got[i].datetime_complete, all[i].datetime_complete);
    }
  }
  CHECK(outlines.at(a).size() == 3);
  CHECK(outlines.at(mo).at(1).values == std::vector<double>{1.5, -k_inf});
  // Read again, unchanged: the same; after a write elsewhere, the new trial is there.
  CHECK(reader->trial_outlines()->at(a).size() == 3);
  s->create_trial(empty, waiting);
  CHECK(reader->trial_outlines()->at(empty).size() == 1);
  CHECK(outlines.count(empty) == 0);  // The earlier answer is left as it was.
}

inline void check_trial_setters(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("setters", Direction::Maximize);
  auto claim = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(claim);
  int64_t id = claim->trial.id;
  Distribution cat = CategoricalDistribution{{"a", Json::array({1, 2}), nullptr}};
  s->set_trial_param(id, "x", 0.25, FloatDistribution{0.0, 1.0, false, std::nullopt});
  s->set_trial_param(id, "c", 1, cat);
  s->set_trial_intermediate_value(id, 0, 1.0);
  s->set_trial_intermediate_value(id, 1, k_nan);
  s->set_trial_intermediate_value(id, 2, k_inf);
  s->set_trial_intermediate_value(id, 3, -k_inf);
  s->set_trial_intermediate_value(id, 0, 2.0);  // Overwrites step 0.
  for (const auto& [k, v] : every_json_type()) {
    s->set_trial_user_attr(id, k, v);
  }
  s->set_trial_system_attr(id, "fail_reason", "none");
  auto t = open()->get_trial(id);
  CHECK(t.state == TrialState::Running);
  CHECK(t.params == std::map<std::string, double>{{"c", 1}, {"x", 0.25}});
  CHECK(t.distributions.at("c") == cat);
  CHECK(t.external_params()["c"] == Json("[1,2]"));  // A list choice, as stored.
  CHECK(same_values(t.intermediate_values, {{0, 2.0}, {1, k_nan}, {2, k_inf}, {3, -k_inf}}));
  CHECK(t.user_attrs == every_json_type());
  CHECK(t.system_attrs.at("fail_reason") == "none");
  CHECK(t.system_attrs.at("hpt:owner") == "me");
  CHECK_FALSE(t.datetime_complete);

  CHECK_THROWS_AS(s->set_trial_state_values(id, TrialState::Complete, std::nullopt), StorageError);
  CHECK_THROWS_AS(s->set_trial_state_values(id, TrialState::Complete, k_nan), StorageError);
  CHECK_FALSE(s->set_trial_state_values(id, TrialState::Running, std::nullopt));
  auto before = Clock::now() - std::chrono::seconds(1);
  CHECK(s->set_trial_state_values(id, TrialState::Complete, k_inf));
  // A finished trial no longer moves, whoever asks.
  CHECK_FALSE(open()->set_trial_state_values(id, TrialState::Fail, std::nullopt));
  CHECK_FALSE(s->set_trial_state_values(id, TrialState::Complete, 1.0));
  t = s->get_trial(id);
  CHECK(t.state == TrialState::Complete);
  CHECK(t.value == k_inf);
  REQUIRE(t.datetime_complete);
  CHECK(*t.datetime_complete >= before);
  CHECK(*t.datetime_complete <= Clock::now() + std::chrono::seconds(1));
  CHECK(t.duration_seconds().value() >= 0.0);
  // Finished trials are immutable (as in Optuna).
  CHECK_THROWS_AS(s->set_trial_user_attr(id, "late", 1), StorageError);
  CHECK_THROWS_AS(s->set_trial_intermediate_value(id, 9, 1.0), StorageError);
  CHECK_THROWS_AS(s->set_trial_param(id, "y", 0.0, cat), StorageError);
  CHECK_THROWS_AS(s->set_trial_system_attr(id + 1000, "k", 1), StorageError);
  CHECK_THROWS_AS(s->set_trial_state_values(id + 1000, TrialState::Fail, std::nullopt),
                  StorageError);

  // PRUNED keeps its (optional) value; FAIL without one.
  auto p = s->claim_trial(study, 10, "me", nullptr);
  CHECK(s->set_trial_state_values(p->trial.id, TrialState::Pruned, -k_inf));
  CHECK(s->get_trial(p->trial.id).value == -k_inf);
  auto f = s->claim_trial(study, 10, "me", nullptr);
  CHECK(s->set_trial_state_values(f->trial.id, TrialState::Fail, std::nullopt));
  CHECK_FALSE(s->get_trial(f->trial.id).value);
}

inline void check_claim_new_and_limit(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("claim", Direction::Minimize);
  auto now = Clock::now();
  auto c0 = s->claim_trial(study, 3, Json{{"pid", 1}}, nullptr);
  REQUIRE(c0);
  CHECK(c0->kind == TrialClaim::Kind::New);
  CHECK(c0->trial.number == 0);
  CHECK(c0->trial.state == TrialState::Running);
  CHECK(c0->trial.system_attrs.at("hpt:owner") == Json{{"pid", 1}});
  REQUIRE(c0->trial.datetime_start);
  CHECK(std::abs(std::chrono::duration<double>(*c0->trial.datetime_start - now).count()) < 5);
  auto age = s->heartbeat_age(c0->trial.id);
  REQUIRE(age);
  CHECK(*age > -1.0);
  CHECK(*age < 5.0);
  auto c1 = s->claim_trial(study, 3, 2, nullptr);
  auto c2 = s->claim_trial(study, 3, 3, nullptr);
  REQUIRE(c1);
  REQUIRE(c2);
  CHECK(c1->trial.number == 1);
  CHECK(c2->trial.number == 2);
  CHECK_FALSE(s->claim_trial(study, 3, 4, nullptr));  // 3 RUNNING count toward the limit.
  CHECK(s->set_trial_state_values(c0->trial.id, TrialState::Complete, 1.0));
  CHECK(s->set_trial_state_values(c1->trial.id, TrialState::Pruned, 2.0));
  CHECK_FALSE(s->claim_trial(study, 3, 4, nullptr));  // Finished ones count too.
  CHECK(s->set_trial_state_values(c2->trial.id, TrialState::Fail, std::nullopt));
  auto c3 = s->claim_trial(study, 3, 5, nullptr);  // A FAIL does not count.
  REQUIRE(c3);
  CHECK(c3->kind == TrialClaim::Kind::New);
  CHECK(c3->trial.number == 3);
  CHECK_FALSE(s->claim_trial(study, 3, 6, nullptr));
  CHECK(s->claim_trial(study, 4, 6, nullptr)->trial.number == 4);
  CHECK_THROWS_AS(s->claim_trial(study + 100, 3, 1, nullptr), StorageError);
}

inline void check_claim_waiting_first(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("waiting", Direction::Minimize);
  auto running = s->claim_trial(study, 10, "a", nullptr);
  FrozenTrial w;
  w.state = TrialState::Waiting;
  w.distributions = {{"i", IntDistribution{0, 10, false, 1}}};
  w.params = {{"i", 4}};
  w.system_attrs = {{"fixed_params", Json{{"i", 4}}}};
  w.intermediate_values = {{0, 1.5}};        // Left by a run that was handed back, with the
  w.system_attrs["completed_rung_0"] = 1.5;  // pruner's rung value of that step.
  int64_t w1 = s->create_trial(study, w);
  w.intermediate_values.clear();
  w.system_attrs.erase("completed_rung_0");
  w.params = {{"i", 5}};
  int64_t w2 = s->create_trial(study, w);
  // WAITING trials come first, oldest first, before orphans and new trials: the limit counts
  // only finished and RUNNING trials for them.
  auto orphan_all = [](const FrozenTrial&) { return true; };
  auto c = s->claim_trial(study, 3, "b", orphan_all);
  REQUIRE(c);
  CHECK(c->kind == TrialClaim::Kind::Waiting);
  CHECK(c->trial.id == w1);
  CHECK(c->trial.number == 1);
  CHECK(c->trial.state == TrialState::Running);
  CHECK(c->trial.params == std::map<std::string, double>{{"i", 4}});
  CHECK(c->trial.intermediate_values.empty());
  CHECK(c->trial.system_attrs.count("completed_rung_0") == 0);  // Its new run is judged anew.
  CHECK(c->trial.system_attrs.at("fixed_params") == Json{{"i", 4}});
  CHECK(c->trial.system_attrs.at("hpt:owner") == "b");
  CHECK(c->trial.datetime_start.has_value());
  CHECK(s->heartbeat_age(w1).has_value());
  auto d = s->claim_trial(study, 3, "b", nullptr);
  REQUIRE(d);
  CHECK(d->trial.id == w2);
  CHECK_FALSE(s->claim_trial(study, 3, "b", nullptr));
  CHECK(running->trial.number == 0);
  // Handed back, then claimed with no owner (hpt ask): no heartbeat, not even the old one.
  REQUIRE(s->set_trial_state_values(w1, TrialState::Waiting, std::vector<double>{}));
  auto asked = s->claim_trial(study, 10, Json(), nullptr);
  REQUIRE(asked);
  CHECK(asked->trial.id == w1);
  CHECK(asked->trial.system_attrs.at("hpt:owner").is_null());
  CHECK_FALSE(s->heartbeat_age(w1).has_value());
  auto fresh = s->claim_trial(study, 10, Json(), nullptr);  // A new trial: none either.
  REQUIRE(fresh);
  CHECK(fresh->kind == TrialClaim::Kind::New);
  CHECK_FALSE(s->heartbeat_age(fresh->trial.id).has_value());
}

inline void check_claim_orphan(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("orphan", Direction::Minimize);
  auto a = s->claim_trial(study, 2, "dead", nullptr);
  auto b = s->claim_trial(study, 2, "alive", nullptr);
  REQUIRE(a);
  REQUIRE(b);
  s->set_trial_param(a->trial.id, "x", 0.5, FloatDistribution{0.0, 1.0, false, std::nullopt});
  s->set_trial_intermediate_value(a->trial.id, 0, 0.9);
  s->set_trial_intermediate_value(a->trial.id, 1, 0.8);
  s->set_trial_system_attr(a->trial.id, "completed_rung_0", 0.9);
  s->set_trial_system_attr(a->trial.id, "completed_rungs", 1);  // Not a rung value: kept.
  s->set_trial_user_attr(a->trial.id, "u", 1);
  CHECK_FALSE(s->claim_trial(study, 2, "new", nullptr));
  // The callback sees whole trials (owner attr included) and picks the orphan.
  std::vector<int> asked;
  auto is_dead = [&](const FrozenTrial& t) {
    asked.push_back(t.number);
    return t.system_attrs.at("hpt:owner") == "dead";
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto c = open()->claim_trial(study, 2, "new", is_dead);
  REQUIRE(c);
  CHECK(c->kind == TrialClaim::Kind::Orphan);
  CHECK(c->trial.id == a->trial.id);
  CHECK(c->trial.number == 0);
  CHECK(c->trial.state == TrialState::Running);
  CHECK(c->trial.intermediate_values.empty());
  CHECK(c->trial.system_attrs.count("completed_rung_0") == 0);
  CHECK(c->trial.system_attrs.at("completed_rungs") == 1);
  CHECK(c->trial.params == std::map<std::string, double>{{"x", 0.5}});
  CHECK(c->trial.system_attrs.at("hpt:owner") == "new");
  CHECK(*c->trial.datetime_start > *a->trial.datetime_start);
  CHECK(asked == std::vector<int>{0, 1});  // Each RUNNING trial: orphans do not count as running.
  CHECK(s->get_trial(a->trial.id).intermediate_values.empty());
  // Nobody is an orphan now, and the limit is reached.
  CHECK_FALSE(s->claim_trial(study, 2, "x", [](const FrozenTrial&) { return false; }));
  // The callback may call back into the storage.
  auto via_storage = [&](const FrozenTrial& t) { return s->heartbeat_age(t.id).has_value(); };
  auto again = s->claim_trial(study, 2, "y", via_storage);
  REQUIRE(again);
  CHECK(again->kind == TrialClaim::Kind::Orphan);
  CHECK(again->trial.number == 0);
}

// --trials N bounds WAITING trials and orphans too: a WAITING trial runs only while finished
// + RUNNING trials are below the limit, an orphan only while they are without the orphans.
inline void check_claim_limit_for_waiting_and_orphans(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("bounded", Direction::Minimize);
  for (int i = 0; i < 2; ++i) {
    auto c = s->claim_trial(study, 2, "a", nullptr);
    REQUIRE(c);
    REQUIRE(s->set_trial_state_values(c->trial.id, TrialState::Complete, 1.0));
  }
  FrozenTrial w;
  w.state = TrialState::Waiting;
  const int64_t waiting = s->create_trial(study, w);
  CHECK_FALSE(s->claim_trial(study, 2, "a", nullptr));  // 2 finished: the WAITING one waits.
  auto c = s->claim_trial(study, 3, "alive", nullptr);
  REQUIRE(c);
  CHECK(c->kind == TrialClaim::Kind::Waiting);
  CHECK(c->trial.id == waiting);
  auto dead = s->claim_trial(study, 4, "dead", nullptr);
  REQUIRE(dead);
  CHECK(dead->kind == TrialClaim::Kind::New);
  auto is_dead = [](const FrozenTrial& t) { return t.system_attrs.at("hpt:owner") == "dead"; };
  // 2 finished + 1 live RUNNING: re-running the orphan would pass a limit of 3.
  CHECK_FALSE(s->claim_trial(study, 3, "b", is_dead));
  auto orphan = s->claim_trial(study, 4, "b", is_dead);
  REQUIRE(orphan);
  CHECK(orphan->kind == TrialClaim::Kind::Orphan);
  CHECK(orphan->trial.id == dead->trial.id);
}

// A finish names its claim: it changes nothing once another process has re-claimed the trial.
inline void check_finish_by_owner(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("owned", Direction::Minimize);
  auto c = s->claim_trial(study, 5, Json{{"pid", 1}}, nullptr);
  REQUIRE(c);
  const Json stale{{"pid", 2}};
  // The attributes of a finish are written with its state or not at all.
  const Json attrs{{"constraints", {-1.0, 0.5}}, {"fail_reason", "stale"}};
  CHECK_FALSE(s->set_trial_state_values(c->trial.id, TrialState::Complete, 1.0, &stale, &attrs));
  CHECK_FALSE(s->set_trial_state_values(c->trial.id, TrialState::Waiting, std::nullopt, &stale));
  CHECK(s->get_trial(c->trial.id).state == TrialState::Running);
  CHECK(s->get_trial(c->trial.id).values.empty());
  CHECK(s->get_trial(c->trial.id).system_attrs.count("constraints") == 0);
  CHECK(s->get_trial(c->trial.id).system_attrs.count("fail_reason") == 0);
  const Json owner{{"pid", 1}};
  const Json bad_attrs = Json::array({1});
  CHECK_THROWS_AS(
      s->set_trial_state_values(c->trial.id, TrialState::Complete, 2.0, &owner, &bad_attrs),
      StorageError);
  CHECK(s->get_trial(c->trial.id).state == TrialState::Running);
  const Json kept{{"constraints", {-1.0, 0.5}}};
  CHECK(s->set_trial_state_values(c->trial.id, TrialState::Complete, 2.0, &owner, &kept));
  CHECK(s->get_trial(c->trial.id).value == 2.0);
  CHECK(s->get_trial(c->trial.id).system_attrs.at("constraints") == Json({-1.0, 0.5}));
  CHECK_FALSE(
      s->set_trial_state_values(c->trial.id, TrialState::Fail, std::nullopt, &owner, &attrs));
  CHECK(s->get_trial(c->trial.id).system_attrs.count("fail_reason") == 0);
  // Handed back (Ctrl-C): WAITING as a trial never started, so that Optuna, picking it up,
  // does not judge its new run on the old run's steps.
  auto back = s->claim_trial(study, 5, owner, nullptr);
  REQUIRE(back);
  s->set_trial_intermediate_values(back->trial.id, {{0, 3.0}, {1, 2.0}});
  s->set_trial_system_attr(back->trial.id, "completed_rung_1", 2.0);
  CHECK(s->set_trial_state_values(back->trial.id, TrialState::Waiting, std::nullopt, &owner));
  const FrozenTrial waiting = s->get_trial(back->trial.id);
  CHECK(waiting.state == TrialState::Waiting);
  CHECK(waiting.intermediate_values.empty());
  CHECK(waiting.system_attrs.count("completed_rung_1") == 0);
  CHECK_FALSE(waiting.datetime_start);
  CHECK_FALSE(waiting.datetime_complete);
  FrozenTrial unowned;  // No hpt:owner at all (Optuna's trial): never "ours".
  unowned.state = TrialState::Running;
  const int64_t id = s->create_trial(study, unowned);
  CHECK_FALSE(s->set_trial_state_values(id, TrialState::Complete, 1.0, &owner));
  CHECK(s->set_trial_state_values(id, TrialState::Complete, 1.0));
}

// disown_trial: the claim's owner and heartbeat go, the trial stays RUNNING with its params;
// a finished or missing trial is refused.
inline void check_disown(const StorageFactory& open) {
  auto s = open();
  const int64_t study = s->create_study("disown", Direction::Minimize);
  const Json owner = {{"host", "h"}, {"pid", 7}};
  auto claim = s->claim_trial(study, 10, owner, [](const FrozenTrial&) { return false; });
  REQUIRE(claim);
  const int64_t id = claim->trial.id;
  s->set_trial_param(id, "x", 0.5, FloatDistribution{0, 1, false, std::nullopt});
  REQUIRE(s->heartbeat_age(id));
  s->disown_trial(id);
  const FrozenTrial t = open()->get_trial(id);
  CHECK(t.state == TrialState::Running);
  CHECK(t.system_attrs.at(k_owner_attr).is_null());
  CHECK(t.params.at("x") == 0.5);
  CHECK_FALSE(s->heartbeat_age(id));
  // A finish that names the old owner no longer matches it.
  CHECK_FALSE(s->set_trial_state_values(id, TrialState::Complete, 1.0, &owner));
  CHECK(s->set_trial_state_values(id, TrialState::Complete, 1.0));
  CHECK_THROWS_AS(s->disown_trial(id), StorageError);
  CHECK_THROWS_AS(s->disown_trial(id + 1000), StorageError);
}

inline void check_heartbeat(const StorageFactory& open) {
  auto s = open();
  int64_t study = s->create_study("hb", Direction::Minimize);
  FrozenTrial r;
  r.state = TrialState::Running;
  int64_t id = s->create_trial(study, r);
  CHECK_FALSE(s->heartbeat_age(id));
  s->record_heartbeat(id);
  auto age = open()->heartbeat_age(id);
  REQUIRE(age);
  CHECK(*age >= -0.5);
  CHECK(*age < 5.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  CHECK(*s->heartbeat_age(id) >= *age + 0.04);
  s->record_heartbeat(id);
  CHECK(*s->heartbeat_age(id) < 0.05 + *age);
  CHECK_THROWS_AS(s->record_heartbeat(id + 1000), StorageError);
  CHECK_THROWS_AS(s->heartbeat_age(id + 1000), StorageError);
}

// A reader that already read a study sees later changes made through another connection
// (backends may cache finished trials, never unfinished ones).
inline void check_reader_sees_changes(const StorageFactory& open) {
  auto writer = open();
  auto reader = open();
  int64_t study = writer->create_study("fresh", Direction::Minimize);
  auto a = writer->claim_trial(study, 10, "w", nullptr);
  CHECK(reader->get_all_trials(study).size() == 1);
  writer->set_trial_intermediate_value(a->trial.id, 0, 3.0);
  CHECK(reader->get_all_trials(study)[0].intermediate_values.size() == 1);
  writer->set_trial_state_values(a->trial.id, TrialState::Complete, 3.0);
  auto b = writer->claim_trial(study, 10, "w", nullptr);
  auto all = reader->get_all_trials(study);
  REQUIRE(all.size() == 2);
  CHECK(all[0].state == TrialState::Complete);
  CHECK(all[0].value == 3.0);
  CHECK(all[1].state == TrialState::Running);
  writer->set_trial_state_values(b->trial.id, TrialState::Pruned, 1.0);
  all = reader->get_all_trials(study);
  CHECK(all[0].value == 3.0);  // Served again (perhaps from a cache).
  CHECK(all[1].state == TrialState::Pruned);
  CHECK(reader->get_all_trials(study, {TrialState::Pruned}).size() == 1);
}

// Claims from `workers` threads or processes, each with its own connection, until the
// limit; finishes each claim. Returns nothing; checks numbers are 0..limit-1 exactly.
inline void check_concurrent_claims(const StorageFactory& open, bool use_processes) {
  constexpr int k_limit = 40;
  constexpr int k_workers = 4;
  int64_t study = open()->create_study("race", Direction::Minimize);
  auto worker = [&](int w) {
    auto s = open();
    int n = 0;
    while (auto c = s->claim_trial(study, k_limit, w, nullptr)) {
      s->set_trial_intermediate_value(c->trial.id, 0, w);
      // Every fourth trial fails, so its slot is claimed again as a new trial.
      TrialState end =
          c->trial.number % 4 == 3 && n % 2 == 0 ? TrialState::Fail : TrialState::Complete;
      s->set_trial_state_values(c->trial.id, end, static_cast<double>(w));
      ++n;
    }
  };
  if (use_processes) {
    hpt::test::run_in_children(k_workers, worker);
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < k_workers; ++w) {
      threads.emplace_back(worker, w);
    }
    for (auto& t : threads) {
      t.join();
    }
  }
  auto all = open()->get_all_trials(study);
  std::set<int> numbers;
  int counted = 0;
  for (const auto& t : all) {
    numbers.insert(t.number);
    CHECK(is_finished(t.state));
    counted += t.state == TrialState::Fail ? 0 : 1;
  }
  CHECK(numbers.size() == all.size());  // No duplicate numbers.
  CHECK(*numbers.rbegin() == static_cast<int>(all.size()) - 1);
  CHECK(counted == k_limit);  // Never past the limit.
}

// Several directions, one study_directions row each; values per objective round-trip and a
// multi-objective trial has no single value.
inline void check_multi_objective(const StorageFactory& open) {
  auto s = open();
  const std::vector<Direction> both{Direction::Minimize, Direction::Maximize};
  int64_t mo = s->create_study("mo", both);
  int64_t so = s->create_study("so", Direction::Maximize);
  CHECK_THROWS_AS(s->create_study("none", std::vector<Direction>{}), StorageError);
  auto info = s->find_study("mo");
  REQUIRE(info);
  CHECK(info->directions == both);
  CHECK(info->is_multi_objective());
  CHECK(s->find_study("so")->directions == std::vector<Direction>{Direction::Maximize});
  CHECK_FALSE(s->find_study("so")->is_multi_objective());
  FrozenTrial two;
  two.state = TrialState::Complete;
  two.values = {1.5, -k_inf};
  const auto got = s->get_trial(s->create_trial(mo, two));
  CHECK(got.values == std::vector<double>{1.5, -k_inf});
  CHECK_FALSE(got.value);
  FrozenTrial one;
  one.state = TrialState::Complete;
  one.value = 0.25;
  s->create_trial(so, one);
  const auto single = open()->get_all_trials(so).at(0);
  CHECK(single.value == 0.25);
  CHECK(single.values == std::vector<double>{0.25});
  two.values = {1.0, k_nan};
  CHECK_THROWS_AS(s->create_trial(mo, two), StorageError);
}

// Names and keys past Optuna's VARCHAR(512) are refused with a StorageError, nothing written;
// 512 two-byte characters fit.
inline void check_name_limits(const StorageFactory& open) {
  auto s = open();
  std::string fits;
  for (int i = 0; i < 512; ++i) {
    fits += "\u00e9";
  }
  const std::string too_long = fits + "x";
  CHECK_THROWS_WITH(s->create_study(too_long, Direction::Minimize),
                    Catch::Contains("513 characters"));
  CHECK(s->list_studies().empty());
  int64_t study = s->create_study(fits, Direction::Minimize);
  auto claim = s->claim_trial(study, 10, Json("me"), nullptr);
  REQUIRE(claim);
  const int64_t id = claim->trial.id;
  s->set_trial_user_attr(id, fits, 1);
  CHECK_THROWS_AS(s->set_trial_user_attr(id, too_long, 1), StorageError);
  CHECK_THROWS_AS(s->set_trial_system_attr(id, too_long, 1), StorageError);
  CHECK_THROWS_AS(s->set_study_user_attr(study, too_long, 1), StorageError);
  CHECK_THROWS_AS(
      s->set_trial_param(id, too_long, 0.5, FloatDistribution{0.0, 1.0, false, std::nullopt}),
      StorageError);
  FrozenTrial templ;
  templ.state = TrialState::Waiting;
  templ.user_attrs[too_long] = 1;
  CHECK_THROWS_AS(s->create_trial(study, templ), StorageError);
  const auto t = open()->get_trial(id);
  CHECK(t.user_attrs.size() == 1);
  CHECK(t.params.empty());
  CHECK(open()->count_trials(study) == 1);
}

// Every write whose commit acknowledgement is lost (the commit happened, the connection
// dropped before the reply) is applied exactly once by the retry, and returns what the
// first attempt did: no duplicate study, trial or claim, a finish still reports true.
inline void check_lost_acknowledgements(const StorageFactory& open) {
  auto s = open();
  auto& faulty = hpt::test::inject_faults(*s);
  CHECK_FALSE(s->reconnected_at());  // Never lost its connection yet.
  faulty.lose_acks(1);
  const auto before = std::chrono::steady_clock::now();
  const int64_t study = s->create_study("acks", Direction::Minimize);
  CHECK(open()->list_studies().size() == 1);
  // The reconnect is told (other hosts' heartbeats went stale with this one's).
  REQUIRE(s->reconnected_at());
  CHECK(*s->reconnected_at() >= before);
  FrozenTrial w;
  w.state = TrialState::Waiting;
  w.distributions = {{"i", IntDistribution{0, 10, false, 1}}};
  w.params = {{"i", 4}};
  faulty.lose_acks(1);
  const int64_t waiting = s->create_trial(study, w);
  CHECK(open()->count_trials(study) == 1);
  faulty.lose_acks(1);
  auto c = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(c);
  CHECK(c->kind == TrialClaim::Kind::Waiting);
  CHECK(c->trial.id == waiting);
  CHECK(c->trial.params == std::map<std::string, double>{{"i", 4}});
  faulty.lose_acks(1);
  auto n = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(n);
  CHECK(n->kind == TrialClaim::Kind::New);
  CHECK(n->trial.number == 1);
  CHECK(open()->count_trials(study) == 2);
  faulty.lose_acks(2);
  s->set_trial_intermediate_value(c->trial.id, 0, 0.5);
  const Json attrs{{"constraints", {-0.25}}};
  CHECK(s->set_trial_state_values(c->trial.id, TrialState::Complete, 0.5, nullptr, &attrs));
  CHECK(open()->get_trial(c->trial.id).system_attrs.at("constraints") == Json({-0.25}));
  CHECK_FALSE(s->set_trial_state_values(c->trial.id, TrialState::Complete, 0.5));
  // Orphan claims too: the trial is reclaimed once, by this call.
  faulty.lose_acks(1);
  auto o = s->claim_trial(study, 2, "new", [](const FrozenTrial&) { return true; });
  REQUIRE(o);
  CHECK(o->kind == TrialClaim::Kind::Orphan);
  CHECK(o->trial.id == n->trial.id);
  CHECK(faulty.lost() == 7);
  auto all = open()->get_all_trials(study);
  REQUIRE(all.size() == 2);
  CHECK(all[0].state == TrialState::Complete);
  CHECK(all[0].value == 0.5);
  CHECK(all[0].intermediate_values.size() == 1);
  CHECK(all[1].system_attrs.at("hpt:owner") == "new");
}

// A server that is down: a call waits for it within set_outage_wait's time, saying so once and
// again when it is back; longer, or a stop signal, ends the wait with a StorageError.
inline void check_outage_wait(const StorageFactory& open) {
  using std::chrono::milliseconds;
  using Steady = std::chrono::steady_clock;
  auto s = open();
  const int64_t id = s->create_study("outage", Direction::Minimize);
  auto& faulty = hpt::test::inject_faults(*s);
  std::vector<std::string> notes;
  std::vector<double> waited;
  s->set_outage_wait(std::chrono::seconds(2), [&](const std::string& n, Steady::duration d) {
    notes.push_back(n);
    waited.push_back(std::chrono::duration<double>(d).count());
  });
  faulty.go_down(milliseconds(300));
  s->set_study_user_attr(id, "k", 1);  // Waits, then goes through.
  CHECK(open()->study_user_attrs(id).at("k") == 1);
  REQUIRE(notes.size() == 2);
  CHECK(notes[0] ==
        "lost the connection to the database (server down (injected)); waiting up to 2 s for it "
        "(Ctrl-C stops)");
  CHECK(notes[1] == "the database is back after 0 s");
  CHECK(waited[0] == 0.0);
  CHECK(waited[1] >= 0.25);  // Down 0.3 s from the first attempt (a few ms before).
  CHECK(waited[1] < 1.0);
  CHECK(s->reconnected_at());
  const auto seconds_since = [](Steady::time_point t0) {
    return std::chrono::duration<double>(Steady::now() - t0).count();
  };
  faulty.go_down(std::chrono::seconds(30));  // Longer than the wait.
  auto t0 = Steady::now();
  // Database-wide: a run stops at once rather than waiting again for each later write (it
  // chained 600 s waits and recorded healthy trials FAIL).
  try {
    s->set_study_user_attr(id, "k", 2);
    FAIL("no StorageError");
  } catch (const StorageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot set a study attribute: lost the connection to "
                                         "the database (server down (injected)) and could not "
                                         "reconnect within 2 s"));
    CHECK(e.database_wide());
  }
  CHECK(seconds_since(t0) >= 2.0);
  CHECK(seconds_since(t0) < 4.0);
  g_stop_signals = 1;  // Ctrl-C while it is down: no more waiting.
  t0 = Steady::now();
  CHECK_THROWS_AS(s->set_study_user_attr(id, "k", 3), StorageError);
  CHECK(seconds_since(t0) < 0.5);
  g_stop_signals = 0;
  faulty.go_down(milliseconds(0));
  s->set_study_user_attr(id, "k", 4);
  CHECK(open()->study_user_attrs(id).at("k") == 4);
}

// A finish that another connection committed is not taken for this one's lost commit.
inline void check_foreign_finish_after_reconnect(const StorageFactory& open) {
  auto s = open();
  auto other = open();
  const int64_t study = s->create_study("foreign", Direction::Minimize);
  auto c = s->claim_trial(study, 10, "me", nullptr);
  REQUIRE(c);
  CHECK(other->set_trial_state_values(c->trial.id, TrialState::Complete, 2.0));
  auto& faulty = hpt::test::inject_faults(*s);
  faulty.lose_acks(1);  // The retry asks whether its first attempt finished the trial: no.
  CHECK_FALSE(s->set_trial_state_values(c->trial.id, TrialState::Complete, 2.0));
  CHECK(faulty.lost() == 1);
  CHECK(s->get_trial(c->trial.id).value == 2.0);
}

// More trials than one IN (...) list holds: the reads switch to a join on the study, and still
// return each trial's own params, values, intermediate values and attributes, none of a
// neighbouring study's.
inline void check_many_trials(const StorageFactory& open) {
  auto s = open();
  const int64_t neighbour = s->create_study("neighbour", Direction::Minimize);
  const int64_t study = s->create_study("many", Direction::Minimize);
  s->create_trial(neighbour, finished_template(TrialState::Complete, -1.0));
  constexpr int k_trials = 300;
  for (int i = 0; i < k_trials; ++i) {
    auto t = finished_template(TrialState::Complete, i * 0.5);
    t.params["i"] = i % 11;
    t.intermediate_values = {{0, i * 1.0}, {1, i * 2.0}};
    t.user_attrs = {{"index", i}};
    s->create_trial(study, t);
  }
  const auto all = open()->get_all_trials(study);
  REQUIRE(all.size() == k_trials);
  for (int i = 0; i < k_trials; ++i) {
    INFO("trial " << i);
    CHECK(all[i].number == i);
    CHECK(all[i].value == i * 0.5);
    CHECK(all[i].params.at("i") == i % 11);
    CHECK(all[i].params.size() == every_distribution().size());
    CHECK(same_values(all[i].intermediate_values, {{0, i * 1.0}, {1, i * 2.0}}));
    CHECK(all[i].user_attrs == std::map<std::string, Json>{{"index", i}});
    CHECK(all[i].system_attrs.at("fixed_params") == Json{{"f", -0.5}});
  }
  CHECK(s->get_all_trials(neighbour).at(0).value == -1.0);
}

// Direction::NotSet only ever comes from a database: create_study refuses it.
inline void check_not_set_refused(const StorageFactory& open) {
  auto s = open();
  CHECK_THROWS_WITH(s->create_study("n", Direction::NotSet), Catch::Contains("NOT_SET"));
  CHECK_THROWS_AS(
      s->create_study("m", std::vector<Direction>{Direction::Minimize, Direction::NotSet}),
      StorageError);
  CHECK(s->list_studies().empty());
}

// delete_study removes the study and every row of its trials, in one transaction, and nothing
// of another study; a connection that had read the study sees it gone.
inline void check_delete_study(const StorageFactory& open) {
  auto s = open();
  const int64_t keep = s->create_study("keep", Direction::Minimize);
  const int64_t gone =
      s->create_study("gone", std::vector<Direction>{Direction::Minimize, Direction::Maximize});
  s->set_study_user_attr(gone, "u", 1);
  s->set_study_system_attr(gone, "s", 2);
  const FrozenTrial complete = finished_template(TrialState::Complete, 0.5);
  const int64_t kept_trial = s->create_trial(keep, complete);
  const int64_t finished = s->create_trial(gone, complete);
  const auto claim = s->claim_trial(gone, 10, Json("me"), nullptr);  // RUNNING, heartbeat.
  REQUIRE(claim);
  s->set_trial_intermediate_value(claim->trial.id, 3, 0.25);
  auto reader = open();
  REQUIRE(reader->get_all_trials(gone).size() == 2);  // Cached by the reader.
  s->delete_study(gone);
  CHECK_FALSE(s->find_study("gone"));
  CHECK_FALSE(reader->find_study("gone"));
  CHECK_THROWS_AS(reader->get_all_trials(gone), StorageError);
  CHECK_THROWS_AS(reader->get_trial(finished), StorageError);
  CHECK_THROWS_AS(reader->heartbeat_age(claim->trial.id), StorageError);
  CHECK_THROWS_AS(reader->study_user_attrs(gone), StorageError);
  CHECK_THROWS_AS(s->delete_study(gone), StorageError);
  REQUIRE(reader->list_studies().size() == 1);
  const auto kept = reader->get_all_trials(keep);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].id == kept_trial);
  check_same_trial(kept[0], complete);
  // The name is free again: a new study of it starts from trial 0, with nothing of the old one.
  const int64_t again = s->create_study("gone", Direction::Maximize);
  CHECK(s->study_user_attrs(again).empty());
  CHECK(s->study_system_attrs(again).empty());
  // SQLite hands the deleted trials' ids out again: no row of theirs may be left to join them.
  for (int i = 0; i < 3; ++i) {
    s->create_trial(again, finished_template(TrialState::Fail, std::nullopt));
  }
  const auto fresh = s->get_all_trials(again);
  REQUIRE(fresh.size() == 3);
  CHECK(fresh[0].number == 0);
  for (const auto& t : fresh) {
    CHECK_FALSE(t.value);
    CHECK(t.values.empty());
    CHECK(t.system_attrs.count(k_owner_attr) == 0);
  }
  CHECK(s->find_study("gone")->directions == std::vector<Direction>{Direction::Maximize});
}

// import_study writes a whole study in one transaction: numbers, states, times, params, values,
// steps and attributes as given, request stamps dropped; a taken name or a bad trial writes
// nothing; a retry after a lost acknowledgement makes the study once.
inline void check_import_study(const StorageFactory& open) {
  auto s = open();
  s->create_study("taken", Direction::Minimize);
  StudyImport study;
  study.name = "copy";
  study.directions = {Direction::Maximize, Direction::Minimize};
  study.user_attrs = every_json_type();
  study.system_attrs = {{"s", Json::array({1, 2})}, {k_request_attr, "old-request"}};
  for (TrialState state : {TrialState::Complete, TrialState::Pruned, TrialState::Fail,
                           TrialState::Running, TrialState::Waiting}) {
    FrozenTrial t = finished_template(state, std::nullopt);
    if (state == TrialState::Complete) {
      t.values = {0.5, -k_inf};
    }
    t.number = static_cast<int>(study.trials.size()) * 3 + 2;  // Numbers with gaps are kept.
    t.system_attrs[k_request_attr] = "old-request";
    study.trials.push_back(t);
  }
  study.trials.back().number = -1;  // None.
  const int64_t id = s->import_study(study);
  auto reader = open();
  const auto info = reader->find_study("copy");
  REQUIRE(info);
  CHECK(info->id == id);
  CHECK(info->directions == study.directions);
  CHECK(reader->study_user_attrs(id) == study.user_attrs);
  const auto system = reader->study_system_attrs(id);
  CHECK(system.at("s") == Json::array({1, 2}));
  CHECK(system.at(k_request_attr) != "old-request");  // This import's own stamp.
  const auto trials = reader->get_all_trials(id);
  REQUIRE(trials.size() == study.trials.size());
  for (const auto& want : study.trials) {
    INFO("trial number " << want.number);
    const auto got = std::find_if(trials.begin(), trials.end(),
                                  [&](const FrozenTrial& t) { return t.number == want.number; });
    REQUIRE(got != trials.end());
    CHECK(got->values == want.values);
    FrozenTrial unstamped = want;
    unstamped.system_attrs.erase(k_request_attr);
    check_same_trial(*got, unstamped);
    CHECK(got->system_attrs.count(k_request_attr) == 0);
  }
  // A new trial is numbered after the imported ones.
  CHECK(s->create_trial(id, finished_template(TrialState::Fail, std::nullopt)) > 0);
  CHECK(reader->get_all_trials(id).back().number == 3 * 3 + 2 + 1);

  // All or nothing: a taken name, a bad trial, a NOT_SET direction write nothing.
  study.name = "taken";
  CHECK_THROWS_WITH(s->import_study(study), Catch::Contains("already exists"));
  CHECK(reader->get_all_trials(reader->find_study("taken")->id).empty());
  study.name = "bad";
  study.trials.back().params["nameless"] = 1.0;  // No distribution.
  CHECK_THROWS_AS(s->import_study(study), StorageError);
  study.trials.back().params.erase("nameless");
  study.trials.back().user_attrs[std::string(k_max_name_chars + 1, 'k')] = 1;
  CHECK_THROWS_WITH(s->import_study(study), Catch::Contains("512"));
  study.trials.back().user_attrs.clear();
  study.directions = {Direction::NotSet};
  CHECK_THROWS_AS(s->import_study(study), StorageError);
  CHECK(reader->list_studies().size() == 2);
  CHECK_FALSE(reader->find_study("bad"));

  // A lost acknowledgement: the retry finds the committed import.
  study.directions = {Direction::Minimize};
  auto& faulty = hpt::test::inject_faults(*s);
  faulty.lose_acks(1);
  const int64_t again = s->import_study(study);
  CHECK(faulty.lost() == 1);
  CHECK(reader->list_studies().size() == 3);
  CHECK(reader->find_study("bad")->id == again);
  CHECK(reader->count_trials(again) == static_cast<int>(study.trials.size()));
}

}  // namespace hpt::conformance

#define HPT_CONFORMANCE_CASE(backend, name, fn, new_db)    \
  TEST_CASE(backend ": " name, "[storage][conformance]") { \
    if (auto factory = new_db()) {                         \
      fn(factory);                                         \
    }                                                      \
  }

// Expands the whole suite for one backend; new_db is a callable () -> StorageFactory.
#define HPT_STORAGE_CONFORMANCE_TESTS(backend, new_db)                                            \
  /* Studies: create, duplicates, find, list, directions. */                                      \
  HPT_CONFORMANCE_CASE(backend, "studies", hpt::conformance::check_studies, new_db)               \
  /* Study user/system attrs of every JSON type, NaN, overwrite, unknown study. */                \
  HPT_CONFORMANCE_CASE(backend, "study attrs", hpt::conformance::check_study_attrs, new_db)       \
  /* study_system_attr_once: four connections race, all get the first value. */                   \
  HPT_CONFORMANCE_CASE(backend, "study attr once", hpt::conformance::check_study_attr_once,       \
                       new_db)                                                                    \
  /* create_trial of every state round-trips through get_trial/get_all_trials/count. */           \
  HPT_CONFORMANCE_CASE(backend, "create and read trials",                                         \
                       hpt::conformance::check_create_and_read_trials, new_db)                    \
  /* Setters on a RUNNING trial; set_trial_state_values rules; finished trials immutable. */      \
  HPT_CONFORMANCE_CASE(backend, "trial setters", hpt::conformance::check_trial_setters, new_db)   \
  HPT_CONFORMANCE_CASE(backend, "trial outlines", hpt::conformance::check_trial_outlines, new_db) \
  /* claim_trial numbers new trials and respects the limit (FAIL does not count). */              \
  HPT_CONFORMANCE_CASE(backend, "claim new and limit",                                            \
                       hpt::conformance::check_claim_new_and_limit, new_db)                       \
  /* claim_trial takes WAITING trials first, keeping params; a null owner, no heartbeat. */       \
  HPT_CONFORMANCE_CASE(backend, "claim waiting first",                                            \
                       hpt::conformance::check_claim_waiting_first, new_db)                       \
  /* claim_trial reclaims an orphan: values cleared, params kept, owner and start reset. */       \
  HPT_CONFORMANCE_CASE(backend, "claim orphan", hpt::conformance::check_claim_orphan, new_db)     \
  /* WAITING trials and orphans are claimed only below the limit. */                              \
  HPT_CONFORMANCE_CASE(backend, "claim limit for waiting and orphans",                            \
                       hpt::conformance::check_claim_limit_for_waiting_and_orphans, new_db)       \
  /* A finish given its owner changes nothing once re-claimed; its attributes go with it. */      \
  HPT_CONFORMANCE_CASE(backend, "finish by owner", hpt::conformance::check_finish_by_owner,       \
                       new_db)                                                                    \
  /* record_heartbeat / heartbeat_age. */                                                         \
  HPT_CONFORMANCE_CASE(backend, "heartbeat", hpt::conformance::check_heartbeat, new_db)           \
  /* disown_trial leaves a claimed trial to its asker: no owner, no heartbeat. */                 \
  HPT_CONFORMANCE_CASE(backend, "disown", hpt::conformance::check_disown, new_db)                 \
  /* Several directions and per-objective values round-trip. */                                   \
  HPT_CONFORMANCE_CASE(backend, "multi-objective", hpt::conformance::check_multi_objective,       \
                       new_db)                                                                    \
  /* Names and keys longer than 512 characters: a StorageError, nothing written. */               \
  HPT_CONFORMANCE_CASE(backend, "name limits", hpt::conformance::check_name_limits, new_db)       \
  /* Writes whose commit acknowledgement is lost are applied exactly once on retry. */            \
  HPT_CONFORMANCE_CASE(backend, "lost acknowledgements",                                          \
                       hpt::conformance::check_lost_acknowledgements, new_db)                     \
  /* A server down for a while: waited for within set_outage_wait; longer, or Ctrl-C, fails. */   \
  HPT_CONFORMANCE_CASE(backend, "outage wait", hpt::conformance::check_outage_wait, new_db)       \
  /* Another connection's finish is not mistaken for this one's lost commit. */                   \
  HPT_CONFORMANCE_CASE(backend, "foreign finish after reconnect",                                 \
                       hpt::conformance::check_foreign_finish_after_reconnect, new_db)            \
  /* More trials than an IN list holds: reads by study, nothing of a neighbour's. */              \
  HPT_CONFORMANCE_CASE(backend, "many trials", hpt::conformance::check_many_trials, new_db)       \
  /* create_study refuses NOT_SET directions. */                                                  \
  HPT_CONFORMANCE_CASE(backend, "NOT_SET refused", hpt::conformance::check_not_set_refused,       \
                       new_db)                                                                    \
  /* delete_study: every row of the study gone, another study untouched, the name free. */        \
  HPT_CONFORMANCE_CASE(backend, "delete study", hpt::conformance::check_delete_study, new_db)     \
  /* import_study: a whole study in one transaction, numbers kept; all or nothing. */             \
  HPT_CONFORMANCE_CASE(backend, "import study", hpt::conformance::check_import_study, new_db)     \
  /* A second connection's reads follow writes made by the first. */                              \
  HPT_CONFORMANCE_CASE(backend, "reader sees changes",                                            \
                       hpt::conformance::check_reader_sees_changes, new_db)                       \
  /* Four threads, each with its own connection, claim concurrently: no duplicates. */            \
  TEST_CASE(backend ": concurrent claims (threads)", "[storage][conformance]") {                  \
    if (auto factory = new_db()) {                                                                \
      hpt::conformance::check_concurrent_claims(factory, false);                                  \
    }                                                                                             \
  }                                                                                               \
  /* Four forked processes claim concurrently: no duplicates, never past the limit. */            \
  TEST_CASE(backend ": concurrent claims (processes)", "[storage][conformance]") {                \
    if (auto factory = new_db()) {                                                                \
      hpt::conformance::check_concurrent_claims(factory, true);                                   \
    }                                                                                             \
  }
