"""Constrained studies: workers report constraint values ({"value": v, "constraints": [...]}),
stored as Optuna's constraints_func stores them; best trials are feasible ones; Optuna 3.1 and
hpt continue each other's constrained studies."""
import json
import os
import sqlite3
import subprocess
import unittest

from hpt_harness import OBJECTIVES, PYTHON, TempDirTest, run_bounded, two_objective_config, write_config
from test_dashboard import REQUIRED, browser_missing, dashboard_page

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False


def config(directory, sampler="{type: tpe, n_startup_trials: 5}", pruner="{type: none}"):
    return write_config(directory, f"""\
        study:
          name: con
          direction: minimize
          seed: 2
          storage: {os.path.join(directory, 'study.db')}
          sampler: {sampler}
          pruner: {pruner}
        objective:
          command: [{PYTHON}, {os.path.join(OBJECTIVES, 'constrained.py')}]
        search_space:
          x: {{type: float, low: -5, high: 5}}
          y: {{type: float, low: -5, high: 5}}
        """)


def trials(db):
    """(number, state, value, constraints or None) of every trial, by number."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT t.number, t.state, v.value, a.value_json FROM trials t "
            "LEFT JOIN trial_values v ON v.trial_id = t.trial_id "
            "LEFT JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a.key = 'constraints' "
            "ORDER BY t.number").fetchall()
    finally:
        con.close()
    return [(n, s, v, json.loads(c) if c is not None else None) for n, s, v, c in rows]


def feasible(constraints):
    return constraints is None or all(c <= 0 for c in constraints)


class ConstrainedStudyTest(TempDirTest):
    def test_constraints_are_stored_and_best_is_feasible(self):
        cfg = config(self.dir)
        proc = run_bounded("--config", cfg, "--trials", "30", seconds=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("infeasible", proc.stdout)
        rows = trials(os.path.join(self.dir, "study.db"))
        self.assertEqual(len(rows), 30)
        for n, state, value, cons in rows:
            self.assertEqual(state, "COMPLETE")
            self.assertEqual(len(cons), 2, n)
        best_feasible = min((r for r in rows if feasible(r[3])), key=lambda r: r[2])
        best_any = min(rows, key=lambda r: r[2])
        self.assertFalse(feasible(best_any[3]), "the test needs an infeasible trial that is better")
        best = run_bounded("best", os.path.join(self.dir, "study.db"), "--format", "json",
                           seconds=60)
        self.assertEqual(best.returncode, 0, best.stderr)
        self.assertEqual(json.loads(best.stdout)["number"], best_feasible[0])
        self.assertIn(f"best trial {best_feasible[0]} ", proc.stdout)
        # The search went where the constraints hold: a tenth of the space is feasible, and
        # TPE blind to them heads for the infeasible optimum (1, -1); 7 of the last 15 are.
        self.assertGreaterEqual(sum(feasible(r[3]) for r in rows[15:]), 5)

    def test_a_pruned_trial_keeps_its_step_constraints(self):
        cfg = config(self.dir, pruner="{type: threshold, upper: -1}")  # Prunes every trial.
        proc = run_bounded("--config", cfg, "--trials", "3", seconds=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = trials(os.path.join(self.dir, "study.db"))
        self.assertEqual([r[1] for r in rows], ["PRUNED"] * 3)
        for _, _, _, cons in rows:
            self.assertEqual(len(cons), 2)

    def test_no_feasible_trial_means_no_best_trial(self):
        cfg = config(self.dir)
        proc = run_bounded("--config", cfg, "--trials", "3", seconds=120,
                           env={"CONSTRAINED_MODE": "violated"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count(" infeasible"), 3, proc.stdout)
        best = run_bounded("best", os.path.join(self.dir, "study.db"), seconds=60)
        self.assertEqual(best.returncode, 1)
        self.assertEqual(best.stderr.strip(),
                         "hpt: error: study 'con' has 3 COMPLETE trials, but none meets its "
                         "constraints (every constraint value <= 0; see hpt trials)")
        report = os.path.join(self.dir, "r.html")
        proc = run_bounded("report", os.path.join(self.dir, "study.db"), "-o", report, seconds=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(report) as f:
            html = f.read()
        self.assertIn("3 of the 3 trials violate their constraints (grey)", html)
        self.assertIn("there is no best trial", html)

    def test_nan_constraints_fail_the_trial_as_a_protocol_error(self):
        cfg = config(self.dir)
        proc = run_bounded("--config", cfg, "--trials", "1", seconds=120,
                           env={"CONSTRAINED_MODE": "nan"})
        self.assertNotEqual(proc.returncode, 0)
        con = sqlite3.connect(os.path.join(self.dir, "study.db"))
        try:
            reason, = con.execute("SELECT value_json FROM trial_system_attributes "
                                  "WHERE key = 'fail_reason'").fetchone()
            cons = con.execute("SELECT COUNT(*) FROM trial_system_attributes "
                               "WHERE key = 'constraints'").fetchone()[0]
        finally:
            con.close()
        self.assertIn("protocol error: constraints must not hold NaN", json.loads(reason))
        self.assertEqual(cons, 0)

    def test_a_trial_reporting_another_number_of_constraints_fails(self):
        """Every trial reports as many constraint values as the study's first constrained trial:
        another count is a protocol error (Optuna's NSGA-II raised on such a study), the trial
        FAILs with no constraints stored, and the study goes on."""
        cfg = config(self.dir, sampler="{type: random}")
        proc = run_bounded("--config", cfg, "--trials", "4", env={"CONSTRAINED_MODE": "grow"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = trials(os.path.join(self.dir, "study.db"))
        self.assertEqual([r[1] for r in rows], ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE"])
        self.assertIsNone(rows[2][3])
        self.assertTrue(all(len(r[3]) == 2 for r in rows if r[1] == "COMPLETE"), rows)
        self.assertIn("protocol error: 3 constraint values, but trial 0 of the study reported 2: "
                      "each trial reports the same constraints", proc.stdout + proc.stderr)

    def test_a_sampler_that_ignores_constraints_says_so_once(self):
        cfg = config(self.dir, sampler="{type: cmaes, n_startup_trials: 2}")
        proc = run_bounded("--config", cfg, "--trials", "4", seconds=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("the cmaes sampler does not use them"), 1, proc.stdout)
        for sampler in ("{type: tpe}", "{type: random}"):
            os.remove(os.path.join(self.dir, "study.db"))
            proc = run_bounded("--config", config(self.dir, sampler=sampler), "--trials", "2",
                               seconds=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertNotIn("does not use them", proc.stdout)

    @unittest.skipUnless(HAVE_OPTUNA, "needs Debian's python3-optuna")
    def test_optuna_and_hpt_continue_each_others_constrained_studies(self):
        db = os.path.join(self.dir, "study.db")
        cfg = config(self.dir)
        proc = run_bounded("--config", cfg, "--trials", "10", seconds=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Optuna's TPE with a constraints_func continues hpt's study: it reads hpt's constraint
        # values, and writes its own for its trials.
        code = f"""
import optuna, warnings
warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)
def objective(t):
    x = t.suggest_float("x", -5, 5); y = t.suggest_float("y", -5, 5)
    t.set_user_attr("c", [2 - x, y + 1.5])
    return (x - 1) ** 2 + (y + 1) ** 2
sampler = optuna.samplers.TPESampler(seed=1, constraints_func=lambda t: t.user_attrs["c"])
study = optuna.load_study(study_name="con", storage="sqlite:///{db}", sampler=sampler)
assert all(len(t.system_attrs["constraints"]) == 2 for t in study.trials)
study.optimize(objective, n_trials=10)
print(len(study.trials))
"""
        out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "20")
        # hpt continues the 20 trials, Optuna's constraint values counting as its own.
        proc = run_bounded("--config", cfg, "--trials", "25", seconds=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = trials(db)
        self.assertEqual(len(rows), 25)
        self.assertTrue(all(r[3] is not None for r in rows))
        best = run_bounded("best", db, "--format", "json", seconds=60)
        expected = min((r for r in rows if feasible(r[3])), key=lambda r: r[2])
        self.assertEqual(json.loads(best.stdout)["number"], expected[0])

    def test_dashboard_draws_a_constrained_pareto_front(self):
        """A constrained two-objective study in a real browser: the Pareto plot marks exactly
        the trials `hpt best` lists (feasible ones), and every infeasible trial is grey."""
        reason = browser_missing()
        if reason:
            if REQUIRED:
                self.fail(reason)
            self.skipTest(reason)
        db = os.path.join(self.dir, "study.db")
        proc = run_bounded("--config", two_objective_config(self.dir), "--trials", "14",
                           seconds=300, env={"TWO_OBJECTIVES_CONSTRAINED": "1"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        front = sorted(t["number"] for t in json.loads(
            run_bounded("best", db, "--format", "json", seconds=60).stdout))
        rows = trials(db)  # A row per objective value: the numbers, once each.
        infeasible = sorted({r[0] for r in rows if not feasible(r[3])})
        self.assertTrue(front and infeasible, rows)
        self.assertFalse(set(front) & set(infeasible))
        result, code, dash_err = dashboard_page(db, self.dir)
        self.assertEqual(result["errors"], [])
        self.assertEqual(sorted(int(n) for n in result["front"].split(",")), front)
        self.assertEqual(result["front_marks"], len(front))
        self.assertEqual(result["infeasible_marks"], len(infeasible))
        self.assertEqual(code, 0, dash_err)


if __name__ == "__main__":
    unittest.main()
