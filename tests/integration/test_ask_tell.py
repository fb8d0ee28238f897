"""hpt ask / hpt tell (Optuna's CLI verbs): trials run by a program of the user's own."""
import json
import os
import signal
import sqlite3
import subprocess
import time
import unittest

from hpt_harness import (HPT, OBJECTIVES, PYTHON, TempDirTest, private_objective, quadratic_config, run_bounded,
                         state_counts, trials_json, write_config)

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False


QUADRATIC_PY = os.path.join(OBJECTIVES, "quadratic.py")


def quadratic(params):
    """objectives/quadratic.py's final value."""
    return (params["x"] - 1.0) ** 2 + (params["y"] + 0.5) ** 2 + (0.0 if params["kind"] == "a" else 0.3)


class AskTellTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.cfg = quadratic_config(self.dir, seed=3)
        self.db = os.path.join(self.dir, "study.db")

    def ask(self, *extra):
        proc = run_bounded("ask", "--config", self.cfg, *extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(proc.stdout.splitlines()), 1, proc.stdout)
        return json.loads(proc.stdout)

    def tell(self, *args):
        return run_bounded("tell", self.db, *args)

    def test_an_ask_tell_loop_samples_as_a_run_does(self):
        """Asked and told one at a time, a seeded study samples exactly what `hpt --config` samples
        running the same objective: the same sampler over the same history."""
        for _ in range(8):
            trial = self.ask()
            proc = self.tell("--trial-number", str(trial["number"]), "--values", repr(quadratic(trial["params"])))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout, f"trial {trial['number']} is COMPLETE with values "
                                          f"[{quadratic(trial['params'])!r}]\n")
        asked = trials_json(self.db)
        run_dir = os.path.join(self.dir, "run")
        os.mkdir(run_dir)
        run_cfg = quadratic_config(run_dir, seed=3)
        run_bounded("--config", run_cfg, "--trials", "8").check_returncode()
        ran = trials_json(os.path.join(run_dir, "study.db"))
        self.assertEqual([t["params"] for t in asked], [t["params"] for t in ran])
        for a, r in zip(asked, ran):
            self.assertAlmostEqual(a["value"], r["value"], places=12)

    def test_told_trials_count_toward_a_run_and_are_not_run_again(self):
        first = self.ask()
        second = self.ask()
        self.assertEqual((first["number"], second["number"]), (0, 1))
        self.assertEqual(set(first["params"]), {"x", "y", "kind"})
        self.assertTrue(-3 <= first["params"]["x"] <= 3 and first["params"]["kind"] in ("a", "b"))
        self.assertEqual(self.tell("--trial-number", "0", "--values", "0.5").returncode, 0)
        self.assertEqual(self.tell("--trial-number", "1", "--state", "fail").returncode, 0)
        run_bounded("--config", self.cfg, "--trials", "3").check_returncode()
        trials = trials_json(self.db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 3, "FAIL": 1})
        self.assertEqual(trials[0]["value"], 0.5)
        self.assertEqual(trials[0]["params"], first["params"])
        self.assertEqual(trials[1]["state"], "FAIL")

    def test_an_enqueued_trial_is_asked_first(self):
        cfg = write_config(self.dir, f"""\
            study: {{name: quad, direction: minimize, storage: {self.db}}}
            objective: {{command: [{PYTHON}, {QUADRATIC_PY}]}}
            search_space:
              x: {{type: float, low: -3, high: 3}}
              kind: [a, b]
            enqueue:
              - {{x: 1.5}}
            """, name="enq.yaml")
        proc = run_bounded("ask", "--config", cfg)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        trial = json.loads(proc.stdout)
        self.assertEqual(trial["number"], 0)
        self.assertEqual(trial["params"]["x"], 1.5)

    def test_an_asked_trial_is_never_taken_for_dead(self):
        """An asked trial keeps no heartbeat: a run with a 1 s heartbeat grace waits for it (and says
        how to finish it) instead of running it again under its program's feet."""
        trial = self.ask()
        cfg = quadratic_config(self.dir, seed=3, extra_study="heartbeat_grace: 1")
        proc = run_bounded("--config", cfg, "--trials", "2", "--timeout", "4")
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        self.assertIn("trial 0 has no hpt owner and no heartbeat (asked by hpt ask", proc.stdout + proc.stderr)
        self.assertIn("finish it with hpt tell", proc.stdout + proc.stderr)
        trials = trials_json(self.db)
        self.assertEqual(trials[0]["state"], "RUNNING")
        self.assertEqual(trials[0]["params"], trial["params"])
        self.assertEqual(self.tell("--trial-number", "0", "--values", "2").returncode, 0)

    def test_tell_refuses_what_it_cannot_do(self):
        self.ask()
        self.ask()
        self.assertEqual(self.tell("--trial-number", "0", "--values", "1.5").returncode, 0)
        cases = [
            (["--trial-number", "0", "--values", "1"],
             "trial 0 is COMPLETE: only a RUNNING trial can be told (--skip-if-finished leaves a finished "
             "one as it is)"),
            (["--trial-number", "9", "--values", "1"], "study 'quad' has no trial 9 (2 trials: 0 to 1)"),
            (["--trial-number", "1", "--values", "1", "2"],
             "--values: study 'quad' has 1 objective, but 2 values were given"),
            (["--trial-number", "1", "--values", "nan"], "--values: NaN is not a value (tell it with --state fail)"),
            (["--trial-number", "1", "--state", "pruned", "--values", "3"],
             "--values: a pruned trial takes no values (as Optuna's tell); leave them out"),
            (["--trial-number", "1"], "--values: study 'quad' has 1 objective, but 0 values were given"),
            (["--trial-number", "1", "--study", "quadd", "--values", "1"], "no study named 'quadd'"),
            (["--trial-number", "1", "--values", "0x10"], "--values: '0x10' is not a number"),
            (["--trial-number", "1", "--values", *map(str, range(17))],
             "--values: study 'quad' has 1 objective, but 17 values were given"),
            (["--trial-number", "-1", "--values", "1"], "--trial-number"),
            (["--trial-number", "1", "--state", "done"], "--state"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                proc = self.tell(*args)
                usage = message.startswith("--")  # A mistake on the command line: exit 2.
                self.assertEqual(proc.returncode, 2 if usage else 1, proc.stderr)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
                self.assertIn(message, proc.stderr)
        skipped = self.tell("--trial-number", "0", "--values", "9", "--skip-if-finished")
        self.assertEqual(skipped.returncode, 0, skipped.stderr)
        self.assertIn("trial 0 is already COMPLETE: left as it is", skipped.stdout)
        missing = run_bounded("tell", os.path.join(self.dir, "nope.db"), "--trial-number", "0", "--values", "1")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("nope.db: no such file", missing.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "nope.db")))
        empty = os.path.join(self.dir, "empty.db")
        open(empty, "w").close()
        proc = run_bounded("tell", empty, "--trial-number", "0", "--values", "1")
        self.assertIn("empty.db: empty database (no Optuna study schema)", proc.stderr)
        self.assertEqual(os.path.getsize(empty), 0)  # Not made a study database.
        spaced = self.tell("--trial-number", "1", "--values", " 1e400 ")  # As Python's float().
        self.assertEqual(spaced.returncode, 0, spaced.stderr)
        self.assertEqual(spaced.stdout, "trial 1 is COMPLETE with values [inf]\n")
        trials = trials_json(self.db)
        self.assertEqual([t["state"] for t in trials], ["COMPLETE", "COMPLETE"])
        self.assertEqual([t["value"] for t in trials], [1.5, float("inf")])

    def test_two_tells_at_once_with_skip_if_finished_both_succeed(self):
        """A script retrying its tell (a SLURM array) with --skip-if-finished: of two tells of one
        trial at the same moment, one writes and the other finds it finished, exit 0 both (the
        one that lost the race between its read and its write exited 1)."""
        for _ in range(12):
            number = self.ask()["number"]
            args = ["tell", self.db, "--trial-number", str(number), "--values", "1",
                    "--skip-if-finished"]
            procs = [subprocess.Popen(["timeout", "-k", "5", "60", HPT, *args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
            for p in procs:
                out, err = p.communicate(timeout=90)
                self.assertEqual(p.returncode, 0, out + err)
        self.assertEqual(state_counts(trials_json(self.db)), {"COMPLETE": 12})

    def test_tell_stores_constraints_as_optunas_constraints_func(self):
        """--constraints: stored with the state in one write (the system attribute `constraints`,
        as Optuna's constraints_func), for COMPLETE and PRUNED trials; the best trial is a feasible
        one; negative values after the first (-inf, -.5) are read as values, not options."""
        for _ in range(3):
            self.ask()
        told = self.tell("--trial-number", "0", "--values", "0.1", "--constraints", "1", "-inf")
        self.assertEqual(told.returncode, 0, told.stderr)
        self.assertEqual(told.stdout, "trial 0 is COMPLETE with values [0.1] and constraints [1, -inf] (infeasible)\n")
        told = self.tell("--trial-number", "1", "--values", "0.5", "--constraints", "-0.5", "-.5")
        self.assertEqual(told.stdout, "trial 1 is COMPLETE with values [0.5] and constraints [-0.5, -0.5] (feasible)\n")
        told = self.tell("--trial-number", "2", "--state", "pruned", "--constraints", "0", "-0.5")
        self.assertEqual(told.stdout, "trial 2 is PRUNED with constraints [0, -0.5] (feasible)\n")
        trials = trials_json(self.db)
        self.assertEqual([t.get("constraints") for t in trials], [[1, float("-inf")], [-0.5, -0.5], [0, -0.5]])
        best = run_bounded("best", self.db)
        self.assertEqual(best.returncode, 0, best.stderr)
        self.assertIn("best trial 1 value=0.5", best.stdout)
        if HAVE_OPTUNA:
            loaded = optuna.load_study(study_name="quad", storage=f"sqlite:///{self.db}")
            self.assertEqual([t.system_attrs.get("constraints") for t in loaded.trials],
                             [[1.0, float("-inf")], [-0.5, -0.5], [0.0, -0.5]])

    def test_tell_refuses_bad_constraints_and_writes_nothing(self):
        self.ask()
        self.ask()
        told = self.tell("--trial-number", "1", "--values", "1", "--constraints", "-1", "2")
        self.assertEqual(told.returncode, 0, told.stderr)
        cases = [
            (["--values", "1", "--constraints", "1"],
             "--constraints: 1 constraint value, but trial 1 of the study reported 2: each trial reports "
             "the same constraints"),
            (["--state", "fail", "--constraints", "1"],
             "--constraints: a failed trial keeps no constraints (as Optuna's); leave them out"),
            (["--values", "1", "--constraints", "-1", "nan"],
             "--constraints: NaN is no constraint value (each is <= 0 when met)"),
            (["--values", "1", "--constraints", "small"], "--constraints: 'small' is not a number"),
            (["--values", "1", "--constraints"], "--constraints"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                proc = self.tell("--trial-number", "0", *args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
                self.assertIn(message, proc.stderr)
        trial = trials_json(self.db)[0]
        self.assertEqual(trial["state"], "RUNNING")
        self.assertNotIn("constraints", trial)

    def test_ask_refuses_a_bad_config_and_writes_nothing(self):
        cfg = write_config(self.dir, f"""\
            study: {{name: quad, storage: {self.db}, sampler: {{type: tpee}}}}
            objective: {{command: [{PYTHON}, {QUADRATIC_PY}]}}
            search_space: {{x: {{type: float, low: 0, high: 1}}}}
            """, name="bad.yaml")
        proc = run_bounded("ask", "--config", cfg)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("bad.yaml:1: study.sampler: unknown sampler type 'tpee' (did you mean 'tpe'?)", proc.stderr)
        self.assertFalse(os.path.exists(self.db))
        self.assertNotEqual(run_bounded("ask").returncode, 0)

    def test_tell_refuses_a_trial_an_hpt_run_is_running(self):
        """Its worker reports that trial's result: a tell would race it."""
        objective = private_objective(self.dir)
        cfg = quadratic_config(self.dir, objective_path=objective)
        run = subprocess.Popen(["timeout", "-k", "5", "60", HPT, "--config", cfg, "--trials", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OBJ_SLEEP="2"))
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                trials = trials_json(self.db) if os.path.exists(self.db) else []
                if trials and trials[0]["state"] == "RUNNING":
                    break
                time.sleep(0.2)
            proc = self.tell("--trial-number", "0", "--values", "1")
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn("trial 0 is being run by hpt (process", proc.stderr)
            # Its owner on another host (or container): judged by its fresh heartbeat.
            con = sqlite3.connect(self.db)
            con.execute("UPDATE trial_system_attributes SET value_json = "
                        "json_set(value_json, '$.host', 'elsewhere') WHERE key = 'hpt:owner'")
            con.commit()
            con.close()
            proc = self.tell("--trial-number", "0", "--values", "1")
            self.assertIn("trial 0 is being run by hpt (process", proc.stderr)
            self.assertIn("on elsewhere, last heartbeat", proc.stderr)
        finally:
            run.send_signal(signal.SIGINT)
            run.communicate(timeout=30)

    def test_an_ask_whose_output_is_lost_hands_its_trial_back(self):
        """Printed nowhere (a full disk), the trial's number would be lost: it is WAITING again, and
        the next ask takes it."""
        with open("/dev/full", "w") as full:
            proc = subprocess.run(["timeout", "-k", "5", "60", HPT, "ask", "--config", self.cfg],
                                  stdout=full, stderr=subprocess.PIPE, text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot write trial 0 to the output", proc.stderr)
        self.assertIn("trial 0 is WAITING again", proc.stderr)
        self.assertEqual(trials_json(self.db)[0]["state"], "WAITING")
        self.assertEqual(self.ask()["number"], 0)

    def signalled_asks(self, sig, count):
        """count asks, each sent sig at a moment across a whole ask as this machine runs it now
        (timed in a study of its own, the slower of two), from a fifth of it to nearly twice it:
        a slow or loaded machine shifts them instead of hitting every ask before its study is
        made. Returns the numbers of the trials they printed."""
        probe = os.path.join(self.dir, "probe")
        os.makedirs(probe, exist_ok=True)
        probe_cfg = quadratic_config(probe, seed=3)
        whole = 0.0
        for _ in range(2):
            start = time.monotonic()
            self.assertEqual(run_bounded("ask", "--config", probe_cfg).returncode, 0)
            whole = max(whole, time.monotonic() - start)
        printed = set()
        for i in range(count):
            proc = subprocess.run(["timeout", "-k", "5", "-s", sig, f"{whole * (0.2 + 1.8 * i / count):.3f}",
                                   HPT, "ask", "--config", self.cfg], capture_output=True, text=True)
            for line in proc.stdout.splitlines():
                printed.add(json.loads(line)["number"])
        self.assertTrue(printed, "no ask got as far as its trial: the signals test nothing")
        return printed

    def test_interrupted_asks_leave_no_trial_half_made(self):
        """Ctrl-C at any moment of an ask: a trial is either not made, or whole and printed."""
        printed = self.signalled_asks("INT", 20)
        trials = trials_json(self.db) if os.path.exists(self.db) else []
        running = {t["number"] for t in trials if t["state"] == "RUNNING"}
        self.assertEqual(running, printed)
        for t in trials:
            if t["state"] == "RUNNING":
                self.assertEqual(set(t["params"]), {"x", "y", "kind"})

    def test_a_trial_a_killed_ask_left_is_taken_by_the_next(self):
        """kill -9 at any moment of an ask: a trial it claimed but did not print (some or none of
        its parameters written) belongs to its dead process, so the next asks take it, whole,
        before they make new trials. Such a trial was left RUNNING with no owner for good: no
        ask took it, and a run waited for it."""
        printed = self.signalled_asks("KILL", 16)
        trials = trials_json(self.db)
        left = {t["number"] for t in trials if t["state"] == "RUNNING"} - printed
        taken = {self.ask()["number"] for _ in left}
        self.assertEqual(taken, left)
        trials = trials_json(self.db)
        self.assertEqual({t["number"] for t in trials if t["state"] == "RUNNING"}, printed | left)
        for t in trials:
            if t["state"] == "RUNNING":
                self.assertEqual(set(t["params"]), {"x", "y", "kind"})
        self.assertNotIn(max(t["number"] for t in trials) + 1, taken)

    def test_ctrl_c_while_the_database_is_locked_asks_and_copies_nothing(self):
        """Ctrl-C while ask or copy-study waits for another process's lock: once the lock goes,
        nothing is asked, said in one line, and the copy says whether it landed; exit 130 (both
        died by the signal without a word, and a copy could land unsaid)."""
        self.ask()
        folder = os.path.join(self.dir, "other")
        os.makedirs(folder)
        other = os.path.join(folder, "other.db")
        self.assertEqual(run_bounded("ask", "--config", quadratic_config(folder, db="other.db"),
                                     "--study", "other").returncode, 0)
        holders = [sqlite3.connect(path, timeout=0) for path in (self.db, other)]
        for holder in holders:
            holder.execute("BEGIN EXCLUSIVE")
        try:
            procs = [subprocess.Popen(["timeout", "-k", "5", "60", HPT, *args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                     for args in (["ask", "--config", self.cfg],
                                  ["copy-study", self.db, other, "--study", "quad"])]
            time.sleep(1.5)
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            time.sleep(0.5)
        finally:
            for holder in holders:
                holder.rollback()
                holder.close()
        results = [proc.communicate(timeout=60) for proc in procs]
        (ask_out, ask_err), (copy_out, copy_err) = results
        self.assertEqual(procs[0].returncode, 130, ask_err)
        self.assertEqual(ask_out, "")
        self.assertEqual(ask_err.strip(), "hpt: stopped by a signal; no trial was asked")
        self.assertEqual(len(trials_json(self.db)), 1)
        # The copy, waiting inside its write when the signal came, lands once the lock goes: it
        # says so (or, stopped before its write, that it did not), and exits 130 either way.
        self.assertEqual(procs[1].returncode, 130, copy_err)
        copied = '"quad"' in run_bounded("studies", other, "--format", "json").stdout
        if copied:
            self.assertIn("copied study 'quad' and its 1 trial", copy_out)
        else:
            self.assertEqual(copy_err.strip(), "hpt: stopped by a signal; study 'quad' was not copied")

    def test_ctrl_c_during_a_tell_says_it_was_not_told(self):
        """Ctrl-C while tell waits for a locked database: the trial stays RUNNING and hpt says
        so, exit 130 (a second Ctrl-C gives up the wait); it used to end silently."""
        number = self.ask()["number"]
        lock = sqlite3.connect(self.db, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # A writer holds the database: the tell waits.
        proc = subprocess.Popen([HPT, "tell", self.db, "--trial-number", str(number), "--values", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        time.sleep(1.5)
        for _ in range(2):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
        out, err = proc.communicate(timeout=30)
        lock.execute("ROLLBACK")
        lock.close()
        self.assertEqual(proc.returncode, 130, err)
        self.assertEqual(err, f"hpt: stopped by a signal; trial {number} was not told\n")
        self.assertEqual(out, "")
        self.assertEqual(trials_json(self.db)[number]["state"], "RUNNING")
        proc = self.tell("--trial-number", str(number), "--values", "1")
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_an_exhausted_grid_asks_nothing(self):
        cfg = write_config(self.dir, f"""\
            study: {{name: g, storage: {self.db}, sampler: {{type: grid}}, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {QUADRATIC_PY}]}}
            search_space: {{kind: [a, b]}}
            """, name="grid.yaml")
        for _ in range(2):
            trial = json.loads(run_bounded("ask", "--config", cfg).stdout)
            self.tell("--trial-number", str(trial["number"]), "--values", "1").check_returncode()
        proc = run_bounded("ask", "--config", cfg)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("every point of the grid of study 'g' has a trial: nothing to ask", proc.stderr)
        self.assertEqual(len(trials_json(self.db)), 2)

    def test_two_objectives(self):
        cfg = write_config(self.dir, f"""\
            study: {{name: mo, directions: [minimize, maximize], storage: {self.db}, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {QUADRATIC_PY}]}}
            search_space: {{x: {{type: float, low: 0, high: 1}}}}
            """, name="mo.yaml")
        trial = json.loads(run_bounded("ask", "--config", cfg).stdout)
        proc = self.tell("--trial-number", str(trial["number"]), "--values", "0.25", "3")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "trial 0 is COMPLETE with values [0.25, 3]\n")
        self.assertEqual(trials_json(self.db)[0]["values"], [0.25, 3])
        # A second value that reads like an option (-inf, -.5) is a value.
        trial = json.loads(run_bounded("ask", "--config", cfg).stdout)
        proc = self.tell("--trial-number", str(trial["number"]), "--values", "-.5", "-inf")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "trial 1 is COMPLETE with values [-0.5, -inf]\n")


@unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
class AskTellOptunaTest(TempDirTest):
    def test_hpt_tells_optunas_asked_trial_and_optuna_tells_hpts(self):
        db = os.path.join(self.dir, "study.db")
        cfg = quadratic_config(self.dir)
        hpt_trial = json.loads(run_bounded("ask", "--config", cfg).stdout)
        code = f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
t = s.ask()
t.suggest_float("x", -3, 3)
print(t.number)
s.tell({hpt_trial['number']}, 0.75)
"""
        proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        optuna_number = int(proc.stdout.strip())
        # As Optuna's own CLI spells it: `optuna tell --storage URL --study-name S ...`.
        told = run_bounded("tell", "--storage", f"sqlite:///{db}", "--study-name", "quad",
                           "--trial-number", str(optuna_number), "--values", "0.5", "--state", "complete")
        self.assertEqual(told.returncode, 0, told.stderr)
        check = subprocess.run([PYTHON, "-c", f"""
import optuna
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
print([(t.number, t.state.name, t.value) for t in s.trials])
"""], capture_output=True, text=True, timeout=120)
        self.assertEqual(check.stdout.strip(), "[(0, 'COMPLETE', 0.75), (1, 'COMPLETE', 0.5)]", check.stderr)

    def test_a_pruned_trial_takes_its_last_steps_value(self):
        """As Optuna's tell(state=PRUNED): the value reported at the largest step (here by Optuna)."""
        db = os.path.join(self.dir, "study.db")
        cfg = quadratic_config(self.dir)
        run_bounded("ask", "--config", cfg).check_returncode()
        proc = subprocess.run([PYTHON, "-c", f"""
import optuna
s = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
t = s.ask()
t.report(0.9, 1)
t.report(0.4, 5)
t.report(0.7, 3)
print(t.number)
"""], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        pruned = run_bounded("tell", db, "--trial-number", proc.stdout.strip(), "--state", "pruned")
        self.assertEqual(pruned.returncode, 0, pruned.stderr)
        self.assertEqual(pruned.stdout, "trial 1 is PRUNED with values [0.4]\n")
        no_steps = run_bounded("tell", db, "--trial-number", "0", "--state", "pruned")
        self.assertEqual(no_steps.stdout, "trial 0 is PRUNED\n")
        trials = trials_json(db)
        self.assertEqual([(t["state"], t["value"]) for t in trials], [("PRUNED", None), ("PRUNED", 0.4)])


if __name__ == "__main__":
    unittest.main()
