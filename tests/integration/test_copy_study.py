"""hpt copy-study: a study copied whole into another database (or the same one, renamed), read by
hpt and Optuna as the original, resumed from where it was; bad input changes nothing."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

from hpt_harness import (HPT, PYTHON, TempDirTest, file_digest, quadratic_config, run_hpt, state_counts,
                         trials_json)

try:
    import optuna  # noqa: F401  (Debian's python3-optuna)
    HAVE_OPTUNA = True
except ImportError:
    HAVE_OPTUNA = False

# What a copy keeps of each trial, as `hpt trials --format json` shows it.
KEPT = ("number", "state", "value", "values", "params", "intermediate_values", "user_attrs", "datetime_start",
        "datetime_complete")


def kept(trials):
    return [{k: t.get(k) for k in KEPT} for t in trials]


class CopyStudyTest(TempDirTest):
    def _study(self, trials=6):
        cfg = quadratic_config(self.dir, pruner="median")
        run_hpt("--config", cfg, "--trials", str(trials), check=True)
        return cfg, f"{self.dir}/study.db"

    def test_a_copy_reads_as_the_original_and_resumes(self):
        """Every trial copied with its number, values, steps and attributes; the copy's run goes on from
        there while the source stays as it was."""
        cfg, db = self._study()
        before = file_digest(db)
        copy = f"{self.dir}/copy.db"
        out = run_hpt("copy-study", db, copy, check=True)
        self.assertIn(f"copied study 'quad' and its 6 trials from {db} to {copy}", out.stdout)
        self.assertIn(f"the copied trials' logs stay in {self.dir}/study_trials/quad", out.stdout)
        self.assertEqual(kept(trials_json(copy)), kept(trials_json(db)))
        self.assertEqual(file_digest(db), before)  # The source was only read.
        # The copy resumes: two more trials, numbered after the copied ones, its own trials folder.
        resumed = run_hpt("--config", cfg, "--storage", copy, "--trials", "8", check=True)
        self.assertNotIn("error", resumed.stderr)
        numbers = [t["number"] for t in trials_json(copy)]
        self.assertEqual(numbers, list(range(8)))
        self.assertTrue(os.path.isfile(f"{self.dir}/copy_trials/quad/7.log"))
        self.assertEqual(len(trials_json(db)), 6)
        # hpt report of the copy shows the copied trials' logs from the source's folder.
        report = run_hpt("report", copy, "-o", f"{self.dir}/copy.html", check=True)
        self.assertEqual(report.returncode, 0)

    def test_into_the_same_database_under_another_name(self):
        cfg, db = self._study(trials=3)
        out = run_hpt("copy-study", db, db, "--to-study", "quad-2", check=True)
        self.assertIn("as 'quad-2'", out.stdout)
        self.assertEqual(kept(trials_json(db, "quad-2")), kept(trials_json(db, "quad")))
        # The copy has a study key of its own: a run of it makes its own trials folder.
        run_hpt("--config", cfg, "--study", "quad-2", "--trials", "4", check=True)
        self.assertTrue(os.path.isfile(f"{self.dir}/study_trials/quad-2/3.log"))
        self.assertEqual(len(trials_json(db, "quad")), 3)

    def test_a_running_trial_is_run_again_by_the_copy(self):
        """A study copied while a trial was RUNNING (its run killed): the copy holds it WAITING, with its
        parameters, and the copy's next run runs it again under its own number."""
        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "2", check=True)
        env = dict(os.environ, OBJ_SLEEP="30")
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "3"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and "RUNNING" not in state_counts(trials_json(db)):
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        source = trials_json(db)
        self.assertEqual(source[2]["state"], "RUNNING")
        copy = f"{self.dir}/copy.db"
        out = run_hpt("copy-study", db, copy, check=True)
        self.assertIn("1 trial RUNNING in the source is WAITING in the copy, to run again when it resumes",
                      out.stdout)
        copied = trials_json(copy)
        self.assertEqual(copied[2]["state"], "WAITING")
        self.assertEqual(copied[2]["params"], source[2]["params"])
        self.assertIsNone(copied[2]["datetime_start"])
        run_hpt("--config", cfg, "--storage", copy, "--trials", "3", check=True, timeout=120)
        resumed = trials_json(copy)
        self.assertEqual(state_counts(resumed), {"COMPLETE": 3})
        self.assertEqual(resumed[2]["params"], source[2]["params"])
        self.assertEqual(trials_json(db)[2]["state"], "RUNNING")  # The source is left as it was.

    def test_bad_input_changes_nothing(self):
        """Each refusal is one line naming the problem, exit non-zero, and no database is made or
        changed."""
        cfg, db = self._study(trials=2)
        copy = f"{self.dir}/copy.db"
        run_hpt("copy-study", db, copy, check=True)
        digest = file_digest(copy)
        cases = [
            (["copy-study", db, copy], 1, "a study named 'quad' already exists there (give --to-study NAME"),
            (["copy-study", f"{self.dir}/nope.db", f"{self.dir}/new.db"], 1, "nope.db: no such file"),
            (["copy-study", db, f"{self.dir}/new.db", "--study", "qaud"], 1, "qaud"),
            (["copy-study", db, cfg, "--to-study", "other"], 1, "hpt_config.yaml"),
            (["copy-study", db, f"{self.dir}/missing/new.db"], 1, "missing"),
            (["copy-study", db, f"{self.dir}/new.db", "--to-study", "x" * 513], 2,
             "hpt: error: --to-study: is 513 characters long; at most 512"),
            (["copy-study", db, f"{db}-wal", "--to-study", "other"], 1, "the SQLite -wal file of"),
            (["copy-study", db, f"{self.dir}/dangling.db", "--to-study", "other"], 1,
             "a symbolic link to a missing file"),
            (["copy-study", db], 2, "TO is required"),
        ]
        config_digest = file_digest(cfg)
        os.symlink(f"{self.dir}/nowhere/x.db", f"{self.dir}/dangling.db")
        for args, code, message in cases:
            with self.subTest(args=args[1:]):
                proc = run_hpt(*args, timeout=60)
                self.assertEqual(proc.returncode, code, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertEqual(file_digest(copy), digest)
        self.assertEqual(file_digest(cfg), config_digest)
        self.assertFalse(os.path.exists(f"{self.dir}/new.db"))
        self.assertFalse(os.path.exists(f"{self.dir}/missing"))
        self.assertFalse(os.path.exists(f"{self.dir}/nowhere"))
        self.assertEqual([n for n in os.listdir(self.dir) if "hpt-copy" in n], [])

    def test_copies_racing_into_one_new_file_both_land(self):
        """Two copies into the same new file at once: one makes it, the other copies into what the first
        made; neither removes the other's database (a failed copy used to delete the file it thought it
        had made)."""
        _, db = self._study(trials=2)
        for attempt in range(4):
            target = f"{self.dir}/race{attempt}.db"
            procs = [subprocess.Popen(["timeout", "-k", "5", "60", HPT, "copy-study", db, target, "--to-study", name],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for name in ("a", "b")]
            results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
            for out, err, code in results:
                self.assertEqual(code, 0, err)
            studies = sorted(s["name"] for s in json.loads(run_hpt("studies", target, "--format", "json",
                                                                   check=True).stdout))
            self.assertEqual(studies, ["a", "b"])
        # The same name twice at once: one copy lands, the other is refused and removes nothing.
        for attempt in range(4):
            target = f"{self.dir}/same{attempt}.db"
            procs = [subprocess.Popen(["timeout", "-k", "5", "60", HPT, "copy-study", db, target], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
            codes = sorted(p.wait(timeout=60) for p in procs)
            for p in procs:
                p.communicate()
            self.assertEqual(codes, [0, 1])
            self.assertEqual(len(trials_json(target)), 2)
        self.assertEqual([n for n in os.listdir(self.dir) if "hpt-copy" in n], [])

    def test_a_failed_copy_leaves_no_new_database(self):
        """A study hpt cannot copy (a NOT_SET direction, written by another tool): nothing is made."""
        _, db = self._study(trials=2)
        con = sqlite3.connect(db)
        con.execute("UPDATE study_directions SET direction = 'NOT_SET'")
        con.commit()
        con.close()
        proc = run_hpt("copy-study", db, f"{self.dir}/new.db", timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("NOT_SET", proc.stderr)
        self.assertEqual([n for n in os.listdir(self.dir) if n.startswith("new.db")], [])

    def test_rows_hpt_cannot_read_are_refused_not_changed(self):
        """A source row hpt reads only in part (another tool's unknown state, unreadable attribute JSON, a
        number beyond 32 bits, a date it cannot parse, a NULL value): the copy would change it, so it is
        refused naming the trial, and nothing is made."""
        _, db = self._study(trials=3)
        changes = [
            ("UPDATE trials SET state = 'WEIRD' WHERE number = 1", "trial 1: unknown trial state"),
            ("UPDATE trial_user_attributes SET value_json = '{oops' WHERE trial_id = "
             "(SELECT trial_id FROM trials WHERE number = 2)", "trial 2: user attribute trial"),
            ("UPDATE trials SET number = 5000000000 WHERE number = 0", "trial -1: trial number 5000000000"),
            ("UPDATE trials SET datetime_start = 'yesterday' WHERE number = 1", "trial 1: datetime_start"),
            ("UPDATE trial_values SET value = NULL WHERE trial_id = (SELECT trial_id FROM trials WHERE "
             "number = 2)", "trial 2: value of objective 0"),
        ]
        for sql, message in changes:
            with self.subTest(sql=sql):
                source = f"{self.dir}/hostile.db"
                shutil.copyfile(db, source)
                con = sqlite3.connect(source)
                con.execute(sql)
                con.commit()
                con.close()
                proc = run_hpt("copy-study", source, f"{self.dir}/new.db", timeout=60)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("as it is: 1 of its trials holds rows hpt cannot read", proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/new.db"))
                os.remove(source)

    @unittest.skipUnless(HAVE_OPTUNA, "python3-optuna not installed")
    def test_optuna_reads_the_copy_as_the_original(self):
        """Optuna 3.1 loads the copy: the same trials, params, distributions, values, steps and attributes
        as the original, and the same best trial."""
        _, db = self._study()
        copy = f"{self.dir}/copy.db"
        run_hpt("copy-study", db, copy, "--to-study", "quad-copy", check=True)
        proc = subprocess.run([PYTHON, "-c", f"""
import optuna
a = optuna.load_study(study_name="quad", storage="sqlite:///{db}")
b = optuna.load_study(study_name="quad-copy", storage="sqlite:///{copy}")
assert b.directions == a.directions
assert len(b.trials) == len(a.trials) == 6
for s, t in zip(a.trials, b.trials):
    assert (t.number, t.state, t.values, t.params, t.distributions, t.intermediate_values, t.user_attrs,
            t.datetime_start, t.datetime_complete) == (s.number, s.state, s.values, s.params, s.distributions,
            s.intermediate_values, s.user_attrs, s.datetime_start, s.datetime_complete), (s, t)
assert b.best_trial.number == a.best_trial.number
assert b.user_attrs == a.user_attrs
b.optimize(lambda trial: trial.suggest_float("x", -3, 3) ** 2, n_trials=1)
assert len(b.trials) == 7 and b.trials[-1].number == 6
"""], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
