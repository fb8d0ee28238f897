"""End-to-end studies with a command objective: results, formats, pruning, determinism."""
import json
import sqlite3
import os
import unittest

from hpt_harness import (PYTHON, TempDirTest, qmc_config, quadratic_config, run_hpt, state_counts, trials_json,
                         write_config, OBJECTIVES)


class StudyTest(TempDirTest):
    def test_study_runs_to_total_and_records_everything(self):
        """A 12-trial TPE study finishes exactly 12 trials with params, values, steps and attrs."""
        cfg = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        proc = run_hpt("--config", cfg, "--trials", "12", check=True)
        self.assertIn("best trial", proc.stdout)
        trials = trials_json(db)
        self.assertEqual(len(trials), 12)
        self.assertEqual(state_counts(trials), {"COMPLETE": 12})
        for t in trials:
            p = t["params"]
            self.assertTrue(-3 <= p["x"] <= 3 and 0.01 <= p["y"] <= 10 and p["kind"] in ("a", "b"))
            expected = (p["x"] - 1) ** 2 + (p["y"] + 0.5) ** 2 + (0 if p["kind"] == "a" else 0.3)
            self.assertAlmostEqual(t["value"], expected, places=9)
            self.assertEqual(len(t["intermediate_values"]), 5)
            self.assertEqual(t["user_attrs"]["trial"], t["number"])
        # Re-running the same command adds nothing: the study is complete.
        run_hpt("--config", cfg, "--trials", "12", check=True)
        self.assertEqual(len(trials_json(db)), 12)
        # Raising the total continues the same study.
        run_hpt("--config", cfg, "--trials", "15", check=True)
        self.assertEqual(state_counts(trials_json(db)), {"COMPLETE": 15})

    def test_best_studies_csv(self):
        """`best`, `studies` and the csv format agree with the json listing."""
        cfg = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        run_hpt("--config", cfg, "--trials", "6", check=True)
        trials = trials_json(db)
        best = min(trials, key=lambda t: t["value"])
        best_json = json.loads(run_hpt("best", db, "--format", "json", check=True).stdout)
        self.assertEqual(best_json["number"], best["number"])
        self.assertEqual(run_hpt("studies", db, check=True).stdout, "quad  MINIMIZE  6 trials (6 finished)\n")
        run_hpt("--config", cfg, "--trials", "1", "--study", "a-longer-name", check=True)
        self.assertEqual(run_hpt("studies", db, check=True).stdout,
                         "quad           MINIMIZE  6 trials (6 finished)\n"
                         "a-longer-name  MINIMIZE  1 trial (1 finished)\n")
        empty = os.path.join(self.dir, "empty.db")
        con = sqlite3.connect(db)
        con.execute(f"VACUUM INTO '{empty}'")
        con.close()
        con = sqlite3.connect(empty)
        for table in ("trial_values", "trial_params", "trial_intermediate_values", "trial_user_attributes",
                      "trial_system_attributes", "trial_heartbeats", "trials", "study_directions",
                      "study_user_attributes", "study_system_attributes", "studies"):
            con.execute(f"DELETE FROM {table}")
        con.commit()
        con.close()
        self.assertEqual(run_hpt("studies", empty, check=True).stdout, "no study in this database yet\n")
        csv = run_hpt("trials", db, "--study", "quad", "--format", "csv", check=True).stdout.strip().splitlines()
        self.assertEqual(csv[0], "number,state,value,duration,params_kind,params_x,params_y")
        self.assertEqual(len(csv), 7)

    def test_best_shows_every_user_attribute(self):
        """`hpt best` lists every user attribute: short lists and objects as JSON, long ones (a ROC
        curve) in a few words (they were left out)."""
        script = os.path.join(self.dir, "attrs.py")
        with open(script, "w") as f:
            f.write("import json\n"
                    "print(json.dumps({'value': 1.0, 'user_attrs': {'cm': [[1, 2], [3, 4]], 'note': 'hi', 'long': 'y' * 100,"
                    " 'roc': [[i / 100, i / 100] for i in range(101)]}}))\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: a, storage: {self.dir}/a.db}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space:
              x: {{type: float, low: 0, high: 1}}
            """)
        run_hpt("--config", cfg, "--trials", "1", check=True)
        out = run_hpt("best", f"{self.dir}/a.db", check=True).stdout
        self.assertIn("  [cm] [[1, 2], [3, 4]]\n", out)
        self.assertIn("  [note] hi\n", out)
        self.assertIn("  [long] " + "y" * 100 + "\n", out)  # A string is shown whole.
        self.assertIn("  [roc] (101 items in a list; --format json shows it)\n", out)

    def test_median_pruner_prunes_and_terminates_workers(self):
        """With slow reporting steps, bad trials get PRUNED and count as finished."""
        cfg = write_config(self.dir, f"""\
            study:
              name: prune
              storage: {self.dir}/p.db
              seed: 3
              sampler: {{type: random}}
              pruner: {{type: median, n_startup_trials: 2, n_warmup_steps: 0}}
            objective:
              command: [{PYTHON}, {OBJECTIVES}/quadratic.py]
            search_space:
              x: {{type: float, low: -10, high: 10}}
            """)
        run_hpt("--config", cfg, "--trials", "12", check=True, env={"OBJ_STEPS": "8"})
        trials = trials_json(f"{self.dir}/p.db")
        counts = state_counts(trials)
        self.assertEqual(counts.get("COMPLETE", 0) + counts.get("PRUNED", 0), 12)
        self.assertGreater(counts.get("PRUNED", 0), 0)
        for t in trials:
            if t["state"] == "PRUNED":
                self.assertLess(len(t["intermediate_values"]), 8)
                last = max(t["intermediate_values"], key=int)
                self.assertAlmostEqual(t["value"], t["intermediate_values"][last])

    def test_seeded_study_is_reproducible(self):
        """Two seeded jobs=1 studies sample identical parameters."""
        a = quadratic_config(self.dir, db="a.db", seed=11)
        run_hpt("--config", a, "--trials", "10", check=True)
        b = quadratic_config(self.dir, db="b.db", seed=11)
        run_hpt("--config", b, "--trials", "10", check=True)
        pa = [t["params"] for t in trials_json(f"{self.dir}/a.db")]
        pb = [t["params"] for t in trials_json(f"{self.dir}/b.db")]
        self.assertEqual(pa, pb)
        c = quadratic_config(self.dir, db="c.db", seed=12)
        run_hpt("--config", c, "--trials", "10", check=True)
        self.assertNotEqual(pa, [t["params"] for t in trials_json(f"{self.dir}/c.db")])

    def test_qmc_study_walks_the_sobol_sequence(self):
        """sampler: {type: qmc}: trial n's x is point n of the Sobol' sequence over [-3, 3] (SciPy's
        first eight: 0, 1/2, 3/4, 1/4, 3/8, 7/8, 5/8, 1/8)."""
        cfg = qmc_config(self.dir)
        run_hpt("--config", cfg, "--trials", "8", check=True)
        xs = [t["params"]["x"] for t in trials_json(f"{self.dir}/study.db")]
        self.assertEqual(xs, [-3 + 6 * u for u in (0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125)])

    def test_gp_study_converges_with_parallel_workers(self):
        """sampler: {type: gp}: after 4 random trials the Gaussian process brings two workers near
        the optimum of (x - 1)^2 + (y + 0.5)^2 (0.2601 at x = 1, y = 0.01, kind a), and the two
        never train one configuration twice (a running trial counts as explored). The order in
        which two workers finish varies from run to run, so the bar holds for any history: in
        32 trials the GP's best was at most 0.30 in 40 runs (seeds 0-19, jobs 1 and 2, idle and
        under load), while random search got below 0.4 in 13 of 30 runs. (At 16
        trials the GP's edge exploration left 2 seeds in 5 above 1.0: the old bar flaked.)"""
        cfg = quadratic_config(self.dir, sampler="gp", jobs=2)
        run_hpt("--config", cfg, "--trials", "32", check=True)
        trials = trials_json(f"{self.dir}/study.db")
        self.assertEqual(state_counts(trials), {"COMPLETE": 32})
        self.assertLess(min(t["value"] for t in trials), 0.4)
        points = {(t["params"]["x"], t["params"]["y"], t["params"]["kind"]) for t in trials}
        self.assertEqual(len(points), 32)

    def test_placeholders_and_grid(self):
        """{name} placeholders reach the command; the grid sampler covers its grid."""
        script = os.path.join(self.dir, "args.py")
        with open(script, "w") as f:
            f.write("import sys, json\nprint(json.dumps({'value': float(sys.argv[1]) * len(json.loads(sys.argv[2]))}))\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: g, storage: {self.dir}/g.db, sampler: {{type: grid}}, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {script}, "{{a}}", "{{units}}"]}}
            search_space:
              a: [1, 2, 3]
              units: {{type: categorical, choices: [[512, 256], [256]]}}
            """)
        run_hpt("--config", cfg, "--trials", "6", check=True)
        trials = trials_json(f"{self.dir}/g.db")
        # The database holds a list choice as its JSON text, as Optuna reads it.
        seen = sorted((t["params"]["a"], len(json.loads(t["params"]["units"]))) for t in trials)
        self.assertEqual(seen, [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)])
        for t in trials:
            self.assertEqual(t["value"], t["params"]["a"] * len(json.loads(t["params"]["units"])))


if __name__ == "__main__":
    unittest.main()
