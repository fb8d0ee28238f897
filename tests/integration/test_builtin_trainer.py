"""The built-in LibTorch trainer end to end: a study with no objective.command, concurrent workers
sharing one cache, `hpt train`, `hpt match` and `hpt embed` on a tiny synthetic IDX dataset."""
import gzip
import json
import os
import random
import struct
import subprocess
import unittest
import zlib

from hpt_harness import HPT, TempDirTest, run_bounded, run_hpt, state_counts, trials_json, write_config

SIDE = 12
CLASSES = 4
EPOCHS = 3


def class_image(c, rng):
    """A SIDE x SIDE grey image with class c's quadrant lit, plus seeded noise."""
    half = SIDE // 2
    return bytes((170 if ((y < half) == (c // 2 == 0) and (x < half) == (c % 2 == 0)) else 20)
                 + rng.randrange(60) for y in range(SIDE) for x in range(SIDE))


def write_idx(directory, prefix, per_class, seed):
    rng = random.Random(seed)
    n = per_class * CLASSES
    labels = [i % CLASSES for i in range(n)]
    with gzip.open(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, SIDE, SIDE))
        for c in labels:
            f.write(class_image(c, rng))
    with gzip.open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))


def write_png(path, pixels):
    """An 8-bit grey SIDE x SIDE PNG (zlib + struct, no PIL)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + pixels[y * SIDE:(y + 1) * SIDE] for y in range(SIDE))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIDE, SIDE, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def fixed_section(data):
    return {"dataset": {"format": "idx", "path": data}, "epochs": EPOCHS, "steps_per_epoch": 4,
            "early_stopping_patience": 0, "pretrain_epochs": 2, "classes_per_batch": 4,
            "images_per_class": 8, "eval_pairs": 400, "threads": 1}


class TinyIdxTest(TempDirTest):
    """A temporary folder with a tiny generated IDX dataset (`self.data`) and its own cache
    (`self.env`); the base of the built-in trainer's integration tests."""

    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        write_idx(self.data, "train", 40, 1)
        write_idx(self.data, "t10k", 20, 2)
        self.env = {"HPT_CACHE_DIR": os.path.join(self.dir, "cache")}

    def study_config(self, db, study_keys, search_space):
        """A built-in-trainer study named `builtin` over the tiny dataset: `study_keys` and
        `search_space` are YAML lines (indented), fixed_section() the fixed settings."""
        fixed = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in fixed_section(self.data).items())
        return write_config(self.dir, f"""\
study:
  name: builtin
  direction: maximize
  seed: 0
  storage: {db}
{study_keys}
fixed:
{fixed}
search_space:
{search_space}
""")


class BuiltinTrainerTest(TinyIdxTest):

    @staticmethod
    def edit_config(path, old, new):
        with open(path) as f:
            text = f.read().replace(old, new)
        with open(path, "w") as f:
            f.write(text)

    def cache_files(self, sub):
        folder = os.path.join(self.dir, "cache", sub)
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def test_concurrent_workers_pretrain_once(self):
        """Two workers started at once on an empty cache both finish; the CNN is pretrained once."""
        env = dict(os.environ, **self.env, HPT_FIXED=json.dumps(dict(fixed_section(self.data), pretrain_epochs=4)),
                   HPT_PARAMS=json.dumps({"embedding_dim": 8}))
        procs = [subprocess.Popen([HPT, "worker"], env=dict(env, HPT_SEED=str(s), HPT_TRIAL_NUMBER=str(s)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in (1, 2)]
        results = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, results):
            self.assertEqual(p.returncode, 0, err)
            lines = [json.loads(line) for line in out.splitlines()]
            self.assertEqual([line["step"] for line in lines[:-1]], list(range(1, EPOCHS + 1)))
            self.assertIn("test_roc_auc", lines[-1]["user_attrs"])
        logs = [err for _, err in results]
        self.assertEqual(sum("built-in CNN: pretrained and cached" in e for e in logs), 1, logs)
        self.assertEqual(sum("built-in CNN: cached" in e for e in logs), 1, logs)
        self.assertEqual(sum("features: computed" in e for e in logs), 1, logs)
        # One complete file (plus its lock) per cache entry; no temporaries left behind.
        for sub in ("cnn", "features"):
            files = self.cache_files(sub)
            self.assertEqual(len(files), 2, files)
            self.assertTrue(files[0].endswith(".pt") and files[1] == files[0] + ".lock", files)

    def test_study_report_train_match_embed(self):
        """A built-in-trainer study, its report, then hpt train / match / embed on the same data."""
        db = os.path.join(self.dir, "study.db")
        cfg = self.study_config(db, """\
  sampler: {type: tpe, n_startup_trials: 2}
  pruner: {type: median, n_startup_trials: 2, n_warmup_steps: 1}""", """\
  embedding_dim: [8, 16]
  intermediate_ff_block_units: [[32], []]
  dropout: {type: float, low: 0.0, high: 0.3}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  margin: {type: float, low: 0.2, high: 1.0}""")
        study_out = run_hpt("--config", cfg, "--trials", "4", "--jobs", "2", env=self.env, check=True,
                            timeout=300).stdout
        trials = trials_json(db)
        counts = state_counts(trials)
        self.assertEqual(counts.get("COMPLETE", 0) + counts.get("PRUNED", 0), 4, counts)
        self.assertNotIn("FAIL", counts)
        self.assertEqual(len(self.cache_files("cnn")), 2)  # Pretrained once for the study.
        for t in trials:
            steps = sorted(int(s) for s in t["intermediate_values"])
            if t["state"] == "COMPLETE":
                self.assertEqual(steps, list(range(1, EPOCHS + 1)))
                attrs = t["user_attrs"]
                for key in ("test_roc_auc", "test_recall_at_1", "roc_curve", "confusion_matrix"):
                    self.assertIn(key, attrs)
                self.assertEqual(len(attrs["roc_curve"]["fpr"]), len(attrs["roc_curve"]["tpr"]))
                self.assertEqual(sum(map(sum, attrs["confusion_matrix"])), 400)
                self.assertAlmostEqual(t["value"], max(t["intermediate_values"].values()))
                # A list choice as the database holds it (its JSON text, as Optuna reads it).
                self.assertIn(t["params"]["intermediate_ff_block_units"], ("[32]", "[]"))
            else:
                self.assertEqual(steps, list(range(1, len(steps) + 1)))
                self.assertTrue(0 < len(steps) < EPOCHS)
        report = os.path.join(self.dir, "r.html")
        run_hpt("report", db, "-o", report, check=True)
        with open(report) as f:
            self.assertIn("ROC curve", f.read())

        exp = os.path.join(self.dir, "exp.yaml")
        with open(exp, "w") as f:
            json.dump(dict(fixed_section(self.data), embedding_dim=8, experiment_name="tiny"), f)  # JSON is YAML.
        out = os.path.join(self.dir, "model")
        run_hpt("train", "--config", exp, "--out", out, env=self.env, check=True, timeout=120)
        with open(os.path.join(out, "metrics.json")) as f:
            metrics = json.load(f)
        for key in ("val_roc_auc", "test_roc_auc", "test_recall_at_1", "threshold", "confusion_matrix"):
            self.assertIn(key, metrics)
        self.assertGreater(metrics["test_roc_auc"], 0.8)  # The classes are easy.
        self.assertTrue(0.0 <= metrics["baseline_test_roc_auc"] <= 1.0, metrics)
        self.assertTrue(metrics["device"].startswith("cpu"), metrics)
        for name in ("vectors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        with open(os.path.join(out, "vectors.tsv")) as f:
            rows = f.read().splitlines()
        self.assertEqual(len(rows), 40)  # Half of t10k (80 images) is the test split.
        self.assertEqual(len(rows[0].split("\t")), 8)

        rng = random.Random(5)
        a = write_png(os.path.join(self.dir, "a.png"), class_image(0, rng))
        b = write_png(os.path.join(self.dir, "b.png"), class_image(3, rng))
        # The best trial's model, named at the study's end and by hpt best, is one hpt match takes.
        best = run_hpt("best", db, check=True).stdout
        model_lines = [line for line in best.splitlines() if line.startswith("  model: ")]
        self.assertEqual(len(model_lines), 1, best)
        best_model = model_lines[0][len("  model: "):].split(" (hpt match")[0]
        self.assertIn(f"hpt: its model: {best_model} (hpt match --model", study_out)
        self.assertIn("same", run_hpt("match", "--model", best_model, a, a, check=True).stdout)
        # hpt best --format experiment: the config the best model was trained with, which hpt train
        # takes as it is; with the model folder gone, the same config from the study's settings.
        with open(os.path.join(best_model, "model.json")) as f:
            trained_with = json.load(f)["config"]
        experiment = run_hpt("best", db, "--format", "experiment", check=True).stdout
        self.assertIn(json.dumps(os.path.join(best_model, "model.json")), experiment.splitlines()[1])
        best_yaml = os.path.join(self.dir, "best.yaml")
        with open(best_yaml, "w") as f:
            f.write(experiment)
        final = os.path.join(self.dir, "final")
        run_hpt("train", "--config", best_yaml, "--out", final, env=self.env, check=True, timeout=120)
        with open(os.path.join(final, "model.json")) as f:
            self.assertEqual(json.load(f)["config"], trained_with)
        os.rename(best_model, best_model + ".moved")
        merged = run_hpt("best", db, "--format", "experiment", check=True).stdout
        self.assertIn("its model.json is gone", merged.splitlines()[1])
        self.assertEqual(merged.splitlines()[3:], experiment.splitlines()[3:])
        os.rename(best_model + ".moved", best_model)
        same = run_hpt("match", "--model", out, a, a, check=True).stdout
        self.assertIn("same", same)
        other = run_hpt("match", "--model", out, a, b, check=True).stdout
        d_same, d_other = (float(s.split()[1]) for s in (same, other))
        self.assertLess(d_same, 1e-5)
        self.assertGreater(d_other, d_same)
        lines = run_hpt("embed", "--model", out, a, b, check=True).stdout.splitlines()
        self.assertEqual(len(lines), 2)
        for line, path in zip(lines, (a, b)):
            e = json.loads(line)
            self.assertEqual(e["image"], path)
            self.assertEqual(len(e["embedding"]), 8)
            self.assertAlmostEqual(sum(v * v for v in e["embedding"]), 1.0, places=4)

    def test_device_and_precision_errors(self):
        """device: cuda without CUDA, a bad device and fp16 on the CPU: one line naming file:line: key."""
        cases = [("device: cuda", "device: cuda requested"),
                 ("device: gpu", "device: expected auto, cpu, cuda or cuda:N"),
                 ("device: cpu\nprecision: fp16", "precision: fp16 needs a CUDA device")]
        for extra, message in cases:
            exp = os.path.join(self.dir, "exp.yaml")
            with open(exp, "w") as f:
                f.write(f"dataset: {{format: idx, path: {self.data}}}\n{extra}\n")
            line = extra.count("\n") + 2
            proc = run_hpt("train", "--config", exp, "--out", os.path.join(self.dir, "m"), env=self.env,
                           timeout=60)
            if "requested" in message and "CPU-only" not in proc.stderr and proc.returncode == 0:
                continue  # A CUDA build with a visible GPU: device: cuda is valid there.
            self.assertNotEqual(proc.returncode, 0, proc.stdout)
            err = proc.stderr.strip().splitlines()
            self.assertEqual(len(err), 1, proc.stderr)
            self.assertIn(f"exp.yaml:{line}: {message}", err[0])
            self.assertFalse(os.path.exists(os.path.join(self.dir, "m", "metrics.json")))

    def test_train_refuses_missing_inputs_as_settings(self):
        """A dataset path or feature extractor that does not exist, or a dataset whose content the
        trainer refuses (an image that does not decode, one class), is a setting's mistake: one
        line naming file:line: key, exit 2 (as `hpt --config` refuses it; it was 1), nothing
        written."""
        pgm = os.path.join(self.dir, "a.pgm")
        with open(pgm, "wb") as f:
            f.write(b"P5 1 1 255\n\0")
        rng = random.Random(5)
        corrupt, single = os.path.join(self.dir, "corrupt"), os.path.join(self.dir, "single")
        for c in range(2):
            for root in (corrupt, single) if c == 0 else (corrupt,):
                os.makedirs(os.path.join(root, f"c{c}"))
                for i in range(6):
                    write_png(os.path.join(root, f"c{c}", f"{i}.png"), class_image(c, rng))
        with open(os.path.join(corrupt, "c1", "bad.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n not really a png")
        cases = [(f"dataset: {{format: idx, path: {self.dir}/nodata}}", 1, "dataset.path: no such folder"),
                 (f"dataset: {{format: folder, path: {pgm}}}", 1, "is not a folder"),
                 (f"dataset: {{format: idx, path: {self.data}}}\nfeature_extractor: {self.dir}/none.pt",
                  2, "feature_extractor: no such file"),
                 (f"dataset: {{format: folder, path: {corrupt}}}", 1, "dataset.path: cannot decode image "),
                 (f"dataset: {{format: folder, path: {single}}}", 1, "dataset.path: ")]
        for text, line, message in cases:
            with self.subTest(message=message):
                exp = os.path.join(self.dir, "exp.yaml")
                with open(exp, "w") as f:
                    f.write(text + "\n")
                proc = run_hpt("train", "--config", exp, "--out", os.path.join(self.dir, "m"),
                               env=self.env, timeout=60)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn(f"exp.yaml:{line}:", proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.dir, "m")))

    def test_study_refuses_devices_the_trainer_lacks_before_any_trial(self):
        """A study whose trials would get a device or precision this trainer cannot run (fixed, or
        one choice of a searched key) is refused with one line naming it: exit 2, no database
        (every trial FAILed, one by one, until max_failures)."""
        devices = json.loads(subprocess.run([HPT + "-train", "devices"], capture_output=True, text=True,
                                            check=True).stdout)
        if devices["cuda_available"] and devices["cuda_devices"] > 0:
            self.skipTest("a CUDA build with a visible GPU runs these settings")
        cases = [("  device: cuda\n", "", "fixed.device: cuda requested"),
                 ("  device: cpu\n  precision: fp16\n", "", "fixed.precision: fp16 needs a CUDA device"),
                 ("", "  precision: {type: categorical, choices: [fp32, fp16]}\n",
                  'search_space.precision (choice "fp16"): fp16 needs a CUDA device')]
        for fixed, space, message in cases:
            db = os.path.join(self.dir, "dev.db")
            config = self.study_config(db, "", "  embedding_dim: {type: categorical, choices: [8]}\n" + space)
            self.edit_config(config, "search_space:", fixed + "search_space:")
            proc = run_hpt("--config", config, "--trials", "2", env=self.env, timeout=60)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            err = proc.stderr.strip().splitlines()
            self.assertEqual(len(err), 1, proc.stderr)
            self.assertIn(f"hpt_config.yaml: {message}", err[0])
            self.assertFalse(os.path.exists(db))

    def test_study_refuses_a_dataset_the_trainer_refuses_before_any_trial(self):
        """A dataset problem the trainer finds only by loading (an image that does not decode, one
        class) is found once, before the database exists: exit 2, one line naming the config and
        the file. Every trial FAILed on it, each loading the dataset again, until max_failures."""
        folder = os.path.join(self.dir, "folder")
        rng = random.Random(3)
        for c in range(2):
            os.makedirs(os.path.join(folder, f"c{c}"))
            for i in range(30):
                write_png(os.path.join(folder, f"c{c}", f"{i}.png"), class_image(c, rng))
        with open(os.path.join(folder, "c1", "bad.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n not really a png")
        db = os.path.join(self.dir, "data.db")
        config = self.study_config(db, "", "  embedding_dim: {type: categorical, choices: [8]}\n")
        self.edit_config(config, json.dumps({"format": "idx", "path": self.data}),
                         json.dumps({"format": "folder", "path": folder}))
        proc = run_bounded("--config", config, "--trials", "2", env=self.env, seconds=120)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        err = proc.stderr.strip().splitlines()
        self.assertEqual(len(err), 1, proc.stderr)
        self.assertIn("hpt_config.yaml: fixed.dataset.path: cannot decode image ", err[0])
        self.assertIn("bad.png", err[0])
        self.assertFalse(os.path.exists(db))
        os.remove(os.path.join(folder, "c1", "bad.png"))  # The dataset fixed: the study runs,
        with open(os.path.join(folder, "c1", "photo.webp"), "wb") as f:  # saying what it skips.
            f.write(b"RIFF")
        proc = run_bounded("--config", config, "--trials", "1", env=self.env, seconds=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("hpt: warning: " + config + ": fixed.dataset.path: 1 files in the class folders are "
                      "not images hpt reads (1 .webp) and were left out", proc.stderr)

    def test_train_prints_class_summary(self):
        """hpt train prints per-split min/max/mean images per class and the raw-feature baseline."""
        exp = os.path.join(self.dir, "exp.yaml")
        with open(exp, "w") as f:
            json.dump(dict(fixed_section(self.data), embedding_dim=8, epochs=1), f)
        proc = run_hpt("train", "--config", exp, "--out", os.path.join(self.dir, "m"), env=self.env,
                       check=True, timeout=120)
        self.assertIn("min/class", proc.stdout)
        self.assertIn("train images per class", proc.stdout)
        self.assertIn("device: cpu", proc.stdout)
        self.assertIn("raw extractor features", proc.stdout)


if __name__ == "__main__":
    unittest.main()
