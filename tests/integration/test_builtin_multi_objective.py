"""The built-in trainer as a multi-objective worker: `objectives` in the fixed section, one study
direction per objective (checked before the first trial), a dotted search-space name, and
`hpt best` printing the Pareto front, on the tiny synthetic IDX data of test_builtin_trainer."""
import json
import os

from hpt_harness import run_bounded, trials_json, write_config
from test_builtin_trainer import EPOCHS, TinyIdxTest, fixed_section


def hpt(*args, env=None, seconds=300):
    return run_bounded(*args, seconds=seconds, env=env)


class BuiltinMultiObjectiveTest(TinyIdxTest):
    def setUp(self):
        super().setUp()
        self.db = os.path.join(self.dir, "study.db")

    def config(self, directions, objectives=None):
        fixed = dict(fixed_section(self.data), pretrain_epochs=1)
        if objectives:
            fixed["objectives"] = objectives
        lines = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in fixed.items())
        return write_config(self.dir, f"""\
study:
  name: mo-builtin
  directions: {json.dumps(directions)}
  seed: 1
  storage: {self.db}
  sampler: {{type: random}}
fixed:
{lines}
search_space:
  embedding_dim: [8, 16]
  dataset.image_size: [0, 16]
  learning_rate: {{type: float, low: 1.0e-3, high: 1.0e-2, log: true}}
""")

    def test_three_objectives_and_the_front(self):
        """Every trial reports one value per objective (embedding_dim as sampled, inference_ms
        measured), steps stay single-objective, and `hpt best` prints the Pareto front."""
        cfg = self.config(["maximize", "minimize", "minimize"],
                          ["val_roc_auc", "embedding_dim", "inference_ms"])
        proc = hpt("--config", cfg, "--trials", "3", env=self.env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        trials = trials_json(self.db)
        self.assertEqual([t["state"] for t in trials], ["COMPLETE"] * 3)
        for t in trials:
            auc, dim, ms = t["values"]
            self.assertTrue(0 <= auc <= 1, t)
            self.assertEqual(dim, t["params"]["embedding_dim"])
            self.assertGreater(ms, 0)
            self.assertEqual(sorted(int(s) for s in t["intermediate_values"]),
                             list(range(1, EPOCHS + 1)))
        best = hpt("best", self.db)
        self.assertEqual(best.returncode, 0, best.stderr)
        self.assertRegex(best.stdout, r"\d+ trials? on the Pareto front of")
        front = json.loads(hpt("best", self.db, "--format", "json").stdout)
        self.assertTrue(1 <= len(front) <= 3)
        self.assertTrue(all(len(t["values"]) == 3 for t in front))
        # Each front trial's saved model is named, one line under it.
        models = [line for line in best.stdout.splitlines() if line.startswith("    model: ")]
        self.assertEqual(len(models), len(front), best.stdout)
        for line, t in zip(models, front):
            self.assertIn(f"/{t['number']} (hpt match --model ", line)

    def test_directions_must_match_objectives(self):
        """Two directions with the default single objective: one config error naming both places,
        before any trial (no study database written)."""
        proc = hpt("--config", self.config(["maximize", "minimize"]), "--trials", "1", env=self.env,
                   seconds=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("study.directions: 2 directions but fixed.objectives gives 1 objective", lines[0])
        self.assertFalse(os.path.exists(self.db))

    def test_unknown_metric_is_named(self):
        """An unknown metric name in objectives is refused with a hint, before any trial."""
        proc = hpt("--config", self.config(["maximize", "minimize"], ["val_roc_auc", "embeding_dim"]),
                   "--trials", "1", env=self.env, seconds=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("objectives[1]: unknown metric 'embeding_dim' (did you mean 'embedding_dim'?)",
                      proc.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
