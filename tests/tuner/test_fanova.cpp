#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "hpt/tuner/importance.hpp"
#include "source_paths.hpp"

namespace {

hpt::FrozenTrial complete_trial(int number, double value,
                                std::map<std::string, std::pair<double, hpt::Distribution>> p) {
  hpt::FrozenTrial t;
  t.number = number;
  t.state = hpt::TrialState::Complete;
  t.value = value;
  for (auto& [name, pd] : p) {
    t.params[name] = pd.first;
    t.distributions[name] = pd.second;
  }
  return t;
}

// y = 10*x0 + x1 + 0*x2 on n uniform points (fixed seed).
std::vector<hpt::FrozenTrial> linear_study(int n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const hpt::FloatDistribution unit{0.0, 1.0, false, std::nullopt};
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    const double x0 = u(rng), x1 = u(rng), x2 = u(rng);
    trials.push_back(complete_trial(i, 10 * x0 + x1,
                                    {{"x0", {x0, unit}}, {"x1", {x1, unit}}, {"x2", {x2, unit}}}));
  }
  return trials;
}

// A mixed study: categorical (list choices) with a large effect, log float, int, step float.
std::vector<hpt::FrozenTrial> mixed_study(int n) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const hpt::CategoricalDistribution cat{{hpt::Json("a"), hpt::Json::parse("[1,2]"), hpt::Json(3)}};
  const hpt::FloatDistribution lr{1e-4, 1e-1, true, std::nullopt};
  const hpt::IntDistribution layers{1, 8, false, 1};
  const hpt::FloatDistribution drop{0.0, 0.5, false, 0.1};
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < n; ++i) {
    const double c = std::floor(u(rng) * 3);
    const double l = std::exp(std::log(1e-4) + u(rng) * std::log(1e3));
    const double k = 1 + std::floor(u(rng) * 8);
    const double dr = 0.1 * std::floor(u(rng) * 6);
    const double y = 5.0 * c + 2.0 * std::log10(l) + 0.0 * k + 0.3 * dr;
    trials.push_back(complete_trial(
        i, y, {{"cat", {c, cat}}, {"lr", {l, lr}}, {"layers", {k, layers}}, {"drop", {dr, drop}}}));
  }
  return trials;
}

}  // namespace

// A linear function's coefficients order the importances; they sum to 1.
TEST_CASE("importance follows the effect sizes", "[fanova]") {
  const auto imp = hpt::fanova_importance(linear_study(150), hpt::ImportanceTarget::Value);
  REQUIRE(imp.size() == 3);
  CHECK(imp.at("x0") > imp.at("x1"));
  CHECK(imp.at("x1") > imp.at("x2"));
  CHECK(imp.at("x0") > 0.8);
  CHECK(imp.at("x0") + imp.at("x1") + imp.at("x2") == Approx(1.0));
}

// A categorical's one-hot columns are measured together; mixed kinds all work.
TEST_CASE("importance of categorical, log, int and step params", "[fanova]") {
  const auto trials = mixed_study(200);
  const auto imp = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value);
  const auto sorted = hpt::sorted_by_importance(imp);
  REQUIRE(sorted.size() == 4);
  CHECK(sorted[0].first == "cat");
  CHECK(sorted[1].first == "lr");
  double sum = 0;
  for (const auto& [name, v] : imp) {
    CHECK(v >= 0.0);
    sum += v;
  }
  CHECK(sum == Approx(1.0));
  hpt::FanovaOptions log_opts;
  log_opts.transform_log = true;
  const auto imp_log = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value, log_opts);
  // In log space lr's effect (linear in log10 lr) is spread over the whole axis.
  CHECK(imp_log.at("lr") > imp.at("lr"));
}

// Same seed, same numbers; the forest really depends on the seed.
TEST_CASE("importance is deterministic by seed", "[fanova]") {
  const auto trials = linear_study(60);
  hpt::FanovaOptions a;
  a.seed = 5;
  hpt::FanovaOptions b;
  b.seed = 6;
  const auto i1 = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value, a);
  const auto i2 = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value, a);
  const auto i3 = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value, b);
  CHECK(i1 == i2);
  CHECK(i1 != i3);
}

// Only complete trials with all params count; single-valued params get 0; duration target.
TEST_CASE("importance filters trials and params", "[fanova]") {
  auto trials = linear_study(40);
  const hpt::FloatDistribution fixed{1.0, 1.0, false, std::nullopt};
  for (auto& t : trials) {
    t.params["fixed"] = 1.0;
    t.distributions["fixed"] = fixed;
  }
  hpt::FrozenTrial pruned = trials[0];
  pruned.state = hpt::TrialState::Pruned;
  pruned.value = 1e9;
  trials.push_back(pruned);
  hpt::FrozenTrial partial = trials[1];
  partial.params.erase("x2");
  partial.distributions.erase("x2");
  partial.value = -1e9;
  trials.push_back(partial);
  // The partial trial drops x2 from the intersection space.
  const auto space = hpt::intersection_search_space(trials);
  REQUIRE(space.size() == 3);
  CHECK(space[0].first == "fixed");
  const auto imp = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value);
  CHECK(imp.count("x2") == 0);
  CHECK(imp.at("fixed") == 0.0);
  CHECK(imp.at("x0") > imp.at("x1"));

  // Duration: x1 drives the running time.
  for (auto& t : trials) {
    t.datetime_start = hpt::Clock::time_point{};
    t.datetime_complete =
        *t.datetime_start + std::chrono::milliseconds(static_cast<int>(1000 * t.params["x1"]));
  }
  const auto dur = hpt::fanova_importance(trials, hpt::ImportanceTarget::Duration);
  CHECK(dur.at("x1") > dur.at("x0"));
}

// Every param single-valued: an empty map, as Optuna's evaluator returns.
TEST_CASE("importance of single-valued params only is empty", "[fanova]") {
  auto trials = linear_study(10);
  const hpt::FloatDistribution fixed{1.0, 1.0, false, std::nullopt};
  for (auto& t : trials) {
    t.params = {{"fixed", 1.0}};
    t.distributions = {{"fixed", fixed}};
  }
  CHECK(hpt::fanova_importance(trials, hpt::ImportanceTarget::Value).empty());
}

// Too few trials or a constant objective are reported, not divided by zero.
TEST_CASE("importance rejects degenerate studies", "[fanova]") {
  auto trials = linear_study(1);
  CHECK_THROWS_WITH(hpt::fanova_importance(trials, hpt::ImportanceTarget::Value),
                    Catch::Contains("at least 2"));
  trials = linear_study(10);
  for (auto& t : trials) {
    t.value = 3.0;
  }
  CHECK_THROWS_WITH(hpt::fanova_importance(trials, hpt::ImportanceTarget::Value),
                    Catch::Contains("does not vary"));
  CHECK_THROWS(hpt::importance_target_from_name("loss"));
}

// Optuna's FanovaImportanceEvaluator on the same trials ranks the params the same way.
TEST_CASE("importance ranking matches Optuna", "[fanova][optuna]") {
  if (std::system("/usr/bin/python3 -c 'import optuna, sklearn' >/dev/null 2>&1") != 0) {
    WARN("python3 with optuna and sklearn not available; skipped");
    return;
  }
  const auto trials = mixed_study(80);
  const std::string dir = std::string(HPT_BINARY_DIR) + "/test_fanova_optuna";
  std::system(("mkdir -p " + dir).c_str());
  {
    hpt::Json rows = hpt::Json::array();
    for (const auto& t : trials) {
      rows.push_back({{"value", *t.value}, {"params", t.external_params()}});
    }
    std::ofstream(dir + "/trials.json") << rows.dump();
    std::ofstream(dir + "/fanova.py") << R"PY(
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
from optuna.distributions import FloatDistribution, IntDistribution, CategoricalDistribution
d = {"cat": CategoricalDistribution(["a", "[1, 2]", 3]), "lr": FloatDistribution(1e-4, 1e-1, log=True),
     "layers": IntDistribution(1, 8), "drop": FloatDistribution(0.0, 0.5, step=0.1)}
rows = json.load(open(sys.argv[1] + "/trials.json"))
study = optuna.create_study()
for r in rows:
    p = dict(r["params"])
    if isinstance(p["cat"], list):
        p["cat"] = "[1, 2]"
    study.add_trial(optuna.trial.create_trial(params=p, distributions=d, value=r["value"]))
imp = optuna.importance.get_param_importances(
    study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
json.dump(dict(imp), open(sys.argv[1] + "/optuna.json", "w"))
)PY";
  }
  REQUIRE(std::system(("/usr/bin/python3 " + dir + "/fanova.py " + dir).c_str()) == 0);
  std::ifstream in(dir + "/optuna.json");
  const hpt::Json optuna_imp = hpt::Json::parse(in);
  std::map<std::string, double> theirs;
  for (auto& [k, v] : optuna_imp.items()) {
    theirs[k] = v.get<double>();
  }
  const auto ours =
      hpt::sorted_by_importance(hpt::fanova_importance(trials, hpt::ImportanceTarget::Value));
  const auto ref = hpt::sorted_by_importance(theirs);
  REQUIRE(ref.size() == 4);
  CHECK(ours[0].first == ref[0].first);
  CHECK(ours[1].first == ref[1].first);
  for (const auto& [name, v] : ours) {
    CHECK(v == Approx(theirs.at(name)).margin(0.1));
  }
}

// A 200-choice categorical costs about what a float does: the marginal no longer enumerates
// subsets of its one-hot columns (the old code looped 2^200 times and crashed), and the
// important choice-driven param still ranks first.
TEST_CASE("importance of a 200-choice categorical", "[fanova]") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  hpt::CategoricalDistribution many;
  for (int i = 0; i < 200; ++i) {
    many.choices.push_back(hpt::Json("c" + std::to_string(i)));
  }
  const hpt::FloatDistribution unit{0.0, 1.0, false, std::nullopt};
  std::vector<hpt::FrozenTrial> trials;
  for (int i = 0; i < 300; ++i) {
    const double c = std::floor(u(rng) * 200);
    const double x = u(rng);
    trials.push_back(complete_trial(i, std::fmod(c * 7.0, 13.0) + 0.1 * x,
                                    {{"many", {c, many}}, {"x", {x, unit}}}));
  }
  hpt::FanovaOptions options;
  options.n_trees = 16;
  const auto imp = hpt::fanova_importance(trials, hpt::ImportanceTarget::Value, options);
  CHECK(imp.at("many") > imp.at("x"));
  CHECK(imp.at("many") + imp.at("x") == Approx(1.0));
}

// sklearn's forest, as Optuna 3.1's _Fanova fits it on one-hot columns of a 6-choice
// categorical and a float, read into hpt: hpt's fractions equal Optuna's per-parameter
// importances to 1e-9, by the grid and by the pairwise method alike.
TEST_CASE("fractions equal Optuna's on Optuna's own forest", "[fanova][optuna]") {
  if (std::system("/usr/bin/python3 -c 'import optuna, sklearn' >/dev/null 2>&1") != 0) {
    WARN("python3 with optuna and sklearn not available; skipped");
    return;
  }
  const std::string dir = std::string(HPT_BINARY_DIR) + "/test_fanova_optuna_forest";
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/forest.py") << R"PY(
import json, sys, numpy as np
from optuna.importance._fanova._fanova import _Fanova
rng = np.random.RandomState(0)
n, k = 80, 6
cat = rng.randint(0, k, n)
x = rng.uniform(0, 1, n)
y = np.array([[0, 3, 1, 4, 1, 5][c] + 2 * v + 3 * v * (c == 2) for c, v in zip(cat, x)])
X = np.zeros((n, k + 1))
X[np.arange(n), cat] = 1
X[:, k] = x
f = _Fanova(n_trees=8, max_depth=64, min_samples_split=2, min_samples_leaf=1, seed=0)
f.fit(X, y, np.array([[0.0, 1.0]] * (k + 1)), [np.arange(k), np.array([k])])
trees = [{"feature": e.tree_.feature.tolist(), "threshold": e.tree_.threshold.tolist(),
          "left": e.tree_.children_left.tolist(), "right": e.tree_.children_right.tolist(),
          "value": e.tree_.value[:, 0, 0].tolist()} for e in f._forest.estimators_]
json.dump({"trees": trees, "importance": [f.get_importance(i)[0] for i in range(2)]},
          open(sys.argv[1] + "/forest.json", "w"))
)PY";
  REQUIRE(std::system(("/usr/bin/python3 " + dir + "/forest.py " + dir).c_str()) == 0);
  std::ifstream in(dir + "/forest.json");
  const hpt::Json j = hpt::Json::parse(in);
  std::vector<hpt::RegressionTree> forest;
  for (const auto& t : j.at("trees")) {
    hpt::RegressionTree tree;
    tree.feature = t.at("feature").get<std::vector<int>>();
    tree.threshold = t.at("threshold").get<std::vector<double>>();
    tree.left = t.at("left").get<std::vector<int>>();
    tree.right = t.at("right").get<std::vector<int>>();
    tree.value = t.at("value").get<std::vector<double>>();
    forest.push_back(std::move(tree));
  }
  const std::vector<std::pair<double, double>> bounds(7, {0.0, 1.0});
  const std::vector<std::vector<int>> groups{{0, 1, 2, 3, 4, 5}, {6}};
  const auto grid = hpt::fanova_fractions(forest, bounds, groups);
  const auto pairwise = hpt::fanova_fractions(forest, bounds, groups, 0);
  for (size_t g = 0; g < 2; ++g) {
    const double optuna = j.at("importance")[g].get<double>();
    CHECK(grid[g] == Approx(optuna).epsilon(1e-9));
    CHECK(pairwise[g] == Approx(optuna).epsilon(1e-9));
  }
}

// Huge finite values (one of 1e300 among ordinary ones, or values at +-1e308) overflow no
// variance: the importances are those of the same study at an ordinary scale.
TEST_CASE("importance of huge finite values", "[fanova]") {
  const auto base = hpt::fanova_importance(linear_study(150), hpt::ImportanceTarget::Value);
  auto huge = linear_study(150);
  for (auto& t : huge) {
    t.value = *t.value * 0x1p1000;  // Exact: the same forest, scaled.
  }
  const auto scaled = hpt::fanova_importance(huge, hpt::ImportanceTarget::Value);
  for (const auto& [name, imp] : base) {
    CHECK(scaled.at(name) == Approx(imp).margin(1e-12));
  }
  auto extremes = linear_study(150);
  for (auto& t : extremes) {
    t.value = t.params.at("x1") > 0.5 ? 1e308 : -1e308;
  }
  const auto ext = hpt::fanova_importance(extremes, hpt::ImportanceTarget::Value);
  CHECK(ext.at("x1") > 0.9);
  auto outlier = linear_study(10);
  outlier[3].value = 1e300;
  const auto out = hpt::fanova_importance(outlier, hpt::ImportanceTarget::Value);
  CHECK(out.at("x0") + out.at("x1") + out.at("x2") == Approx(1.0));
}

// unit_scale: a power of two taking the largest finite |value| into [0.5, 1).
TEST_CASE("unit_scale", "[fanova]") {
  CHECK(hpt::unit_scale({}) == 1.0);
  CHECK(hpt::unit_scale({0.0, NAN}) == 1.0);
  CHECK(hpt::unit_scale({3.0, -1.0}) == 0.25);
  CHECK(hpt::unit_scale({1e308, -INFINITY}) == std::ldexp(1.0, -1024));  // 1e308 < 2^1024.
  CHECK(hpt::unit_scale({-0x1p-1070}) == 0x1p1023);
}
