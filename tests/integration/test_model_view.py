"""What the model learned, end to end: a built-in-trainer study writes each trial's model view
(model_view.json in the trial's folder), `hpt report` embeds the best trial's view, and
`hpt train --out DIR` writes DIR/model_view.json and DIR/model_report.html."""
import json
import os
import re
import shutil
import unittest

from hpt_harness import HPT, run_hpt, trials_json
from test_builtin_trainer import TinyIdxTest, fixed_section


def trainer_built():
    hpt = shutil.which(HPT) or HPT
    return os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(hpt)), "hpt-train"))


@unittest.skipUnless(trainer_built(), "hpt-train not built (HPT_WITH_TRAINER=OFF)")
class ModelViewTest(TinyIdxTest):

    def check_view(self, view, n_test):
        self.assertEqual(view["format"], "hpt-model-view")
        self.assertEqual(view["n_images"], n_test)
        self.assertEqual(len(view["points"]), n_test)  # Fewer than the cap: every image.
        self.assertEqual(len(view["thumbnails"]), n_test)
        self.assertTrue(all(t.startswith("iVBORw0KGgo") for t in view["thumbnails"]))
        self.assertEqual([k for k, _ in view["recall_at_k"]], [1, 5, 10])
        recalls = [r for _, r in view["recall_at_k"]]
        self.assertEqual(recalls, sorted(recalls))  # recall@k never falls as k grows.
        self.assertTrue(all(0.0 <= r <= 1.0 for r in recalls), recalls)
        self.assertEqual(view["pairs"], 400)
        self.assertEqual(len(view["hardest_false_matches"]), min(8, view["false_matches"]))
        d = [p["distance"] for p in view["hardest_false_matches"]]
        self.assertEqual(d, sorted(d))
        self.assertTrue(all(x <= view["threshold"] for x in d))

    def check_page(self, html, heading):
        self.assertIn('<section id="model"><h2>' + heading, html)
        self.assertIn('class="hpt-emb"', html)
        self.assertIn("recall@k", html)
        self.assertIn("Hardest false matches", html)
        self.assertEqual(len(re.findall(r'<circle [^>]*data-c="', html)), 40)
        self.assertIsNone(re.search(r'src="(?!data:image/png;base64,)', html))

    def test_report_and_train_show_the_model(self):
        """The study report shows the best trial's model view; hpt train writes its own page."""
        db = os.path.join(self.dir, "study.db")
        cfg = self.study_config(db, "  sampler: {type: random}", """\
  embedding_dim: [8]
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}""")
        run_hpt("--config", cfg, "--trials", "2", env=self.env, check=True, timeout=300)
        trials = [t for t in trials_json(db) if t["state"] == "COMPLETE"]
        self.assertEqual(len(trials), 2)
        best = max(trials, key=lambda t: t["value"])
        for t in trials:
            path = os.path.join(self.dir, "study_trials", "builtin", str(t["number"]), "model_view.json")
            with open(path) as f:
                self.check_view(json.load(f), 40)  # Half of t10k (80 images) is the test split.
        report = os.path.join(self.dir, "r.html")
        run_hpt("report", db, "-o", report, check=True)
        with open(report) as f:
            html = f.read()
        self.check_page(html, f"What the model learned (best trial #{best['number']})")
        self.assertIn('<a href="#model">Model</a>', html)
        # The study folder moved with its database: the view is found beside the new database.
        moved = os.path.join(self.dir, "moved")
        os.mkdir(moved)
        for name in ("study.db", "study_trials"):
            os.rename(os.path.join(self.dir, name), os.path.join(moved, name))
        run_hpt("report", os.path.join(moved, "study.db"), "-o", report, check=True)
        with open(report) as f:
            self.check_page(f.read(), f"What the model learned (best trial #{best['number']})")

        exp = os.path.join(self.dir, "exp.yaml")
        with open(exp, "w") as f:
            json.dump(dict(fixed_section(self.data), embedding_dim=8, experiment_name="tiny"), f)
        out = os.path.join(self.dir, "model")
        run_hpt("train", "--config", exp, "--out", out, env=self.env, check=True, timeout=120)
        with open(os.path.join(out, "model_view.json")) as f:
            self.check_view(json.load(f), 40)
        with open(os.path.join(out, "model_report.html")) as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.check_page(page, "What the model learned")


if __name__ == "__main__":
    unittest.main()
