"""Faults a study meets: misbehaving workers, Ctrl-C, kill -9, concurrent runs, bad input."""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

from hpt_harness import (HPT, OBJECTIVES, PYTHON, TempDirTest, file_digest, integrity_ok, private_objective, quadratic_config,
                         run_hpt, state_counts, trials_json, write_config)


def faulty_config(directory, modes, timeout=3, retries=0, max_failures=50, name="faults"):
    return write_config(directory, f"""\
        study:
          name: {name}
          storage: {directory}/f.db
          sampler: {{type: grid}}
          pruner: {{type: none}}
          max_failures: {max_failures}
        objective:
          command: [{PYTHON}, {OBJECTIVES}/faulty.py]
          timeout: {timeout}
          retries: {retries}
        search_space:
          mode: {modes}
        """)


def process_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class WorkerFaultTest(TempDirTest):
    def test_each_fault_becomes_a_fail_trial_and_the_study_goes_on(self):
        """crash, SIGKILL from outside (the OOM killer), exit, hang, NaN, garbage, no result, leftover
        children: FAIL with reason; ok completes."""
        pidfile = os.path.join(self.dir, "children.pid")
        faults = ["crash", "oom", "exit", "hang", "nan", "garbage", "noresult", "children"]
        cfg = faulty_config(self.dir, "[" + ", ".join(faults) + "]", max_failures=len(faults))
        start = time.time()
        proc = run_hpt("--config", cfg, "--trials", "1", env={"OBJ_PIDFILE": pidfile})
        self.assertEqual(proc.returncode, 3, proc.stderr)  # Every trial failed: the budget ends it.
        self.assertLess(time.time() - start, 60)
        # Other choices: another study (Optuna refuses changed categorical choices).
        ok_cfg = faulty_config(self.dir, "[ok, flood]", name="faults_ok")
        proc = run_hpt("--config", ok_cfg, "--trials", "2", env={"OBJ_PIDFILE": pidfile})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        trials = trials_json(f"{self.dir}/f.db", "faults") + trials_json(f"{self.dir}/f.db", "faults_ok")
        self.assertEqual(len(trials), len(faults) + 2)
        by_mode = {}
        for t in trials:
            by_mode.setdefault(t["params"]["mode"], t)
        reasons = {m: by_mode[m].get("fail_reason", "") for m in by_mode}
        self.assertEqual(by_mode["ok"]["state"], "COMPLETE")
        self.assertEqual(by_mode["flood"]["state"], "COMPLETE")
        self.assertIn("killed by signal 11 (SIGSEGV)", reasons["crash"])
        self.assertIn("killed by signal 9 (SIGKILL), not sent by hpt: out of memory?", reasons["oom"])
        self.assertNotIn("out of memory", reasons["crash"] + reasons["hang"])
        self.assertIn("exited with status 3", reasons["exit"])
        self.assertIn("timed out after 3 s", reasons["hang"])
        self.assertIn("NaN", reasons["nan"])
        self.assertIn("without printing a final", reasons["garbage"])
        self.assertIn("without printing a final", reasons["noresult"])
        self.assertIn("exited with status 1", reasons["children"])
        con = sqlite3.connect(f"{self.dir}/f.db")
        tails = dict(con.execute(
            "SELECT t.number, a.value_json FROM trial_system_attributes a JOIN trials t USING (trial_id) "
            "WHERE a.key = 'hpt:stderr_tail'").fetchall())
        crash_number = by_mode["crash"]["number"]
        self.assertIn("about to crash", tails[crash_number])
        self.assertIn("Traceback", tails[by_mode["exit"]["number"]])
        time.sleep(0.3)
        with open(pidfile) as f:
            for pid in f.read().split():
                self.assertFalse(process_alive(int(pid)), f"worker child {pid} survived")

    def test_failure_budget_stops_the_study(self):  # noqa: D401
        """A study whose trials keep failing stops after max_failures with a clear message."""
        cfg = faulty_config(self.dir, "[exit]", max_failures=3)
        proc = run_hpt("--config", cfg, "--trials", "10")
        self.assertEqual(proc.returncode, 3)
        self.assertIn("stopping after 3 failed trials", proc.stdout + proc.stderr)
        self.assertEqual(state_counts(trials_json(f"{self.dir}/f.db")), {"FAIL": 3})

    def test_retries_rerun_with_same_parameters(self):
        """retries: N re-runs a failed trial N more times with the same parameters."""
        cfg = faulty_config(self.dir, "[exit, ok]", retries=2)
        run_hpt("--config", cfg, "--trials", "1", check=True)
        trials = trials_json(f"{self.dir}/f.db")
        fails = [t for t in trials if t["state"] == "FAIL"]
        self.assertGreaterEqual(len(fails), 1)
        if len(fails) > 1:
            self.assertEqual({t["params"]["mode"] for t in fails}, {"exit"})


class InterruptTest(TempDirTest):
    def _start(self, cfg, trials, env=None, own_group=False):
        full_env = dict(os.environ)
        full_env.update(env or {})
        # own_group: a process group whose parent (this test) is in another, so not orphaned: the
        # kernel lets Ctrl-Z's default action stop it, as in a shell with job control.
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", str(trials)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=full_env,
                                process_group=0 if own_group else None)
        self.addCleanup(proc.kill)  # A failed or timed-out check never leaves hpt running.
        return proc

    def _private_study(self, sleep, own_group=False):
        """Starts a 6-trial jobs=2 study on a private objective copy; returns (script, cfg, db, proc)."""
        script = private_objective(self.dir)
        cfg = quadratic_config(self.dir, jobs=2, objective_path=script)
        return script, cfg, f"{self.dir}/study.db", self._start(cfg, 6, env={"OBJ_SLEEP": str(sleep)},
                                                                own_group=own_group)

    def test_ctrl_c_during_delete_study_says_what_happened(self):
        """Ctrl-C while delete-study waits for a locked database: nothing is deleted, and hpt says
        so (exit 130); a second Ctrl-C gives up the wait at once. It used to end silently, leaving
        the user to guess whether the study was gone."""
        cfg = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        run_hpt("--config", cfg, "--trials", "2", check=True)

        def delete_under_lock(signals, release):
            lock = sqlite3.connect(db, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")  # A writer holds the database: the delete waits.
            proc = subprocess.Popen([HPT, "delete-study", db, "--study", "quad"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(proc.kill)
            time.sleep(1.5)
            for _ in range(signals):
                proc.send_signal(signal.SIGINT)
                time.sleep(0.3)
            if release:
                lock.execute("ROLLBACK")
            start = time.time()
            out, err = proc.communicate(timeout=30)
            lock.close()
            return proc.returncode, out, err, time.time() - start

        for signals, release in ((1, True), (2, False)):
            code, out, err, seconds = delete_under_lock(signals, release)
            self.assertEqual(code, 130, err)
            self.assertEqual(err, "hpt: stopped by a signal; study 'quad' was not deleted\n")
            self.assertEqual(out, "")
            self.assertLess(seconds, 10)  # The second signal did not wait out the busy timeout.
            con = sqlite3.connect(db)
            try:
                self.assertEqual(con.execute("SELECT COUNT(*) FROM trials").fetchone()[0], 2)
            finally:
                con.close()
        proc = run_hpt("delete-study", db, "--study", "quad")  # Unlocked and unsignalled: done.
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("deleted study 'quad' and its 2 trials", proc.stdout)

    def test_ctrl_c_ends_workers_and_resume_finishes(self):
        """SIGINT: exit 130 within seconds, no worker left, trials WAITING; rerun completes exactly N."""
        script, cfg, db, proc = self._private_study(0.5)
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        start = time.time()
        out, err = proc.communicate(timeout=20)
        self.assertLess(time.time() - start, 8)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertIn("resume", out + err)
        leftover = subprocess.run(["pgrep", "-f", script], capture_output=True, text=True).stdout
        self.assertEqual(leftover.strip(), "")
        counts = state_counts(trials_json(db))
        self.assertNotIn("RUNNING", counts)
        self.assertTrue(integrity_ok(db))
        run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertEqual(state_counts(trials_json(db)).get("COMPLETE"), 6)

    def test_a_signal_while_the_study_opens_stops_it_as_during_the_run(self):
        """A stop signal before the study started (here: while another process holds its database)
        stops hpt as one during the run does: exit 130 and a line saying no trial ran, nothing run.
        The handlers came only with the run, so SIGTERM there killed hpt (status -15)."""
        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "1", check=True)
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        proc = self._start(cfg, 4)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        holder.execute("COMMIT")
        holder.close()
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertEqual(err, "hpt: stopped by a signal before the study started; no trial ran\n")
        self.assertEqual(len(trials_json(db)), 1)
        self.assertTrue(integrity_ok(db))

    def test_hangup_stops_like_ctrl_c(self):
        """SIGHUP (terminal or SSH session closed): as SIGINT, exit 130, trials WAITING, resumable."""
        script, cfg, db, proc = self._private_study(0.5)
        time.sleep(2.5)
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertIn("resume", out + err)
        leftover = subprocess.run(["pgrep", "-f", script], capture_output=True, text=True).stdout
        self.assertEqual(leftover.strip(), "")
        self.assertNotIn("RUNNING", state_counts(trials_json(db)))
        run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertEqual(state_counts(trials_json(db)).get("COMPLETE"), 6)

    def test_hangup_ignored_under_nohup(self):
        """Started with SIGHUP ignored (nohup), hpt and its workers keep ignoring it."""
        script = private_objective(self.dir)
        cfg = quadratic_config(self.dir, jobs=2, objective_path=script)
        env = dict(os.environ, OBJ_SLEEP="0.3")
        proc = subprocess.Popen(["nohup", HPT, "--config", cfg, "--trials", "4"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=self.dir)
        self.addCleanup(proc.kill)
        time.sleep(1.5)
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertEqual(state_counts(trials_json(f"{self.dir}/study.db")), {"COMPLETE": 4})

    def test_second_ctrl_c_exits_at_once(self):
        """Two SIGINTs: exit 130 at once, workers gone, database consistent and resumable."""
        script, cfg, db, proc = self._private_study(2)
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        start = time.time()
        out, err = proc.communicate(timeout=20)
        self.assertLess(time.time() - start, 3.0)  # first stop alone waits up to 3 s for workers
        self.assertEqual(proc.returncode, 130, out + err)
        time.sleep(0.2)
        leftover = subprocess.run(["pgrep", "-f", script], capture_output=True, text=True).stdout
        self.assertEqual(leftover.strip(), "")
        self.assertTrue(integrity_ok(db))
        run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertEqual(state_counts(trials_json(db)), {"COMPLETE": 6})

    def test_sigquit_stops_like_ctrl_c(self):
        """SIGQUIT (Ctrl-\\), SIGUSR1 / SIGUSR2 (SLURM's --signal warning before a time limit) and SIGALRM
        hand the trials back as SIGINT does (they killed hpt and left its trials RUNNING)."""
        for sig in (signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            with self.subTest(signal=sig.name):
                script, cfg, db, proc = self._private_study(0.5)
                time.sleep(2.5)
                proc.send_signal(sig)
                out, err = proc.communicate(timeout=20)
                self.assertEqual(proc.returncode, 130, out + err)
                self.assertIn("interrupted", out + err)
                self.assertNotIn("RUNNING", state_counts(trials_json(db)))
                os.remove(db)

    def test_ctrl_z_stops_the_workers_too_and_their_timeout_waits(self):
        """Ctrl-Z (SIGTSTP) stops hpt and its workers (in process groups of their own, which the terminal's
        Ctrl-Z does not reach: they used to train on); after fg (SIGCONT) they go on, and the time stopped,
        longer than objective.timeout, does not time the trial out."""
        worker = os.path.join(self.dir, "slow.py")
        with open(worker, "w") as f:
            f.write("import json, os, sys, time\n"
                    "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
                    "for i in range(30):\n"
                    "    time.sleep(0.1)\n"
                    "    print(json.dumps({'step': i, 'value': i}), flush=True)\n"
                    "print(json.dumps({'value': 1.0}))\n")
        pid_file = os.path.join(self.dir, "worker.pid")
        cfg = write_config(self.dir, f"""\
            study: {{name: tstp, storage: {self.dir}/study.db, pruner: {{type: none}}}}
            objective: {{command: [{PYTHON}, {worker}, {pid_file}], timeout: 4}}
            search_space:
              x: {{type: float, low: 0, high: 1}}
            """)
        # A process group of its own whose parent (this test) is in another: not orphaned, so the
        # kernel lets Ctrl-Z's default action stop it, as in a shell with job control.
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, process_group=0)
        self.addCleanup(proc.kill)
        def read_pid():
            try:
                with open(pid_file) as f:
                    return int(f.read())
            except (OSError, ValueError):
                return None

        deadline = time.time() + 20
        while read_pid() is None:
            self.assertLess(time.time(), deadline, "the worker did not start")
            time.sleep(0.05)
        worker_pid = read_pid()

        def state(pid):
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0]

        time.sleep(0.5)
        proc.send_signal(signal.SIGTSTP)
        deadline = time.time() + 5
        while (state(proc.pid), state(worker_pid)) != ("T", "T"):
            self.assertLess(time.time(), deadline, f"hpt {state(proc.pid)}, worker {state(worker_pid)}")
            time.sleep(0.05)
        time.sleep(5)  # Longer than objective.timeout.
        self.assertEqual((state(proc.pid), state(worker_pid)), ("T", "T"))
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("hpt: stopped (Ctrl-Z) with 1 running trial; fg continues", out + err)
        self.assertRegex(out + err, r"hpt: continued after [5-9] s \(not counted in objective.timeout\)")
        trials = trials_json(f"{self.dir}/study.db")
        self.assertEqual(state_counts(trials), {"COMPLETE": 1}, trials)

    def test_ctrl_z_then_an_early_continue_never_leaves_the_study_stopped(self):
        """`kill -TSTP; kill -CONT` from a script, the continue before hpt acted on the stop: hpt and its
        workers go on (they stayed stopped, with nobody left to continue them)."""
        script, cfg, db, proc = self._private_study(0.6, own_group=True)
        time.sleep(1.5)
        for gap in (0.0, 0.0, 0.0, 0.0, 0.001, 0.005, 0.01, 0.02, 0.03):
            os.kill(proc.pid, signal.SIGTSTP)
            time.sleep(gap)
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.5)
            with open(f"/proc/{proc.pid}/stat") as f:
                self.assertNotEqual(f.read().rsplit(")", 1)[1].split()[0], "T", f"left stopped (gap {gap} s)")
        self.assertIsNone(proc.poll(), "the study ended before the last check")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertEqual(state_counts(trials_json(db)), {"COMPLETE": 6})

    def test_lingering_worker_keeps_its_value_on_ctrl_c(self):
        """A worker that prints its final value and then hangs (a DataLoader thread at teardown): Ctrl-C
        ends it and the trial is COMPLETE with its value (it went back to WAITING, to be trained again)."""
        worker = os.path.join(self.dir, "linger.py")
        with open(worker, "w") as f:
            f.write("import json, os, time\n"
                    "print(json.dumps({'value': json.loads(os.environ['HPT_PARAMS'])['x']}), flush=True)\n"
                    "time.sleep(600)\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: linger, storage: {self.dir}/study.db}}
            objective: {{command: [{PYTHON}, {worker}]}}
            search_space:
              x: {{type: float, low: 0, high: 1}}
            """)
        proc = self._start(cfg, 1)
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertIn("trial 0 keeps its final value", out + err)
        trials = trials_json(f"{self.dir}/study.db")
        self.assertEqual([t["state"] for t in trials], ["COMPLETE"])
        self.assertEqual(trials[0]["value"], trials[0]["params"]["x"])
        run_hpt("--config", cfg, "--trials", "1", check=True)  # Nothing left to run.
        self.assertEqual(len(trials_json(f"{self.dir}/study.db")), 1)

    def test_second_ctrl_c_while_the_database_is_locked(self):
        """Another process holds the database: a second SIGINT exits at once (130), no waiting out the
        60 s busy timeout; the study resumes afterwards."""
        script, cfg, db, proc = self._private_study(0.5)
        time.sleep(2.5)
        holder = sqlite3.connect(db, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            proc.send_signal(signal.SIGINT)
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            start = time.time()
            out, err = proc.communicate(timeout=30)
            self.assertLess(time.time() - start, 5)
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertIn("resume", out + err)
        self.assertTrue(integrity_ok(db))
        run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertEqual(state_counts(trials_json(db)).get("COMPLETE"), 6)

    def test_kill_9_leftover_children_end_before_the_rerun(self):
        """kill -9 of hpt: the worker dies with it, its child does not; the resumed run ends that child
        before re-running the trial, so the two never run side by side."""
        child = os.path.join(self.dir, "child.py")
        with open(child, "w") as f:
            f.write("import os, sys, time\n"
                    "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
                    "time.sleep(float(sys.argv[2]))\n"
                    "print('{\"value\": 1.0}')\n")
        cfg = write_config(self.dir, f"""\
study: {{name: quiet, storage: {self.dir}/study.db}}
objective:
  command: [sh, -c, '/usr/bin/python3 {child} {self.dir}/pid-$HPT_TRIAL_NUMBER-$$ {{sleep}}; true']
search_space:
  sleep: [30]
""")
        proc = self._start(cfg, 1)
        deadline = time.time() + 20
        pids = []
        while time.time() < deadline and not pids:
            pids = [n for n in os.listdir(self.dir) if n.startswith("pid-0-")]
            time.sleep(0.1)
        self.assertTrue(pids)
        time.sleep(0.3)
        proc.kill()
        proc.communicate()
        with open(os.path.join(self.dir, pids[0])) as f:
            orphan = int(f.read())
        self.assertTrue(process_alive(orphan))  # The worker's child outlived hpt.
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:  # The re-run is quick: the trial keeps its parameters.
            f.write(text.replace("{sleep};", "0;"))
        out = run_hpt("--config", cfg, "--trials", "1", check=True, timeout=60)
        self.assertIn("ended 1 process left from its earlier run", out.stdout + out.stderr)
        self.assertFalse(process_alive(orphan))
        self.assertEqual(state_counts(trials_json(f"{self.dir}/study.db")), {"COMPLETE": 1})

    def test_kill_9_loop_then_resume_gives_exactly_n(self):
        """kill -9 at random moments, repeatedly; the same command then finishes exactly N trials."""
        rng = random.Random(5)
        cfg = quadratic_config(self.dir, jobs=2)
        db = f"{self.dir}/study.db"
        for _ in range(4):
            proc = self._start(cfg, 10, env={"OBJ_SLEEP": "0.2"})
            time.sleep(rng.uniform(0.5, 2.5))
            proc.kill()
            proc.communicate()
            self.assertTrue(integrity_ok(db))
        run_hpt("--config", cfg, "--trials", "10", check=True, env={"OBJ_SLEEP": "0.05"})
        trials = trials_json(db)
        counts = state_counts(trials)
        self.assertEqual(counts.get("COMPLETE", 0) + counts.get("PRUNED", 0), 10)
        self.assertNotIn("RUNNING", counts)
        numbers = [t["number"] for t in trials]
        self.assertEqual(len(numbers), len(set(numbers)))
        self.assertTrue(integrity_ok(db))

    def test_resumed_seeded_study_samples_like_uninterrupted(self):
        """jobs=1 + seed: killed and resumed, the study samples exactly the uninterrupted trials."""
        ref = quadratic_config(self.dir, db="ref.db", seed=4)
        run_hpt("--config", ref, "--trials", "14", check=True)
        cfg = quadratic_config(self.dir, db="cut.db", seed=4)
        proc = self._start(cfg, 14, env={"OBJ_SLEEP": "0.1"})
        time.sleep(3)
        proc.kill()
        proc.communicate()
        run_hpt("--config", cfg, "--trials", "14", check=True)
        ref_params = {t["number"]: t["params"] for t in trials_json(f"{self.dir}/ref.db")}
        cut_params = {t["number"]: t["params"] for t in trials_json(f"{self.dir}/cut.db")}
        self.assertEqual(ref_params, cut_params)

    def test_two_orchestrators_share_one_study(self):
        """Two hpt processes on one database: no lock errors, no duplicates, exactly N together."""
        cfg = quadratic_config(self.dir, jobs=2)
        db = f"{self.dir}/study.db"
        a = self._start(cfg, 16, env={"OBJ_SLEEP": "0.05"})
        b = self._start(cfg, 16, env={"OBJ_SLEEP": "0.05"})
        out_a, err_a = a.communicate(timeout=300)
        out_b, err_b = b.communicate(timeout=300)
        self.assertEqual(a.returncode, 0, err_a)
        self.assertEqual(b.returncode, 0, err_b)
        self.assertNotIn("locked", err_a + err_b)
        trials = trials_json(db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 16})
        self.assertEqual(sorted(t["number"] for t in trials), list(range(16)))

    def test_processes_given_plus_k_each_add_k(self):
        """--trials +K in several processes at once (a SLURM array of `hpt --trials +5`) adds K
        per process, as Optuna's optimize(n_trials=K) in each does: they shared one total fixed
        at their start (2 + 5) and added 5 in all."""
        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "2", check=True)
        procs = [self._start(cfg, "+4", env={"OBJ_SLEEP": "0.2"}) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err)
        trials = trials_json(db)
        self.assertEqual(state_counts(trials), {"COMPLETE": 10})
        self.assertEqual(sorted(t["number"] for t in trials), list(range(10)))


class StorageFaultTest(TempDirTest):
    def test_a_run_ended_under_an_open_reader_leaves_its_trials_in_the_db_file(self):
        """A dashboard (any reader) open when a run ends: the run's commits are in the .db file
        itself, not only in its -wal, so a copy of the .db alone (cp, scp) holds every trial and
        none RUNNING. SQLite folds the log back only when its last connection closes."""
        cfg = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        run_hpt("--config", cfg, "--trials", "1", check=True)
        reader = sqlite3.connect(db, isolation_level=None)
        try:
            reader.execute("SELECT COUNT(*) FROM trials").fetchall()  # Open, in no transaction.
            run_hpt("--config", cfg, "--trials", "6", check=True)
            self.assertTrue(os.path.exists(db + "-wal"))
            copy = os.path.join(self.dir, "copy.db")
            shutil.copyfile(db, copy)  # The .db file alone, as `cp study.db` takes it.
        finally:
            reader.close()
        con = sqlite3.connect(copy)
        try:
            states = dict(con.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall())
        finally:
            con.close()
        self.assertEqual(states, {"COMPLETE": 6})

    def test_read_only_database(self):
        """A read-only database: one-line error, file untouched, still readable."""
        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "2", check=True)
        os.chmod(db, 0o444)
        digest = file_digest(db)
        proc = run_hpt("--config", cfg, "--trials", "4")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("read-only", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        self.assertEqual(file_digest(db), digest)
        self.assertEqual(len(trials_json(db)), 2)

    def _complete_count(self, db):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return 0  # The file is made before its schema: polled in between.
            raise
        finally:
            con.close()

    def _study_with_two_complete(self):
        """Starts a 6-trial jobs=2 study and returns (cfg, db, proc) once two trials are COMPLETE."""
        cfg = quadratic_config(self.dir, jobs=2)
        db = f"{self.dir}/study.db"
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "6"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, OBJ_SLEEP="0.3"))
        self.addCleanup(proc.kill)
        deadline = time.time() + 30
        while not os.path.exists(db) or self._complete_count(db) < 2:
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        return cfg, db, proc

    def _study_deleted_mid_run(self, replace_with=None):
        """Deletes (or replaces) the database file under a running study; returns (cfg, db, proc's
        output and code)."""
        cfg, db, proc = self._study_with_two_complete()
        if replace_with:
            os.replace(replace_with, db)
        else:
            os.unlink(db)
        out, err = proc.communicate(timeout=30)
        return cfg, db, out + err, proc.returncode

    def test_database_deleted_mid_study_is_written_back(self):
        """`rm study.db` while a study runs (SQLite kept writing to the deleted file, and the whole study
        was lost when hpt exited): the running trials are handed back and the study is written back to
        its path, every trial in it; the same command resumes it to exactly N."""
        cfg, db, output, code = self._study_deleted_mid_run()
        self.assertEqual(code, 1, output)
        self.assertIn(f"the study database '{db}' was deleted, moved or replaced while the study ran", output)
        self.assertIn(f"is saved back at '{db}'", output)
        self.assertTrue(integrity_ok(db))
        counts = state_counts(trials_json(db))
        self.assertNotIn("RUNNING", counts)
        self.assertGreaterEqual(counts.get("COMPLETE", 0), 2)
        run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertEqual(state_counts(trials_json(db)).get("COMPLETE"), 6)

    def _study_in_out_folder(self, storage):
        """Starts a 6-trial jobs=2 study on storage (inside self.dir, working folder self.dir) and
        returns (cfg, proc) once two trials are COMPLETE."""
        cfg = quadratic_config(self.dir, db=storage, jobs=2)
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "6"], cwd=self.dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, OBJ_SLEEP="0.3"))
        self.addCleanup(proc.kill)
        db = os.path.join(self.dir, storage)
        deadline = time.time() + 30
        while not os.path.exists(db) or self._complete_count(db) < 2:
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        return cfg, proc

    def test_database_folder_made_a_file_saves_the_study_in_the_working_folder(self):
        """`rm -rf out; echo > out` under a running study: its folder cannot be made again, so the study
        is saved in the working folder (it was lost, with only "'out' exists and is not a folder")."""
        os.mkdir(os.path.join(self.dir, "out"))
        cfg, proc = self._study_in_out_folder("out/study.db")
        shutil.rmtree(os.path.join(self.dir, "out"))
        with open(os.path.join(self.dir, "out"), "w") as f:
            f.write("not a folder\n")
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, out + err)
        saved = os.path.join(self.dir, "study.db")
        self.assertIn(f"is saved as '{saved}' (its running trials are WAITING): give --storage {saved}", out + err)
        self.assertGreaterEqual(state_counts(trials_json(saved)).get("COMPLETE", 0), 2)

    def test_database_behind_a_symbolic_link_is_written_back_to_its_target(self):
        """The study's path is a symbolic link and its target is deleted: the study goes back to the
        target, so the same command resumes it (it went beside the dangling link, and the next run
        started an empty study at the target)."""
        os.mkdir(os.path.join(self.dir, "real"))
        os.mkdir(os.path.join(self.dir, "out"))
        os.symlink("../real/study.db", os.path.join(self.dir, "out", "study.db"))
        cfg, proc = self._study_in_out_folder("out/study.db")
        target = os.path.join(self.dir, "real", "study.db")
        os.unlink(target)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, out + err)
        self.assertIn(f"is saved back at '{target}'", out + err)
        done = state_counts(trials_json(target)).get("COMPLETE", 0)
        self.assertGreaterEqual(done, 2)
        proc = run_hpt("--config", cfg, "--trials", "6", check=True)
        self.assertIn(f"{done} of 6 trials finished, resuming", proc.stdout + proc.stderr)

    def test_trials_folder_deleted_mid_study_is_made_again(self):
        """`rm -rf study_trials` while a study runs: the next trials make the folder again and have their
        logs (every later trial had none)."""
        cfg, db, proc = self._study_with_two_complete()
        shutil.rmtree(f"{self.dir}/study_trials")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn(f"the trials folder '{self.dir}/study_trials/quad' was deleted: made it again", out + err)
        with open(f"{self.dir}/study_trials/quad/5.log") as f:
            self.assertIn("a log line that is not protocol", f.read())

    def test_database_replaced_mid_study_is_saved_beside_it(self):
        """Another file moved over the study's database while it runs: that file is left alone, the
        study is saved as study.db.recovered."""
        other = os.path.join(self.dir, "other.db")
        con = sqlite3.connect(other)
        con.execute("CREATE TABLE mine (x)")
        con.commit()
        con.close()
        digest = file_digest(other)
        cfg, db, output, code = self._study_deleted_mid_run(replace_with=other)
        self.assertEqual(code, 1, output)
        self.assertIn(f"is saved as '{db}.recovered'", output)
        self.assertEqual(file_digest(db), digest)
        self.assertGreaterEqual(state_counts(trials_json(db + ".recovered")).get("COMPLETE", 0), 2)

    def _colleagues_study(self):
        """The command prefix that runs as user nobody, and a folder `alice` with a finished
        two-trial study (study.db); skips the test when nobody cannot run hpt."""
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if subprocess.run(nobody + [HPT, "--version"], capture_output=True).returncode != 0:
            self.skipTest("the hpt binary is not reachable for user nobody")
        folder = os.path.join(self.dir, "alice")
        os.mkdir(folder)
        run_hpt("--config", quadratic_config(folder), "--trials", "2", check=True)
        return nobody, folder

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_another_users_study_folder_is_readable(self):
        """A study in a folder the reader cannot write (a colleague's): read commands work (SQLite said
        "database is read-only": it cannot make the -shm file there)."""
        nobody, folder = self._colleagues_study()
        os.chmod(self.dir, 0o755)
        os.chmod(folder, 0o755)
        proc = subprocess.run(nobody + [HPT, "trials", os.path.join(folder, "study.db"), "--format", "json"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(json.loads(proc.stdout)), 2)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_unreadable_write_ahead_log_is_refused_not_ignored(self):
        """A colleague's study whose -wal still holds commits, in a folder the reader cannot write
        (no -shm can be made): refused naming the -wal (read as immutable, the commits in it were
        silently left out)."""
        nobody, folder = self._colleagues_study()
        db = os.path.join(folder, "study.db")
        # A writer that ends without a checkpoint: its commit stays in the -wal.
        subprocess.run([sys.executable, "-c", f"""
import os, sqlite3
con = sqlite3.connect({db!r})
con.execute("PRAGMA wal_autocheckpoint=0")
con.execute("UPDATE studies SET study_name = 'from-wal'")
con.commit()
os._exit(0)
"""], check=True)
        self.assertGreater(os.path.getsize(db + "-wal"), 0)
        os.remove(db + "-shm")
        os.chmod(self.dir, 0o755)
        os.chmod(folder, 0o555)
        try:
            proc = subprocess.run(nobody + [HPT, "studies", db], capture_output=True, text=True, timeout=60)
        finally:
            os.chmod(folder, 0o755)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertIn("write-ahead log", proc.stderr)
        self.assertIn("study.db-wal", proc.stderr)
        self.assertNotIn("quadratic", proc.stdout)

    def test_database_on_a_full_disk_says_so(self):
        """A new database on a full disk: the error says the disk is full (it said "I/O error")."""
        full = os.path.join(self.dir, "full")
        os.mkdir(full)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", full],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        try:  # Unmounted before tearDown removes the folder.
            cfg = write_config(self.dir, f"""\
study: {{name: s, storage: {full}/s.db, trials_dir: {self.dir}/trials}}
objective: {{command: [true]}}
search_space: {{a: [1]}}
""")
            proc = run_hpt("--config", cfg, "--trials", "1", timeout=60)
        finally:
            subprocess.run(["umount", full], check=True)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("disk is full", proc.stderr)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)

    def test_disk_full_keeps_the_database_readable(self):
        """Writes failing mid-study (file size limit) give an error; the db stays whole and resumable."""
        import resource

        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "2", check=True)
        limit = os.path.getsize(db) + 64 * 1024

        def cap():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = subprocess.run([HPT, "--config", cfg, "--trials", "400"], capture_output=True, text=True,
                              preexec_fn=cap, timeout=300)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("study.db", proc.stderr)
        self.assertTrue(integrity_ok(db))
        done = len(trials_json(db))
        self.assertGreaterEqual(done, 2)
        run_hpt("--config", cfg, "--trials", str(done + 3), check=True)
        counts = state_counts(trials_json(db))
        self.assertEqual(counts.get("COMPLETE", 0), done + 3)


class BadInputTest(TempDirTest):
    def _check_error(self, args, expected, files=()):
        digests = {f: file_digest(f) for f in files}
        proc = run_hpt(*args)
        self.assertNotEqual(proc.returncode, 0)
        err = proc.stderr.strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(expected, err)
        self.assertNotIn("terminate called", err)
        for f, d in digests.items():
            self.assertEqual(file_digest(f), d, f"{f} was modified")

    def test_bad_inputs_table(self):
        """Each malformed input gets a one-line error naming the culprit; files stay untouched."""
        good = quadratic_config(self.dir)
        bad_key = write_config(self.dir, "study: {nme: x}\nsearch_space: {a: [1]}\n", "bad_key.yaml")
        bad_range = write_config(self.dir, "objective: {command: [true]}\nsearch_space:\n  a: {type: int, low: 5, high: 1}\n",
                                 "bad_range.yaml")
        not_db = os.path.join(self.dir, "not_a.db")
        with open(not_db, "w") as f:
            f.write("hello, this is not sqlite" * 100)
        truncated = os.path.join(self.dir, "trunc.db")
        run_hpt("--config", good, "--trials", "2", "--storage", os.path.join(self.dir, "full.db"), check=True)
        with open(os.path.join(self.dir, "full.db"), "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 3])
        cases = [
            (["--config", bad_key, "--trials", "3"], "bad_key.yaml:1: study.nme: unknown key 'nme' (did you mean 'name'?)", []),
            (["--config", bad_range, "--trials", "3"], "bad_range.yaml:3: search_space.a: low must be <= high", []),
            (["--config", os.path.join(self.dir, "missing.yaml"), "--trials", "3"], "missing.yaml: cannot open: No such file or directory", []),
            (["--config", good, "--trials", "-2"], "--trials", []),
            (["--config", good, "--trials", "abc"], "--trials", []),
            (["--config", good, "--trials", "3", "--storage", not_db], "not_a.db", [not_db]),
            (["trials", not_db], "not_a.db", [not_db]),
            (["trials", truncated], "trunc.db", [truncated]),
            (["trials", os.path.join(self.dir, "nope.db")], "nope.db", []),
            (["trials", os.path.join(self.dir, "full.db"), "--study", "zzz"], "no study named 'zzz'", []),
            (["--bogus"], "--bogus", []),
        ]
        for args, expected, files in cases:
            with self.subTest(args=args):
                self._check_error(args, expected, files)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "nope.db")))

    def test_newer_schema_is_refused(self):
        """A database from a newer Optuna schema is refused, untouched."""
        cfg = quadratic_config(self.dir)
        db = f"{self.dir}/study.db"
        run_hpt("--config", cfg, "--trials", "1", check=True)
        con = sqlite3.connect(db)
        con.execute("UPDATE version_info SET schema_version = 99")
        con.commit()
        con.close()
        self._check_error(["--config", cfg, "--trials", "3"], "study.db", [db])


if __name__ == "__main__":
    unittest.main()
