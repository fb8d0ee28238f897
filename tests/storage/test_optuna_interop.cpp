// Both directions between hpt's SQLite storage and Debian's Optuna 3.1.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "hpt/io/datetime_text.hpp"
#include "hpt/io/python_json.hpp"
#include "hpt/storage/storage.hpp"
#include "optuna_python.hpp"
#include "support/temp_dir.hpp"

namespace {

using hpt::Json;

const double k_nan = std::nan("");

// The last line of the script's output, parsed as (Python) JSON.
Json last_json_line(const std::string& out) {
  auto end = out.find_last_not_of('\n');
  auto start = out.rfind('\n', end);
  return hpt::python_json_loads(out.substr(start == std::string::npos ? 0 : start + 1,
                                           end - (start == std::string::npos ? 0 : start + 1) + 1));
}

}  // namespace

// hpt writes a study (all states, every distribution kind, NaN intermediate values,
// attrs); Optuna loads it, checks everything, and runs one more trial on it.
TEST_CASE("optuna reads and continues a study written by hpt", "[storage][optuna]") {
  hpt::test::TempDir dir;
  auto path = dir.file("hpt.db");
  {
    auto s = hpt::open_storage("sqlite:///" + path);
    int64_t study = s->create_study("hpt", hpt::Direction::Maximize);
    s->set_study_user_attr(study, "dataset", "fashion-mnist");
    std::vector<std::pair<std::string, hpt::Distribution>> space = {
        {"lr", hpt::FloatDistribution{1e-4, 1e-1, true, std::nullopt}},
        {"wd", hpt::FloatDistribution{0.0, 0.1, false, std::nullopt}},
        {"dropout", hpt::FloatDistribution{0.0, 0.5, false, 0.1}},
        {"layers", hpt::IntDistribution{1, 4, false, 1}},
        {"emb", hpt::IntDistribution{16, 256, true, 1}},
        {"batch", hpt::IntDistribution{32, 128, false, 32}},
        {"head", hpt::CategoricalDistribution{{"linear", Json::array({64, 32}), nullptr}}}};
    std::vector<std::vector<double>> internals = {{1e-3, 0.01, 0.2, 3, 64, 64, 1},
                                                  {1e-2, 0.0, 0.5, 1, 16, 128, 0},
                                                  {1e-4, 0.1, 0.0, 4, 256, 32, 2}};
    std::vector<int64_t> ids;
    for (int i = 0; i < 4; ++i) {
      auto c = s->claim_trial(study, 10, Json{{"pid", 1}}, nullptr);
      ids.push_back(c->trial.id);
      if (i == 3) {
        break;  // Left RUNNING.
      }
      for (size_t p = 0; p < space.size(); ++p) {
        s->set_trial_param(c->trial.id, space[p].first, internals[i][p], space[p].second);
      }
    }
    s->set_trial_intermediate_value(ids[0], 0, 0.5);
    s->set_trial_intermediate_value(ids[0], 1, k_nan);
    s->set_trial_intermediate_value(ids[0], 2, 0.9);
    s->set_trial_user_attr(ids[0], "cfg", Json{{"a", Json::array({1, 2})}, {"note", "best"}});
    s->set_trial_state_values(ids[0], hpt::TrialState::Complete, 0.9);
    s->set_trial_intermediate_value(ids[1], 0, 0.3);
    s->set_trial_intermediate_value(ids[1], 1, 0.4);
    s->set_trial_state_values(ids[1], hpt::TrialState::Pruned, 0.4);
    s->set_trial_system_attr(ids[2], "hpt:fail_reason", "worker exited with code 1");
    s->set_trial_state_values(ids[2], hpt::TrialState::Fail, std::nullopt);
    hpt::FrozenTrial waiting;
    waiting.state = hpt::TrialState::Waiting;
    waiting.system_attrs = {{"fixed_params", Json{{"lr", 0.05}}}};
    s->create_trial(study, waiting);
  }
  auto [rc, out] = hpt::test::run_python(dir.file("check.py"), R"PY(
import math, json, datetime
from optuna.distributions import FloatDistribution, IntDistribution, CategoricalDistribution
s = optuna.load_study(study_name="hpt", storage="sqlite:///)PY" + path +
                                                                   R"PY(")
assert s.direction == optuna.study.StudyDirection.MAXIMIZE
assert s.user_attrs == {"dataset": "fashion-mnist"}, s.user_attrs
ts = s.get_trials()
assert [t.state.name for t in ts] == ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"], ts
assert [t.number for t in ts] == [0, 1, 2, 3, 4]
t0 = ts[0]
assert t0.value == 0.9
assert t0.params["lr"] == 1e-3 and t0.params["wd"] == 0.01 and t0.params["dropout"] == 0.2
assert t0.params["layers"] == 3 and type(t0.params["layers"]) is int
assert t0.params["emb"] == 64 and t0.params["batch"] == 64
assert json.loads(t0.params["head"]) == [64, 32], t0.params["head"]  # a list choice as JSON text
d = t0.distributions
assert d["lr"] == FloatDistribution(1e-4, 1e-1, log=True)
assert d["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
assert d["emb"] == IntDistribution(16, 256, log=True)
assert d["batch"] == IntDistribution(32, 128, step=32)
assert isinstance(d["head"], CategoricalDistribution) and d["head"].choices[2] is None
assert ts[1].params["head"] == "linear" and ts[2].params["head"] is None
assert t0.intermediate_values[0] == 0.5 and math.isnan(t0.intermediate_values[1])
assert t0.intermediate_values[2] == 0.9
assert t0.user_attrs == {"cfg": {"a": [1, 2], "note": "best"}}, t0.user_attrs
assert ts[1].value == 0.4 and ts[1].intermediate_values == {0: 0.3, 1: 0.4}
assert ts[2].value is None
assert ts[2].system_attrs["hpt:fail_reason"] == "worker exited with code 1"
assert ts[3].system_attrs["hpt:owner"] == {"pid": 1}
assert ts[4].system_attrs["fixed_params"] == {"lr": 0.05}
assert s.best_trial.number == 0
age = abs((datetime.datetime.now() - t0.datetime_start).total_seconds())
assert age < 600, (t0.datetime_start, datetime.datetime.now())  # local time, as Optuna
assert t0.datetime_complete >= t0.datetime_start
# Optuna continues the study: the WAITING trial first.
s.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=2)
ts = s.get_trials()
assert ts[4].state.name == "COMPLETE" and ts[4].params["lr"] == 0.05, ts[4]
assert ts[5].number == 5 and ts[5].state.name == "COMPLETE"
print("OK")
)PY");
  if (!hpt::test::python_printed_ok(rc, out)) {
    return;
  }
  // hpt reads Optuna's additions back.
  auto s = hpt::open_storage(path, true);
  auto all = s->get_all_trials(s->find_study("hpt")->id);
  REQUIRE(all.size() == 6);
  CHECK(all[4].state == hpt::TrialState::Complete);
  CHECK(all[4].params.at("lr") == 0.05);
  CHECK(all[5].number == 5);
}

// Optuna makes a study (complete, pruned, failed, enqueued trials); hpt reads every
// field as Optuna reports it, continues it (WAITING first, then new numbers), and Optuna
// loads the result.
TEST_CASE("hpt reads and continues a study made by optuna", "[storage][optuna]") {
  hpt::test::TempDir dir;
  auto path = dir.file("optuna.db");
  auto [rc, out] = hpt::test::run_python(dir.file("make.py"), R"PY(
import json, math
s = optuna.create_study(study_name="opt", storage="sqlite:///)PY" +
                                                                  path + R"PY(",
                        sampler=optuna.samplers.RandomSampler(seed=1))
def f(t):
    x = t.suggest_float("x", -10, 10)
    n = t.suggest_int("n", 1, 9, step=2)
    c = t.suggest_categorical("c", ["a", "b", 3])
    t.report(x * x, 0)
    t.report(float("nan"), 1)
    t.report(float("-inf"), 2)
    t.set_user_attr("sq", x * x)
    if t.number == 2:
        raise optuna.TrialPruned()
    if t.number == 3:
        raise RuntimeError("boom")
    return x * x + n
s.enqueue_trial({"x": 1.5, "n": 3, "c": "b"})
s.optimize(f, n_trials=5, catch=(RuntimeError,))
s.enqueue_trial({"x": 2.0})
fmt = "%Y-%m-%d %H:%M:%S.%f"
print(json.dumps([{"number": t.number, "state": t.state.name, "value": t.value,
                   "params": t.params, "user_attrs": t.user_attrs,
                   "system_attrs": t.system_attrs,
                   "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
                   "start": t.datetime_start.strftime(fmt) if t.datetime_start else None,
                   "complete": t.datetime_complete.strftime(fmt) if t.datetime_complete else None}
                  for t in s.get_trials()]))
)PY");
  if (hpt::test::optuna_missing(rc, out)) {
    WARN("skipped: /usr/bin/python3 cannot import optuna");
    return;
  }
  INFO(out);
  REQUIRE(rc == 0);
  Json want = last_json_line(out);
  REQUIRE(want.size() == 6);

  auto s = hpt::open_storage(path);
  auto info = s->find_study("opt");
  REQUIRE(info);
  CHECK(info->direction() == hpt::Direction::Minimize);
  auto all = s->get_all_trials(info->id);
  REQUIRE(all.size() == 6);
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& t = all[i];
    const auto& w = want[i];
    INFO("trial " << i);
    CHECK(t.number == w["number"].get<int>());
    CHECK(hpt::trial_state_name(t.state) == w["state"].get<std::string>());
    if (w["value"].is_null()) {
      CHECK_FALSE(t.value);
    } else {
      CHECK(t.value == w["value"].get<double>());
    }
    CHECK(t.external_params() == w["params"]);
    CHECK(Json(t.user_attrs) == w["user_attrs"]);
    CHECK(Json(t.system_attrs) == w["system_attrs"]);
    REQUIRE(t.intermediate_values.size() == w["intermediate"].size());
    for (const auto& [step, v] : t.intermediate_values) {
      double expected = w["intermediate"][std::to_string(step)].get<double>();
      CHECK((v == expected || (std::isnan(v) && std::isnan(expected))));
    }
    auto local = [](const std::optional<hpt::Clock::time_point>& tp) {
      return tp ? Json(hpt::format_datetime(*tp, hpt::TimeZone::Local)) : Json();
    };
    CHECK(local(t.datetime_start) == w["start"]);
    CHECK(local(t.datetime_complete) == w["complete"]);
  }
  CHECK(all[2].state == hpt::TrialState::Pruned);
  CHECK(all[3].state == hpt::TrialState::Fail);
  CHECK(std::isinf(all[0].intermediate_values.at(2)));

  // Continue: the enqueued trial first, then new numbers.
  auto w = s->claim_trial(info->id, 8, "hpt", nullptr);
  REQUIRE(w);
  CHECK(w->kind == hpt::TrialClaim::Kind::Waiting);
  CHECK(w->trial.number == 5);
  CHECK(w->trial.system_attrs.at("fixed_params") == Json{{"x", 2.0}});
  auto x_dist = all[0].distributions.at("x");
  s->set_trial_param(w->trial.id, "x", 2.0, x_dist);
  s->set_trial_param(w->trial.id, "n", 5, all[0].distributions.at("n"));
  s->set_trial_param(w->trial.id, "c", 2, all[0].distributions.at("c"));
  s->set_trial_intermediate_value(w->trial.id, 0, 4.0);
  CHECK(s->set_trial_state_values(w->trial.id, hpt::TrialState::Complete, 9.0));
  auto n = s->claim_trial(info->id, 8, "hpt", nullptr);
  REQUIRE(n);
  CHECK(n->kind == hpt::TrialClaim::Kind::New);
  CHECK(n->trial.number == 6);
  s->set_trial_param(n->trial.id, "x", 0.0, x_dist);
  CHECK(s->set_trial_state_values(n->trial.id, hpt::TrialState::Complete, -1.0));
  s.reset();

  auto [rc2, out2] = hpt::test::run_python(dir.file("load.py"), R"PY(
s = optuna.load_study(study_name="opt", storage="sqlite:///)PY" + path +
                                                                    R"PY(")
ts = s.get_trials()
assert len(ts) == 7
assert ts[5].state.name == "COMPLETE" and ts[5].value == 9.0
assert ts[5].params == {"x": 2.0, "n": 5, "c": 3}, ts[5].params
assert ts[5].intermediate_values == {0: 4.0}
assert ts[5].system_attrs["hpt:owner"] == "hpt"
assert ts[6].number == 6 and s.best_trial.number == 6 and s.best_value == -1.0
s.optimize(lambda t: t.suggest_float("x", -10, 10), n_trials=1)
assert len(s.trials) == 8 and s.trials[7].number == 7
print("OK")
)PY");
  if (!hpt::test::python_printed_ok(rc2, out2)) {
    return;
  }
}

// A multi-objective trial finished by hpt (set_trial_state_values with two values, one
// infinite) has the same trial_values rows (objective, value, value_type) as Optuna 3.1
// writes for the same values; Optuna's best_trials and values agree; a NaN among the values
// is refused and leaves the trial RUNNING.
TEST_CASE("multi-objective values are stored as Optuna stores them", "[storage][optuna]") {
  hpt::test::TempDir dir;
  auto path = dir.file("hpt.db");
  {
    auto s = hpt::open_storage("sqlite:///" + path);
    int64_t study = s->create_study("mo", {hpt::Direction::Minimize, hpt::Direction::Maximize});
    const hpt::Distribution x = hpt::FloatDistribution{0, 1, false, std::nullopt};
    for (const std::vector<double>& values :
         std::vector<std::vector<double>>{{0.5, 2.0}, {1.5, HUGE_VAL}, {0.25, -1.0}, {0.6, 1.0}}) {
      auto c = s->claim_trial(study, 10, Json{{"pid", 1}}, nullptr);
      s->set_trial_param(c->trial.id, "x", values[0] / 2, x);
      CHECK_THROWS_AS(s->set_trial_state_values(c->trial.id, hpt::TrialState::Complete,
                                                std::vector<double>{values[0], k_nan}),
                      hpt::StorageError);
      CHECK(s->set_trial_state_values(c->trial.id, hpt::TrialState::Complete, values));
    }
    auto all = s->get_all_trials(study);
    REQUIRE(all.size() == 4);
    CHECK(all[1].values == std::vector<double>{1.5, HUGE_VAL});
    CHECK_FALSE(all[1].value);
  }
  auto [rc, out] = hpt::test::run_python(dir.file("check.py"), R"PY(
import math, sqlite3
path = ")PY" + path + R"PY("
s = optuna.load_study(study_name="mo", storage="sqlite:///" + path)
assert [t.values for t in s.trials] == [[0.5, 2.0], [1.5, math.inf], [0.25, -1.0], [0.6, 1.0]]
assert sorted(t.number for t in s.best_trials) == [0, 1, 2], s.best_trials
ref = optuna.create_study(study_name="mo", directions=["minimize", "maximize"],
                          storage="sqlite:///" + path + ".optuna.db")
for v in ([0.5, 2.0], [1.5, math.inf], [0.25, -1.0], [0.6, 1.0]):
    t = ref.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    ref.tell(t, v)
q = "SELECT trial_id, objective, value, value_type FROM trial_values ORDER BY trial_id, objective"
mine = sqlite3.connect(path).execute(q).fetchall()
theirs = sqlite3.connect(path + ".optuna.db").execute(q).fetchall()
assert mine == theirs, (mine, theirs)
q = "SELECT study_id, direction, objective FROM study_directions ORDER BY objective"
assert sqlite3.connect(path).execute(q).fetchall() == \
    sqlite3.connect(path + ".optuna.db").execute(q).fetchall()
print("OK")
)PY");
  hpt::test::python_printed_ok(rc, out);
}
