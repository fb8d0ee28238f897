"""hpt studies read by Optuna 3.1, and Optuna studies continued by hpt."""
import json
import os
import subprocess
import unicodedata
import unittest

from hpt_harness import (OBJECTIVES, PYTHON, TempDirTest, qmc_config, quadratic_config, run_bounded, run_hpt, state_counts, trials_json,
                         write_config)

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False


# objectives/quadratic.py's value as an Optuna objective over quadratic_config's search space.
QUADRATIC = '''def f(trial):
    x = trial.suggest_float("x", -3, 3)
    y = trial.suggest_float("y", 0.01, 10, log=True)
    k = trial.suggest_categorical("kind", ["a", "b"])
    return (x - 1) ** 2 + (y + 0.5) ** 2 + (0 if k == "a" else 0.3)'''


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

    def assert_optuna_grid_continues(self, db, xs, name, choices):
        """Optuna's GridSampler, continuing study g of db over x in xs and name in choices with
        the same grid, runs only the points hpt left: each point once in all."""
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
grid = {{"x": {xs!r}, {name!r}: {choices!r}}}
s = optuna.load_study(study_name="g", storage="sqlite:///{db}",
                      sampler=optuna.samplers.GridSampler(grid))
s.optimize(lambda t: t.suggest_int("x", min(grid["x"]), max(grid["x"]))
           + len(t.suggest_categorical({name!r}, grid[{name!r}])), n_trials=100)
points = [(t.params["x"], t.params[{name!r}]) for t in s.trials]
n = len(grid["x"]) * len(grid[{name!r}])
assert len(points) == n and len(set(points)) == n, points
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ok", proc.stdout)

    def test_optuna_grid_sampler_continues_an_hpt_grid(self):
        """hpt's grid trials carry Optuna's grid_id / search_space: Optuna's GridSampler, continuing
        with the same grid, runs only the points hpt left (it re-ran the whole grid)."""
        db = f"{self.dir}/grid.db"
        cfg = write_config(self.dir, f"""\
            study: {{name: g, direction: minimize, storage: {db}, sampler: {{type: grid}}, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {os.path.join(OBJECTIVES, "quadratic.py")}]}}
            search_space:
              x: {{type: int, low: 0, high: 2}}
              kind: {{type: categorical, choices: [a, b]}}
            """)
        run_hpt("--config", cfg, "--trials", "3", check=True)
        self.assert_optuna_grid_continues(db, [0, 1, 2], "kind", ["a", "b"])

    def test_optuna_reads_hpts_list_choices_in_grid_and_enqueued_trials(self):
        """A list choice is stored as its JSON text, and so are the attributes Optuna matches it
        by: Optuna's GridSampler continues an hpt grid of list choices without re-running its
        points (the grid's search_space held lists), and Optuna runs an hpt-enqueued trial with a
        list choice (its fixed_params held a list: "'[512, 256]' not in ('[256]', '[512,256]')")."""
        db = f"{self.dir}/grid.db"
        cfg = write_config(self.dir, f"""\
            study: {{name: g, storage: {db}, sampler: {{type: grid}}, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {os.path.join(OBJECTIVES, "quadratic.py")}]}}
            search_space:
              x: {{type: int, low: 0, high: 1}}
              blocks: {{type: categorical, choices: [[256], [512, 256]]}}
            """)
        run_hpt("--config", cfg, "--trials", "2", check=True)
        self.assert_optuna_grid_continues(db, [0, 1], "blocks", ["[256]", "[512,256]"])
        db2 = f"{self.dir}/enq.db"
        with open(cfg) as f:
            text = f.read().replace(db, db2).replace("type: grid", "type: random")
        with open(cfg, "w") as f:  # Its one trial is the first entry, never the second's point.
            f.write(text + "enqueue:\n  - {x: 0, blocks: [256]}\n")
        run_hpt("--config", cfg, "--trials", "1", check=True)
        with open(cfg, "w") as f:
            f.write(text + "enqueue:\n  - {x: 0, blocks: [256]}\n  - {x: 1, blocks: [512, 256]}\n")
        run_hpt("--config", cfg, "--trials", "1", check=True)  # Enqueues it, runs nothing.
        self.assertEqual(state_counts(trials_json(db2)), {"COMPLETE": 1, "WAITING": 1})
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.load_study(study_name="g", storage="sqlite:///{db2}")
s.optimize(lambda t: t.suggest_int("x", 0, 1) + len(t.suggest_categorical("blocks", ["[256]", "[512,256]"])),
           n_trials=1)
t = s.trials[1]
assert t.params == {{"x": 1, "blocks": "[512,256]"}}, t.params
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
{QUADRATIC}
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

    def test_cmaes_studies_move_between_optuna_and_hpt(self):
        """Optuna's CmaEsSampler and hpt's cmaes share cma:generation: hpt continues an Optuna
        CMA-ES study at its next generation, and Optuna continues hpt's."""
        db = f"{self.dir}/study.db"
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.create_study(study_name="quad", storage="sqlite:///{db}", direction="minimize",
                        sampler=optuna.samplers.CmaEsSampler(seed=0))
{QUADRATIC}
s.optimize(f, n_trials=15)
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        cfg = quadratic_config(self.dir, sampler="cmaes")
        run_hpt("--config", cfg, "--trials", "30", check=True)
        proc = optuna_py(f"""
import optuna, warnings
warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}",
                      sampler=optuna.samplers.CmaEsSampler(seed=1))
gens = [t.system_attrs.get("cma:generation") for t in s.trials]
# Optuna: trial 0 random, then generations of 6 (4 + 3 ln 2): 0 x6, 1 x6, 2 x2. hpt's first
# trial (15) finds generations 0 and 1 told and 2 short of 4: 2 x4, then 3 x6, 4 x6, 5 x...
assert gens[:15] == [None] + [0] * 6 + [1] * 6 + [2] * 2, gens
assert gens[15:] == [2] * 4 + [3] * 6 + [4] * 5, gens
best = min(t.value for t in s.trials)
assert best < min(t.value for t in s.trials[:15]), best
{QUADRATIC}
s.optimize(f, n_trials=8)
assert s.trials[-1].system_attrs["cma:generation"] >= 4, s.trials[-1].system_attrs
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        self.assertIn("ok", proc.stdout)

    def test_optuna_continues_an_hpt_qmc_study_where_it_left(self):
        """hpt raises Optuna's QMC counter ("sobol (scramble=False)'s last sample id") to each trial
        it samples, so Optuna's QMCSampler continuing the study draws the points hpt would have
        drawn next (it started the sequence again from point 0)."""
        run_hpt("--config", qmc_config(self.dir), "--trials", "8", check=True)
        run_hpt("--config", qmc_config(self.dir, db="longer.db"), "--trials", "10", check=True)
        expected = [t["params"]["x"] for t in trials_json(f"{self.dir}/longer.db")][8:10]
        proc = optuna_py(f"""
import optuna, warnings
warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.load_study(study_name="quad", storage="sqlite:///{self.dir}/study.db",
                      sampler=optuna.samplers.QMCSampler(qmc_type="sobol", scramble=False))
assert s.system_attrs["sobol (scramble=False)'s last sample id"] == 7, s.system_attrs
{QUADRATIC}
s.optimize(f, n_trials=2)
print([t.params["x"] for t in s.trials[8:]])
""")
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(len(got), 2)
        for a, b in zip(got, expected):
            self.assertAlmostEqual(a, b, places=12)

    def test_enqueued_trials_as_optuna_enqueues_them(self):
        """study.enqueue writes Optuna's WAITING trials with fixed_params: each tool's
        skip_if_exists finds the other's, so a trial is enqueued once, whoever asked first."""
        db = f"{self.dir}/study.db"
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.create_study(study_name="quad", storage="sqlite:///{db}", direction="minimize")
s.enqueue_trial({{"x": 0.5, "y": 1.0, "kind": "b"}})
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        cfg = quadratic_config(self.dir)
        with open(cfg, "a") as f:
            f.write("enqueue:\n  - {x: 0.5, y: 1.0, kind: b}\n  - {x: 1, kind: a}\n")
        out = run_hpt("--config", cfg, "--trials", "3", check=True)
        self.assertIn("enqueued 1 trial from", out.stderr + out.stdout)
        self.assertIn("1 already in the study", out.stderr + out.stdout)
        trials = trials_json(db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 3})
        self.assertEqual(trials[0]["params"], {"x": 0.5, "y": 1.0, "kind": "b"})
        self.assertEqual(trials[1]["params"]["x"], 1.0)
        self.assertEqual(trials[1]["params"]["kind"], "a")
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
t = s.trials[1]
assert t.system_attrs["fixed_params"] == {{"x": 1.0, "kind": "a"}}, t.system_attrs
s.enqueue_trial({{"x": 1.0, "kind": "a"}}, skip_if_exists=True)
assert len(s.trials) == 3, len(s.trials)
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ok", proc.stdout)
        # Run again: nothing is enqueued twice.
        out = run_hpt("--config", cfg, "--trials", "4", check=True)
        self.assertNotIn("enqueued", out.stderr + out.stdout)
        self.assertEqual(len(trials_json(db)), 4)

    def test_delete_study_leaves_a_database_optuna_reads(self):
        """hpt delete-study removes one study of two: Optuna lists the other, loads it whole, and
        can make the deleted name again."""
        db = f"{self.dir}/study.db"
        run_hpt("--config", quadratic_config(self.dir), "--trials", "3", check=True)
        run_hpt("--config", quadratic_config(self.dir), "--trials", "2", "--study", "other",
                check=True)
        out = run_hpt("delete-study", db, "--study", "quad", check=True).stdout
        self.assertIn("deleted study 'quad' and its 3 trials from", out)
        self.assertIn("its trials folder is left as it is", out)
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = "sqlite:///{db}"
names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
assert names == ["other"], names
assert len(optuna.load_study(study_name="other", storage=storage).trials) == 2
try:
    optuna.load_study(study_name="quad", storage=storage)
    raise SystemExit("quad still there")
except KeyError:
    pass
s = optuna.create_study(study_name="quad", storage=storage)
s.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
assert len(s.trials) == 1
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ok", proc.stdout)

    def test_studies_json_is_what_optunas_cli_prints(self):
        """hpt studies --format json and `optuna studies -f json` give the same list (hpt reads
        Optuna's spelling of the command too): an hpt study, an Optuna multi-objective study, and a
        study without trials."""
        db = f"{self.dir}/study.db"
        run_hpt("--config", quadratic_config(self.dir), "--trials", "3", check=True)
        proc = optuna_py(f"""
import optuna
storage = "sqlite:///{db}"
s = optuna.create_study(study_name="mo", storage=storage, directions=["minimize", "maximize"])
s.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
optuna.create_study(study_name="empty", storage=storage)
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        optuna_args = ["studies", "--storage", f"sqlite:///{db}", "-f", "json"]
        theirs = subprocess.run(["optuna", *optuna_args], capture_output=True, text=True, timeout=120)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        ours = json.loads(run_hpt("studies", db, "--format", "json", check=True).stdout)
        self.assertEqual(ours, json.loads(theirs.stdout))
        # Optuna's command line as it is, to hpt.
        self.assertEqual(json.loads(run_hpt(*optuna_args, check=True).stdout), ours)
        self.assertEqual([s["name"] for s in ours], ["quad", "mo", "empty"])
        self.assertIsNone(ours[2]["datetime_start"])
        self.assertNotIn("user_attrs", ours[0])
        # A study with a user attribute: Optuna adds user_attrs to every row.
        proc = optuna_py(f"""
import optuna
optuna.load_study(study_name="empty", storage="sqlite:///{db}").set_user_attr("owner", {{"team": "me"}})
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        theirs = subprocess.run(["optuna", *optuna_args], capture_output=True, text=True, timeout=120)
        ours_text = run_hpt(*optuna_args, check=True).stdout
        self.assertEqual(ours_text, theirs.stdout)  # The same text: keys in Optuna's order.
        ours = json.loads(ours_text)
        self.assertEqual([s["user_attrs"] for s in ours], [{}, {}, {"owner": {"team": "me"}}])

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
        # To a pipe: the page alone on stdout (the "wrote" line goes to stderr).
        piped = run_hpt("report", db, "-o", "/dev/stdout", check=True)
        self.assertTrue(piped.stdout.startswith("<!DOCTYPE html>"), piped.stdout[:100])
        self.assertTrue(piped.stdout.rstrip().endswith("</html>"), piped.stdout[-100:])
        self.assertIn("Optimization history", piped.stdout)
        self.assertIn("hpt: wrote /dev/stdout", piped.stderr)
        imp = json.loads(run_hpt("importance", db, "--format", "json", check=True).stdout)
        self.assertEqual(set(imp), {"lr", "units", "act"})
        self.assertAlmostEqual(sum(imp.values()), 1.0, places=6)
        states = state_counts(trials_json(db))
        self.assertEqual(states.get("FAIL"), 1)
        self.assertGreater(states.get("PRUNED", 0), 0)

    def test_tables_align_wide_names(self):
        """Names in CJK (two terminal columns a character) or with combining marks keep the
        tables of `hpt studies`, `hpt trials` and `hpt importance` aligned: columns were padded
        by bytes, so every column after such a name came out ragged."""
        db = f"{self.dir}/wide.db"
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
for name in ("\u7814\u7a76", "plain-study-name"):
    s = optuna.create_study(study_name=name, storage="sqlite:///{db}",
                            sampler=optuna.samplers.RandomSampler(seed=1))
    s.optimize(lambda t: t.suggest_float("\u5b66\u4e60\u7387", 0, 1) + t.suggest_float("cafe\u0301", 0, 2)
               + t.suggest_float("x", 0, 3), n_trials=12)
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)

        def columns(line):  # The terminal columns where each field after the first starts.
            width, starts, gap = 0, [], False
            for ch in line:
                if ch == " ":
                    gap = True
                elif gap:
                    starts.append(width)
                    gap = False
                width += 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            return starts

        for args in (["studies", db], ["trials", db, "--study", "\u7814\u7a76"],
                     ["importance", db, "--study", "\u7814\u7a76"]):
            with self.subTest(verb=args[0]):
                out = run_hpt(*args, check=True).stdout
                lines = [line for line in out.splitlines() if line and not line.startswith("objective")]
                self.assertGreater(len(lines), 1, out)
                if args[0] == "importance":  # "name  value": the values end in one column.
                    ends = {sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c)
                                else 1 for c in line) for line in lines}
                    self.assertEqual(len(ends), 1, out)
                else:
                    self.assertEqual(len({tuple(columns(line)[:2]) for line in lines}), 1, out)


if __name__ == "__main__":
    unittest.main()


def hpt_bounded(*args, seconds=60):
    return run_bounded(*args, seconds=seconds)


@unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
class SharedStudySafetyTest(TempDirTest):
    def make_multi_objective(self, db):
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.create_study(study_name="quad", storage="sqlite:///{db}", directions=["minimize", "maximize"])
s.optimize(lambda t: (t.suggest_float("x", -3, 3) ** 2, t.suggest_float("y", 0.01, 10, log=True)
                      + (1 if t.suggest_categorical("kind", ["a", "b"]) == "a" else 0)), n_trials=12)
print(sorted(t.number for t in s.best_trials))
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def test_multi_objective_study_is_read_not_corrupted(self):
        """An Optuna multi-objective study: hpt refuses to continue it (one line, nothing
        written), trials shows every value, best prints Optuna's Pareto front, report draws it,
        importance ranks per objective, and the file is never written."""
        db = f"{self.dir}/study.db"
        front = self.make_multi_objective(db)
        before = file_digest_of(db)
        proc = hpt_bounded("--config", quadratic_config(self.dir), "--trials", "20")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(proc.stderr.strip().count("\n"), 0, proc.stderr)
        self.assertIn("directions [MINIMIZE, MAXIMIZE], but the config says MINIMIZE", proc.stderr)
        self.assertEqual(file_digest_of(db), before)
        trials = json.loads(hpt_bounded("trials", db, "--format", "json").stdout)
        self.assertEqual(len(trials), 12)
        self.assertTrue(all(len(t["values"]) == 2 and t["value"] is None for t in trials))
        self.assertIn("[", hpt_bounded("trials", db).stdout)
        best = hpt_bounded("best", db, "--format", "json")
        self.assertEqual(best.returncode, 0, best.stderr)
        self.assertEqual(sorted(t["number"] for t in json.loads(best.stdout)), front)
        self.assertIn("Pareto front of [MINIMIZE, MAXIMIZE]", hpt_bounded("best", db).stdout)
        # Report and importance read it per objective (the Pareto front, --objective N).
        report = hpt_bounded("report", db, "-o", f"{self.dir}/r.html")
        self.assertEqual(report.returncode, 0, report.stderr)
        with open(f"{self.dir}/r.html") as f:
            self.assertIn('id="pareto"', f.read())
        for objective in ("0", "1"):
            proc = hpt_bounded("importance", db, "--objective", objective, "--format", "json")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("x", json.loads(proc.stdout))
        proc = hpt_bounded("importance", db, "--objective", "2")
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(proc.stderr.strip().count("\n"), 0, proc.stderr)
        self.assertIn("--objective 2", proc.stderr)
        self.assertEqual(file_digest_of(db), before)

    def test_incompatible_search_space_is_refused(self):
        """Optuna's compatibility rules before the first trial: another kind, log dropped,
        reordered choices are refused naming the parameter; a changed range is allowed."""
        db = f"{self.dir}/study.db"
        run_hpt("--config", quadratic_config(self.dir), "--trials", "3", check=True)
        before = file_digest_of(db)
        with open(f"{self.dir}/hpt_config.yaml") as f:
            original = f.read()
        for old, new, expected in (
                ("x: {type: float, low: -3, high: 3}", "x: {type: int, low: -3, high: 3}",
                 "search_space.x: it is stored as float but declared as int"),
                ("y: {type: float, low: 0.01, high: 10, log: true}", "y: {type: float, low: 0.01, high: 10}",
                 "search_space.y: it is stored with log=true but declared with log=false"),
                ("choices: [a, b]", "choices: [b, a]", "search_space.kind: its categorical choices differ")):
            with open(f"{self.dir}/hpt_config.yaml", "w") as f:
                f.write(original.replace(old, new))
            proc = hpt_bounded("--config", f"{self.dir}/hpt_config.yaml", "--trials", "5")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn(expected, proc.stderr)
            self.assertEqual(proc.stderr.strip().count("\n"), 0, proc.stderr)
            self.assertEqual(file_digest_of(db), before)
        with open(f"{self.dir}/hpt_config.yaml", "w") as f:
            f.write(original.replace("low: -3, high: 3", "low: -5, high: 5"))
        proc = hpt_bounded("--config", f"{self.dir}/hpt_config.yaml", "--trials", "5")
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_string_choices_that_look_like_json_stay_strings(self):
        """A choice stored as "[64]" is a string (Optuna users spell lists so): hpt runs and
        resumes a study of such strings, its workers get the strings, Optuna reads them back,
        and hpt continues Optuna's study of them. A list choice reaches the worker as a list."""
        db = f"{self.dir}/s.db"
        script = os.path.join(self.dir, "seen.py")
        with open(script, "w") as f:
            f.write("import json, os\n"
                    "p = json.loads(os.environ['HPT_PARAMS'])\n"
                    "with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seen.jsonl'), 'a') as f:\n"
                    "    f.write(json.dumps(p) + '\\n')\n"
                    "print(json.dumps({'value': len(str(p['arch'])) + len(str(p.get('units', '')))}))\n")
        proc = optuna_py(f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.create_study(study_name="arch", storage="sqlite:///{db}")
s.optimize(lambda t: len(t.suggest_categorical("arch", ["[64]", "[128, 64]", "{{}}"])), n_trials=3)
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        strings = write_config(self.dir, f"""\
            study: {{name: arch, storage: {db}, sampler: {{type: random}}}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space:
              arch: {{type: categorical, choices: ["[64]", "[128, 64]", "{{}}"]}}
            """)
        run_hpt("--config", strings, "--trials", "6", check=True)
        run_hpt("--config", strings, "--trials", "+2", check=True)
        trials = trials_json(db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 8})
        self.assertTrue(all(isinstance(t["params"]["arch"], str) for t in trials), trials)
        with open(os.path.join(self.dir, "seen.jsonl")) as f:
            seen = [json.loads(line) for line in f]
        self.assertEqual(len(seen), 5)
        self.assertTrue(all(p["arch"] in ("[64]", "[128, 64]", "{}") for p in seen), seen)
        # Lists whose text is not Optuna's strings ("[128,64]") are another search space.
        lists = os.path.join(self.dir, "lists.yaml")
        with open(strings) as f:
            text = f.read()
        with open(lists, "w") as f:
            f.write(text.replace('["[64]", "[128, 64]", "{}"]', '[[64], [128, 64], {}]'))
        proc = run_bounded("--config", lists, "--trials", "+1")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("search_space.arch: its categorical choices differ", proc.stderr)
        proc = optuna_py(f"""
import optuna
s = optuna.load_study(study_name="arch", storage="sqlite:///{db}")
assert len(s.trials) == 8 and all(t.params["arch"] in ("[64]", "[128, 64]", "{{}}") for t in s.trials), s.trials
print("ok")
""")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # A study of its own list choices: the worker gets lists; the database holds their text.
        own = write_config(self.dir, f"""\
            study: {{name: own, storage: {db}, sampler: {{type: random}}}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space:
              arch: {{type: categorical, choices: ["[1]", b]}}
              units: {{type: categorical, choices: [[512, 256], [256]]}}
            """)
        os.remove(os.path.join(self.dir, "seen.jsonl"))
        run_hpt("--config", own, "--trials", "3", check=True)
        run_hpt("--config", own, "--trials", "+1", check=True)
        with open(os.path.join(self.dir, "seen.jsonl")) as f:
            seen = [json.loads(line) for line in f]
        self.assertEqual(len(seen), 4)
        self.assertTrue(all(p["arch"] in ("[1]", "b") and p["units"] in ([512, 256], [256]) for p in seen), seen)
        self.assertTrue(all(t["params"]["units"] in ("[512,256]", "[256]") for t in trials_json(db, "own")))


def file_digest_of(db):
    """The database's content (every row of every table; hpt's switch to WAL aside)."""
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


class HostileDatabaseTest(TempDirTest):
    def test_read_commands_survive_any_content(self):
        """Rows no writer should leave (300,000-deep JSON, invalid JSON, a huge string, NaN,
        unknown states and directions, garbage distributions, choice indexes out of range):
        trials, best, report and importance end normally under timeout -k."""
        import sqlite3
        db = f"{self.dir}/study.db"
        run_hpt("--config", quadratic_config(self.dir), "--trials", "6", check=True)
        con = sqlite3.connect(db)
        deep = "[" * 300000 + "]" * 300000
        con.executemany("INSERT INTO trial_user_attributes (trial_id, key, value_json) VALUES (?, ?, ?)",
                        [(1, "deep", deep), (1, "bad", '{"a": '), (2, "huge", '"' + "z" * 5000000 + '"'),
                         (3, "nan", "NaN")])
        con.execute("UPDATE trials SET state = 'EXPLODED' WHERE trial_id = 4")
        con.execute("UPDATE trial_params SET distribution_json = ? WHERE trial_id = 5 AND param_name = 'x'", (deep,))
        con.execute("UPDATE trial_params SET distribution_json = 'garbage' WHERE trial_id = 5 AND param_name = 'y'")
        con.execute("UPDATE trial_params SET param_value = 99 WHERE trial_id = 6 AND param_name = 'kind'")
        con.execute("UPDATE trial_values SET value = NULL, value_type = 'NAN' WHERE trial_id = 2")
        con.commit()
        con.close()
        for args in (["trials", db], ["trials", db, "--format", "json"], ["trials", db, "--format", "csv"],
                     ["best", db], ["best", db, "--format", "json"], ["studies", db],
                     ["report", db, "-o", f"{self.dir}/r.html"], ["importance", db]):
            proc = hpt_bounded(*args)
            self.assertIn(proc.returncode, (0, 1), f"{args}: {proc.returncode} {proc.stderr[-500:]}")
            self.assertNotIn("terminate", proc.stderr)
        self.assertIn("<unreadable", hpt_bounded("trials", db, "--format", "json").stdout)
        self.assertEqual(hpt_bounded("report", db, "-o", f"{self.dir}/r.html").returncode, 0)
        with sqlite3.connect(db) as con:
            con.execute("UPDATE study_directions SET direction = 'NOT_SET'")
        proc = hpt_bounded("best", db)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("NOT_SET", proc.stderr)
        self.assertIn("NOT_SET", hpt_bounded("studies", db).stdout)
