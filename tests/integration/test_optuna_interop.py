"""hpt studies read by Optuna 3.1, and Optuna studies continued by hpt."""
import json
import os
import subprocess
import unittest

from hpt_harness import PYTHON, TempDirTest, quadratic_config, run_hpt, state_counts, trials_json

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False


def optuna_py(code):
    return subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)


@unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
class OptunaInteropTest(TempDirTest):
    def test_optuna_reads_an_hpt_study(self):
        """optuna.load_study sees hpt's trials, params, values, steps and best trial."""
        cfg = quadratic_config(self.dir, pruner="median")
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "8", check=True)
        hpt_trials = trials_json(db)
        best = min((t for t in hpt_trials if t["state"] == "COMPLETE"), key=lambda t: t["value"])
        proc = optuna_py(f"""
import optuna
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
assert s.direction == optuna.study.StudyDirection.MINIMIZE
assert len(s.trials) == {len(hpt_trials)}, len(s.trials)
assert s.best_trial.number == {best['number']}, s.best_trial.number
assert abs(s.best_value - {best['value']!r}) < 1e-12
t = s.trials[0]
assert set(t.params) == {{"x", "y", "kind"}}, t.params
assert isinstance(t.distributions["y"], optuna.distributions.FloatDistribution) and t.distributions["y"].log
assert len(t.intermediate_values) == 5
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ok", proc.stdout)

    def test_hpt_continues_an_optuna_study(self):
        """A study Optuna created (with an enqueued trial) is continued by hpt to the total."""
        db = f"{self.dir}/study.db"
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.create_study(study_name="quad", storage="sqlite:///{db}", direction="minimize")
def f(trial):
    x = trial.suggest_float("x", -3, 3)
    y = trial.suggest_float("y", 0.01, 10, log=True)
    k = trial.suggest_categorical("kind", ["a", "b"])
    return (x - 1) ** 2 + (y + 0.5) ** 2 + (0 if k == "a" else 0.3)
s.optimize(f, n_trials=5)
s.enqueue_trial({{"x": 1.0, "y": 0.5, "kind": "a"}})
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        cfg = quadratic_config(self.dir)
        run_hpt("--config", cfg, "--trials", "9", check=True)
        trials = trials_json(db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 9})
        enqueued = trials[5]
        self.assertEqual(enqueued["params"], {"x": 1.0, "y": 0.5, "kind": "a"})
        self.assertAlmostEqual(enqueued["value"], 1.0)
        proc = optuna_py(f"""
import optuna
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
assert len(s.trials) == 9 and all(t.state.name == "COMPLETE" for t in s.trials)
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_report_and_importance_of_an_optuna_study(self):
        """hpt report / importance read a study Optuna wrote (log, step, categorical, pruned, failed)."""
        db = f"{self.dir}/optuna.db"
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.create_study(study_name="made_by_optuna", storage="sqlite:///{db}", direction="maximize",
                        sampler=optuna.samplers.RandomSampler(seed=1))
def f(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    units = trial.suggest_int("units", 16, 256, step=16)
    act = trial.suggest_categorical("act", ["relu", "gelu", None])
    if trial.number == 3:
        raise ValueError("boom")
    v = -abs(lr - 0.01) * 10 + units / 256 + (0.1 if act == "relu" else 0)
    for step in range(4):
        trial.report(v - 1 / (step + 1), step)
        if trial.number % 5 == 4 and step == 1:
            raise optuna.TrialPruned()
    return v
s.optimize(f, n_trials=25, catch=(ValueError,))
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = f"{self.dir}/report.html"
        run_hpt("report", db, "-o", out, check=True)
        with open(out) as fh:
            html = fh.read()
        for section in ("Optimization history", "Slice", "Parallel", "Contour", "Learning curves"):
            self.assertIn(section, html)
        imp = json.loads(run_hpt("importance", db, "--format", "json", check=True).stdout)
        self.assertEqual(set(imp), {"lr", "units", "act"})
        self.assertAlmostEqual(sum(imp.values()), 1.0, places=6)
        states = state_counts(trials_json(db))
        self.assertEqual(states.get("FAIL"), 1)
        self.assertGreater(states.get("PRUNED", 0), 0)


if __name__ == "__main__":
    unittest.main()
