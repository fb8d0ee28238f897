"""Multi-objective studies: hpt <-> Optuna 3.1 in both directions, a Python objective
reporting {"values": [...]}, config errors."""
import json
import os
import re
import sqlite3
import subprocess

from hpt_harness import PYTHON, TempDirTest, run_bounded, two_objective_config
from test_dashboard import REQUIRED, browser_missing, browser_page

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False

import unittest

# The objective in Optuna's terms: the same distributions and values as two_objectives.py.
OPTUNA_OBJECTIVE = """
def objective(t):
    x = t.suggest_float("x", -3, 3)
    y = t.suggest_float("y", 0.01, 10, log=True)
    penalty = 0.0 if t.suggest_categorical("kind", ["a", "b"]) == "a" else 0.3
    return (x - 1.0) ** 2 + penalty, -((x + 1.0) ** 2) + y
"""


def hpt(*args, seconds=120):
    return run_bounded(*args, seconds=seconds)


def optuna_py(code):
    proc = subprocess.run([PYTHON, "-c", "import optuna\noptuna.logging.set_verbosity("
                           "optuna.logging.ERROR)\n" + OPTUNA_OBJECTIVE + code],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(proc.stdout + proc.stderr)
    return proc.stdout


def generations(db):
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT t.number, a.value_json FROM trials t JOIN trial_system_attributes a "
                           "ON a.trial_id = t.trial_id WHERE a.key = 'nsga2:generation' "
                           "ORDER BY t.number").fetchall()
    finally:
        con.close()
    return {number: json.loads(value) for number, value in rows}

@unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
class MultiObjectiveTest(TempDirTest):
    def config(self, sampler="{type: tpe, n_startup_trials: 4}", extra=""):
        return two_objective_config(self.dir, sampler, extra)

    def best_numbers(self, db):
        proc = hpt("best", db, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return sorted(t["number"] for t in json.loads(proc.stdout))

    def test_hpt_study_is_read_and_continued_by_optuna(self):
        """hpt (MOTPE) writes a study from a Python objective reporting values; Optuna's
        best_trials equals `hpt best`; Optuna continues it with its MOTPE and NSGA-II; hpt
        resumes after Optuna's trials."""
        db = f"{self.dir}/study.db"
        config = self.config()
        proc = hpt("--config", config, "--trials", "12")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("on the Pareto front", proc.stdout)
        front = self.best_numbers(db)
        self.assertTrue(front)
        out = optuna_py(f"""
import json, math
s = optuna.load_study(study_name="mo", storage="sqlite:///{db}")
assert [d.name for d in s.directions] == ["MINIMIZE", "MAXIMIZE"]
assert len(s.trials) == 12 and all(t.state.name == "COMPLETE" for t in s.trials)
for t in s.trials:
    f1 = (t.params["x"] - 1.0) ** 2 + (0.0 if t.params["kind"] == "a" else 0.3)
    assert math.isclose(t.values[0], f1, rel_tol=1e-12), (t.values, t.params)
    assert math.isclose(t.intermediate_values[0], t.values[0] + 1.0), t.intermediate_values
print(json.dumps(sorted(t.number for t in s.best_trials)))
s.sampler = optuna.samplers.TPESampler(seed=1)
s.optimize(objective, n_trials=3)
s.sampler = optuna.samplers.NSGAIISampler(seed=1, population_size=4)
s.optimize(objective, n_trials=3)
""")
        self.assertEqual(json.loads(out.strip().splitlines()[0]), front)
        proc = hpt("--config", config, "--trials", "22")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        trials = json.loads(hpt("trials", db, "--format", "json").stdout)
        self.assertEqual(len(trials), 22)
        self.assertTrue(all(t["state"] == "COMPLETE" and len(t["values"]) == 2 for t in trials))
        out = optuna_py(f"""
import json
s = optuna.load_study(study_name="mo", storage="sqlite:///{db}")
print(json.dumps(sorted(t.number for t in s.best_trials)))
""")
        self.assertEqual(json.loads(out), self.best_numbers(db))
        table = hpt("best", db)
        self.assertIn("Pareto front of [MINIMIZE, MAXIMIZE]", table.stdout)

    def test_optuna_nsga2_study_is_continued_by_hpt(self):
        """Optuna's NSGAIISampler writes generations 0-2; hpt continues with sampler nsga2 and
        the same config: its trials carry later generations (Optuna's bookkeeping), Optuna
        continues again, and both agree on the Pareto front."""
        db = f"{self.dir}/study.db"
        optuna_py(f"""
s = optuna.create_study(study_name="mo", storage="sqlite:///{db}",
                        directions=["minimize", "maximize"],
                        sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=4))
s.optimize(objective, n_trials=9)
""")
        before = generations(db)
        self.assertEqual(max(before.values()), 2)
        config = self.config(sampler="{type: nsga2, population_size: 4}")
        proc = hpt("--config", config, "--trials", "21")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        after = generations(db)
        self.assertEqual(len(after), 21)
        self.assertEqual({n: after[n] for n in before}, before)
        hpt_generations = [after[n] for n in range(9, 21)]
        self.assertEqual(hpt_generations, sorted(hpt_generations))
        self.assertGreaterEqual(hpt_generations[-1], 4)
        out = optuna_py(f"""
import json
s = optuna.load_study(study_name="mo", storage="sqlite:///{db}",
                      sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=4))
s.optimize(objective, n_trials=2)
assert all(len(t.values) == 2 for t in s.trials)
print(json.dumps(sorted(t.number for t in s.best_trials)))
""")
        self.assertEqual(len(generations(db)), 23)
        self.assertEqual(json.loads(out), self.best_numbers(db))

    def test_config_errors_are_one_line(self):
        """A pruner, both direction and directions, or a misspelt NSGA-II option are refused in
        one line before anything is written."""
        for extra, expected in (
                ("  pruner: {type: median}", "study.pruner: pruning is not supported for "
                                             "multi-objective studies"),
                ("  direction: minimize", "study.directions: give either direction"),
                ("", "did you mean 'population_size'")):
            config = self.config(extra=extra) if extra else self.config(
                sampler="{type: nsga2, populaton_size: 4}")
            proc = hpt("--config", config, "--trials", "2")
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            self.assertIn(expected, proc.stderr)
            self.assertEqual(proc.stderr.strip().count("\n"), 0, proc.stderr)
            self.assertFalse(os.path.exists(f"{self.dir}/study.db"))


def data_front(html):
    """The trial numbers of the report's <section id="pareto" data-front="...">."""
    match = re.search(r'<section id="pareto" data-front="([0-9,]*)"', html)
    if not match:
        raise AssertionError("no Pareto section in the report")
    return sorted(int(n) for n in match.group(1).split(",") if n)


@unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
class MultiObjectiveReportTest(TempDirTest):
    def optuna_study(self, n_trials=24):
        """An Optuna 3.1 study with directions [minimize, maximize]; returns its best_trials."""
        db = f"{self.dir}/study.db"
        out = optuna_py(f"""
import json
s = optuna.create_study(study_name="mo", storage="sqlite:///{db}",
                        directions=["minimize", "maximize"],
                        sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=6))
s.optimize(objective, n_trials={n_trials})
print(json.dumps(sorted(t.number for t in s.best_trials)))
""")
        return db, json.loads(out)

    def test_report_shows_optunas_pareto_front(self):
        """`hpt report` on Optuna's multi-objective study: the Pareto section marks exactly
        Optuna's best_trials, with per-objective plots; in headless Chromium the page has no
        console error, draws the front and marks it in the trials table."""
        db, front = self.optuna_study()
        out = f"{self.dir}/report.html"
        proc = hpt("report", db, "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(out, encoding="utf-8") as f:
            html = f.read()
        self.assertEqual(data_front(html), front)
        for text in ("objective 0 (minimize)", "objective 1 (maximize)",
                     "Importance for objective 1 (maximize)", 'data-objective="1"'):
            self.assertIn(text, html)
        reason = browser_missing()
        if reason:
            if REQUIRED:
                self.fail(reason)
            self.skipTest(reason)
        result = browser_page("file://" + out, self.dir)
        self.assertEqual(result["errors"], [])
        self.assertEqual(sorted(int(n) for n in result["front"].split(",")), front)
        self.assertEqual(result["front_marks"], len(front))
        self.assertEqual(result["pareto_cells"], len(front))
        self.assertIn("objective 1", result["headers"])
        self.assertIn("Pareto", result["headers"])
        self.assertIn("Pareto front", result["tooltip"])
        self.assertEqual(result["importance_charts"], 2)

    def test_importance_objective_flag(self):
        """`hpt importance --objective N`: 0 by default, each objective's own importances, and a
        one-line error naming the flag and the number of objectives when N is out of range
        (also for a single-objective study)."""
        db, _ = self.optuna_study()
        default = hpt("importance", db, "--format", "json")
        self.assertEqual(default.returncode, 0, default.stderr)
        first = hpt("importance", db, "--format", "json", "--objective", "0")
        self.assertEqual(json.loads(first.stdout), json.loads(default.stdout))
        second = hpt("importance", db, "--format", "json", "--objective", "1")
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertAlmostEqual(sum(json.loads(second.stdout).values()), 1.0)
        self.assertNotEqual(json.loads(second.stdout), json.loads(first.stdout))
        for bad, needle in (("2", "--objective 2: study 'mo' has 2 objectives (--objective 0 to 1)"),
                            ("-1", "--objective -1: study 'mo' has 2 objectives"),
                            ("x", "--objective"),
                            ("1e3", "--objective: expected a whole number in"),
                            ("99999999999999999999", "but got '99999999999999999999'")):
            proc = hpt("importance", db, "--objective", bad)
            self.assertNotEqual(proc.returncode, 0, bad)
            self.assertIn(needle, proc.stderr)
            self.assertEqual(proc.stderr.strip().count("\n"), 0, proc.stderr)
            self.assertEqual(proc.stdout, "")
        single = f"{self.dir}/single.db"
        optuna_py(f"""
s = optuna.create_study(study_name="one", storage="sqlite:///{single}",
                        sampler=optuna.samplers.RandomSampler(seed=0))
s.optimize(lambda t: objective(t)[0], n_trials=8)
""")
        self.assertEqual(hpt("importance", single, "--objective", "0").returncode, 0)
        proc = hpt("importance", single, "--objective", "1")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--objective 1: study 'one' has 1 objective (--objective 0)", proc.stderr)


if __name__ == "__main__":
    unittest.main()
