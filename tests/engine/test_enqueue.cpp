#include <catch2/catch.hpp>

#include "hpt/engine/enqueue.hpp"

using namespace hpt;

namespace {

const SearchSpace k_space = {{"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}},
                             {"units", IntDistribution{16, 256, false, 16}},
                             {"act", CategoricalDistribution{{"relu", "gelu"}}}};

// A trial with params (internal values) under k_space's distributions.
FrozenTrial trial_with(const std::map<std::string, double>& params) {
  FrozenTrial t;
  t.state = TrialState::Complete;
  for (const auto& [name, v] : params) {
    t.params[name] = v;
    for (const auto& [n, d] : k_space) {
      if (n == name) {
        t.distributions.emplace(name, d);
      }
    }
  }
  return t;
}

FrozenTrial enqueued(const Json& given) {
  FrozenTrial t;
  t.state = TrialState::Waiting;
  t.system_attrs[k_fixed_params_attr] = given;
  return t;
}

}  // namespace

TEST_CASE("enqueue: an empty study takes every entry, in order", "[enqueue]") {
  const std::vector<Json> entries = {{{"lr", 0.001}}, {{"units", 64}, {"act", "gelu"}}};
  CHECK(entries_not_enqueued(entries, {}, k_space) == entries);
}

TEST_CASE("enqueue: an entry a trial was given is not enqueued again", "[enqueue]") {
  const std::vector<Json> entries = {{{"lr", 0.001}}, {{"units", 64}}};
  // Ran (COMPLETE) or still WAITING: its fixed_params decide, not its sampled parameters.
  FrozenTrial ran = enqueued({{"lr", 0.001}});
  ran.state = TrialState::Complete;
  ran.params = {{"lr", 0.001}, {"units", 32}};
  CHECK(entries_not_enqueued(entries, {ran}, k_space) == std::vector<Json>{{{"units", 64}}});
  // An int given as 64.0 (another tool's JSON) is the same value.
  CHECK(entries_not_enqueued(entries, {ran, enqueued({{"units", 64.0}})}, k_space).empty());
}

TEST_CASE("enqueue: a trial's sampled parameters count when it was given none", "[enqueue]") {
  // Optuna's _should_skip_enqueue: the same names, every value equal.
  const FrozenTrial sampled = trial_with({{"lr", 0.001}, {"units", 64}, {"act", 1}});
  const std::vector<Json> whole = {{{"lr", 0.001}, {"units", 64}, {"act", "gelu"}}};
  CHECK(entries_not_enqueued(whole, {sampled}, k_space).empty());
  // Fewer names than the trial has, or one value different: not the same trial.
  const std::vector<Json> part = {{{"lr", 0.001}, {"units", 64}}};
  CHECK(entries_not_enqueued(part, {sampled}, k_space) == part);
  const std::vector<Json> other = {{{"lr", 0.001}, {"units", 64}, {"act", "relu"}}};
  CHECK(entries_not_enqueued(other, {sampled}, k_space) == other);
}

TEST_CASE("enqueue: values the space does not take never match, never throw", "[enqueue]") {
  const std::vector<Json> entries = {{{"act", "relu"}}};
  // Another tool's fixed_params: a choice hpt's space lacks, a number, not an object at all.
  FrozenTrial not_object = enqueued("act=relu");
  CHECK(entries_not_enqueued(entries,
                             {enqueued({{"act", "tanh"}}), enqueued({{"act", 0}}), not_object},
                             k_space) == entries);
}

TEST_CASE("enqueue: one key for equal values", "[enqueue]") {
  const auto key = [](const Json& given) { return enqueue_key(given, k_space); };
  CHECK(key({{"units", 64}}) == key({{"units", 64.0}}));
  CHECK(key({{"lr", 0.001}, {"act", "gelu"}}) == key({{"act", "gelu"}, {"lr", 0.001}}));
  CHECK(key({{"lr", 0.001}}) != key({{"lr", 0.001}, {"units", 64}}));
  CHECK(key({{"act", "relu"}}) != key({{"act", "gelu"}}));
  CHECK(key(Json::object()) == "{}");
  CHECK_FALSE(key({{"other", 1}}));       // Not a parameter of the space.
  CHECK_FALSE(key({{"units", "64"}}));    // Not a value the distribution takes.
  CHECK_FALSE(key(Json::array({1, 2})));  // Not a mapping at all.
  const SearchSpace signed_zero = {{"x", FloatDistribution{-1, 1, false, std::nullopt}}};
  CHECK(enqueue_key({{"x", -0.0}}, signed_zero) == enqueue_key({{"x", 0.0}}, signed_zero));
}
