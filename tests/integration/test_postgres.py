"""Multi-host studies on PostgreSQL: several hpt orchestrators share one study.

Needs HPT_TEST_POSTGRES_URL (eval "$(scripts/start-postgres.sh)") and python3-psycopg2;
skipped otherwise. Each test gets its own database, dropped afterwards.
"""
import os
import shutil
import socket
import subprocess
import time
import unittest
import urllib.parse
import uuid

from hpt_harness import HERE, HPT, PYTHON, TempDirTest, quadratic_config, state_counts

BASE_URL = os.environ.get("HPT_TEST_POSTGRES_URL", "")
try:
    import psycopg2
except ImportError:  # pragma: no cover
    psycopg2 = None


def admin(sql):
    con = psycopg2.connect(BASE_URL)
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


@unittest.skipUnless(BASE_URL, "HPT_TEST_POSTGRES_URL is not set (scripts/start-postgres.sh)")
@unittest.skipUnless(psycopg2, "python3-psycopg2 is not installed")
class PostgresStudyTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.db = "hpt_it_" + uuid.uuid4().hex[:12]
        admin(f"CREATE DATABASE {self.db}")
        self.url = BASE_URL.rsplit("/", 1)[0] + "/" + self.db

    def tearDown(self):
        admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        super().tearDown()

    def _hpt(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        # cwd: the per-trial log folders are made next to the "database" path.
        return subprocess.Popen([HPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=full_env, cwd=self.dir)

    def _trials(self):
        con = psycopg2.connect(self.url)
        try:
            cur = con.cursor()
            cur.execute("SELECT number, state::text FROM trials ORDER BY number")
            return [{"number": n, "state": s} for n, s in cur.fetchall()]
        except psycopg2.errors.UndefinedTable:
            return []  # hpt has not created the schema yet.
        finally:
            con.close()

    def test_delete_study_on_a_server_hides_the_password(self):
        """hpt delete-study on a PostgreSQL study: deleted, and the URL's password never shown."""
        study = self._hpt("--config", quadratic_config(self.dir), "--trials", "2", "--storage", self.url)
        _, err = study.communicate(timeout=120)
        self.assertEqual(study.returncode, 0, err)
        password = urllib.parse.urlsplit(self.url).password
        delete = self._hpt("delete-study", self.url, "--study", "quad")
        out, err = delete.communicate(timeout=60)
        self.assertEqual(delete.returncode, 0, err)
        self.assertIn("deleted study 'quad' and its 2 trials from", out)
        if password:  # The URL is shown as user:***@host.
            self.assertNotIn(f":{password}@", out + err)
            self.assertIn(":***@", out)
        self.assertEqual(self._trials(), [])

    def test_copy_study_to_a_server_and_back(self):
        """A SQLite study copied onto the server and back again reads as the original (hpt copy-study), the
        server's password never shown; the server copy resumes."""
        from test_copy_study import kept
        from hpt_harness import trials_json
        cfg = quadratic_config(self.dir, pruner="median")
        db = f"{self.dir}/study.db"
        first = self._hpt("--config", cfg, "--trials", "4")
        _, err = first.communicate(timeout=120)
        self.assertEqual(first.returncode, 0, err)
        up = self._hpt("copy-study", db, self.url)
        out, err = up.communicate(timeout=60)
        self.assertEqual(up.returncode, 0, err)
        self.assertIn("copied study 'quad' and its 4 trials", out)
        password = urllib.parse.urlsplit(self.url).password
        if password:
            self.assertNotIn(f":{password}@", out + err)
        back = self._hpt("copy-study", self.url, f"{self.dir}/back.db")
        _, err = back.communicate(timeout=60)
        self.assertEqual(back.returncode, 0, err)
        self.assertEqual(kept(trials_json(f"{self.dir}/back.db")), kept(trials_json(db)))
        resumed = self._hpt("--config", cfg, "--storage", self.url, "--trials", "6")
        _, err = resumed.communicate(timeout=120)
        self.assertEqual(resumed.returncode, 0, err)
        self.assertEqual([t["number"] for t in self._trials()], list(range(6)))

    def test_three_orchestrators_one_killed(self):
        """Three hpt at once, one kill -9'd midway: the rest and a re-run finish exactly N, no duplicates."""
        n = 24
        cfg = quadratic_config(self.dir, jobs=2)
        args = ["--config", cfg, "--trials", str(n), "--storage", self.url]
        procs = [self._hpt(*args, env={"OBJ_SLEEP": "0.2"}) for _ in range(3)]
        self.addCleanup(lambda: [p.kill() or p.communicate() for p in procs if p.poll() is None])
        deadline = time.time() + 60
        while time.time() < deadline and state_counts(self._trials()).get("COMPLETE", 0) < n // 3:
            time.sleep(0.1)
        procs[0].kill()
        procs[0].communicate()
        at_kill = state_counts(self._trials())
        self.assertLess(at_kill.get("COMPLETE", 0), n, "killed too late to matter")
        self.assertGreater(at_kill.get("RUNNING", 0), 0)
        for p in procs[1:]:
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, out + err)
        rerun = self._hpt(*args)
        out, err = rerun.communicate(timeout=300)
        self.assertEqual(rerun.returncode, 0, out + err)
        trials = self._trials()
        counts = state_counts(trials)
        self.assertEqual(counts.get("COMPLETE", 0), n, counts)
        self.assertNotIn("RUNNING", counts)
        numbers = [t["number"] for t in trials]
        self.assertEqual(numbers, list(range(len(numbers))))  # Unique, no gaps.
        # hpt reads it back, and Optuna (psycopg2) loads the same study.
        listed = subprocess.run([HPT, "trials", self.url, "--format", "json"], capture_output=True, text=True,
                                cwd=self.dir)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        check = subprocess.run([PYTHON, "-c", f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.load_study(study_name="quad", storage="{self.url}")
done = [t for t in s.get_trials() if t.state.name == "COMPLETE"]
assert len(done) == {n}, len(done)
assert set(done[0].params) == {{"x", "y", "kind"}}, done[0].params
print("best", s.best_value)
"""], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_a_database_defaulting_to_repeatable_read_numbers_each_trial_once(self):
        """Two hpt at once on a database whose transactions default to REPEATABLE READ (and a
        role's statement_timeout of 200 ms): every trial number once, exactly N. The snapshot
        used to predate the study lock: 10 numbers in 40 were handed out twice, and the timeout
        cut the lock waits short."""
        admin(f"ALTER DATABASE {self.db} SET default_transaction_isolation = 'repeatable read'")
        admin(f"ALTER DATABASE {self.db} SET statement_timeout = '200ms'")
        n = 30
        cfg = quadratic_config(self.dir, jobs=2)
        args = ["--config", cfg, "--trials", str(n), "--storage", self.url]
        procs = [self._hpt(*args) for _ in range(2)]
        self.addCleanup(lambda: [p.kill() or p.communicate() for p in procs if p.poll() is None])
        for p in procs:
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, out + err)
        trials = self._trials()
        self.assertEqual(state_counts(trials), {"COMPLETE": n})
        numbers = [t["number"] for t in trials]
        self.assertEqual(numbers, list(range(n)))

    def test_optuna_and_hpt_on_one_study_never_share_a_number(self):
        """An Optuna process and hpt adding trials to one study at once: every number once, each
        value on its own trial (hpt took only its advisory lock, Optuna the study row: both gave
        out the same numbers, and Optuna finished hpt's rows)."""
        made = subprocess.run([PYTHON, "-c", f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
optuna.create_study(study_name="quad", storage="{self.url}", direction="minimize")
"""], capture_output=True, text=True)
        self.assertEqual(made.returncode, 0, made.stderr)
        cfg = quadratic_config(self.dir, jobs=2)
        hpt = self._hpt("--config", cfg, "--trials", "50", "--storage", self.url, env={"OBJ_STEPS": "0"})
        self.addCleanup(lambda: hpt.poll() is None and (hpt.kill() or hpt.communicate()))
        optuna_run = subprocess.run([PYTHON, "-c", f"""
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
s = optuna.load_study(study_name="quad", storage="{self.url}")
s.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2 + 1000, n_trials=40)
"""], capture_output=True, text=True, timeout=300)
        self.assertEqual(optuna_run.returncode, 0, optuna_run.stderr)
        out, err = hpt.communicate(timeout=300)
        self.assertEqual(hpt.returncode, 0, out + err)
        self.assertNotIn("taken over", out + err)
        trials = self._trials()
        numbers = [t["number"] for t in trials]
        self.assertEqual(numbers, list(range(len(numbers))))  # Unique, no gaps.
        self.assertNotIn("RUNNING", state_counts(trials))
        con = psycopg2.connect(self.url)
        try:  # Optuna's trials have only x and values above 1000; hpt's have kind and below.
            cur = con.cursor()
            cur.execute("SELECT t.number, v.value, (SELECT COUNT(*) FROM trial_params p WHERE "
                        "p.trial_id = t.trial_id) FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id")
            for number, value, n_params in cur.fetchall():
                self.assertEqual(value >= 1000, n_params == 1, f"trial {number}: {value}, {n_params} params")
        finally:
            con.close()

    def test_ctrl_c_while_another_session_holds_the_study_lock(self):
        """A host frozen mid-claim (here a session holding hpt's study lock): hpt waits, and two
        Ctrl-C end it at once (it waited in the server, deaf to every signal)."""
        cfg = quadratic_config(self.dir)
        first = self._hpt("--config", cfg, "--trials", "1", "--storage", self.url)
        out, err = first.communicate(timeout=120)
        self.assertEqual(first.returncode, 0, out + err)
        con = psycopg2.connect(self.url)
        con.autocommit = True
        try:
            cur = con.cursor()
            cur.execute("SELECT study_id FROM studies")
            study_id = cur.fetchone()[0]
            cur.execute("SELECT pg_advisory_lock(%s, %s)", (0x687074, study_id))
            proc = self._hpt("--config", cfg, "--trials", "3", "--storage", self.url)
            self.addCleanup(lambda: proc.poll() is None and (proc.kill() or proc.communicate()))
            time.sleep(4)
            self.assertIsNone(proc.poll(), "it did not wait for the lock")
            proc.send_signal(2)
            time.sleep(0.5)
            proc.send_signal(2)
            start = time.time()
            out, err = proc.communicate(timeout=30)
            self.assertLess(time.time() - start, 8)
            self.assertEqual(proc.returncode, 130, out + err)
        finally:
            con.close()
        rerun = self._hpt("--config", cfg, "--trials", "3", "--storage", self.url)
        out, err = rerun.communicate(timeout=120)
        self.assertEqual(rerun.returncode, 0, out + err)
        self.assertEqual(state_counts(self._trials()), {"COMPLETE": 3})


PG_SCRIPT = os.path.join(HERE, "..", "..", "scripts", "start-postgres.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(BASE_URL, "HPT_TEST_POSTGRES_URL is not set (scripts/start-postgres.sh)")
@unittest.skipUnless(psycopg2, "python3-psycopg2 is not installed")
class PostgresOutageTest(TempDirTest):
    """A server of its own (the shared one serves the other tests meanwhile), stopped mid-study."""

    def test_a_server_down_for_30_s_mid_study_is_waited_out(self):
        """PostgreSQL stopped for 30 s mid-study (longer than the ~26 s of reconnects that used to
        end hpt): hpt says it waits, says when the server is back, and finishes every trial."""
        data = f"/tmp/hpt-pg-outage-{uuid.uuid4().hex[:8]}"  # The postgres user must reach it.
        env = dict(os.environ, HPT_PG_DIR=data, HPT_PG_PORT=str(free_port()))

        def pg(*args):
            return subprocess.run([PG_SCRIPT, *args], env=env, capture_output=True, text=True,
                                  check=True, timeout=120)

        def cleanup():
            subprocess.run([PG_SCRIPT, "stop"], env=env, capture_output=True, timeout=120)
            shutil.rmtree(data, ignore_errors=True)
            if os.path.exists(data + ".log"):
                os.remove(data + ".log")

        self.addCleanup(cleanup)
        url = pg().stdout.strip().split("=", 1)[1]
        cfg = quadratic_config(self.dir, jobs=2)
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "8", "--storage", url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.dir,
                                env=dict(os.environ, OBJ_SLEEP="0.3"))
        self.addCleanup(lambda: proc.poll() is None and (proc.kill() or proc.communicate()))
        time.sleep(3)
        pg("stop")
        time.sleep(30)
        self.assertIsNone(proc.poll(), "hpt ended while the server was down")
        pg()
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("; waiting up to 600 s for it (Ctrl-C stops)", out)
        self.assertRegex(out, r"the database is back after (2[89]|3\d) s")
        con = psycopg2.connect(url)
        try:
            cur = con.cursor()
            cur.execute("SELECT state::text, count(*) FROM trials GROUP BY 1")
            self.assertEqual(dict(cur.fetchall()), {"COMPLETE": 8})
        finally:
            con.close()


if __name__ == "__main__":
    unittest.main()
