"""The built-in trainer in a constrained study: `constraints` in the fixed section bound its
metrics, each trial's final line reports their values (stored as Optuna's constraints_func
stores them), and the best trial is a feasible one, on the tiny synthetic IDX data of
test_builtin_trainer."""
import json
import os

from hpt_harness import run_bounded, trials_json, write_config
from test_builtin_trainer import TinyIdxTest, fixed_section


class BuiltinConstraintsTest(TinyIdxTest):
    def setUp(self):
        super().setUp()
        self.db = os.path.join(self.dir, "study.db")

    def config(self, constraints):
        fixed = dict(fixed_section(self.data), pretrain_epochs=1, constraints=constraints)
        lines = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in fixed.items())
        return write_config(self.dir, f"""\
study:
  name: constrained-builtin
  direction: maximize
  seed: 1
  storage: {self.db}
  sampler: {{type: grid}}
fixed:
{lines}
search_space:
  embedding_dim: [16, 8]
""")

    def test_bounds_are_reported_and_the_best_trial_is_feasible(self):
        """embedding_dim <= 8 holds for one grid point only; inference_ms under 1e6 ms and
        val_roc_auc >= 0 always hold. Each trial stores [dim - 8, ms - 1e6, -auc], and `hpt best`
        names the feasible trial whatever the two AUCs are."""
        cfg = self.config([{"metric": "embedding_dim", "max": 8},
                           {"metric": "inference_ms", "max": 1e6},
                           {"metric": "val_roc_auc", "min": 0}])
        proc = run_bounded("--config", cfg, "--trials", "2", seconds=300, env=self.env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        trials = trials_json(self.db)
        self.assertEqual([t["state"] for t in trials], ["COMPLETE"] * 2)
        for t in trials:
            dim, ms, auc = t["constraints"]
            self.assertEqual(dim, t["params"]["embedding_dim"] - 8)
            self.assertTrue(-1e6 < ms < -1e6 + 1e3, t)  # Measured: a few ms per image.
            self.assertAlmostEqual(auc, -t["value"], places=12)
        self.assertIn("infeasible", proc.stdout + proc.stderr)  # The progress line of dim 16.
        best = json.loads(run_bounded("best", self.db, "--format", "json").stdout)
        self.assertEqual(best["params"]["embedding_dim"], 8)

    def test_a_bad_bound_is_refused_before_any_trial(self):
        """A misspelt metric in fixed.constraints: one line naming the file, line and key, exit
        2, no database."""
        cfg = self.config([{"metric": "inference_m", "max": 2}])
        proc = run_bounded("--config", cfg, "--trials", "1", seconds=60, env=self.env)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("constraints[0].metric: unknown metric 'inference_m' (did you mean 'inference_ms'?)",
                      lines[0])
        self.assertIn("hpt_config.yaml:", lines[0])
        self.assertFalse(os.path.exists(self.db))
