"""Workers that cannot start, escape, flood steps or print hostile lines: the study survives."""
import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
import unittest

from hpt_harness import HPT, PYTHON, TempDirTest, run_hpt, state_counts, trials_json, write_config


def config(directory, command, extra="", space="x: {type: float, low: 0, high: 1}", name="w"):
    extra = extra.replace("\n", "\n" + " " * 10)  # Further study keys, one per line.
    return write_config(directory, f"""\
        study:
          name: {name}
          storage: {directory}/w.db
          seed: 0
          pruner: {{type: none}}
          {extra}
        objective:
          command: {json.dumps(command)}
        search_space:
          {space}
        """)


def proc_children(pid):
    """(pid, state) of the direct children of pid."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/stat") as f:
                    out.append((k, f.read().rsplit(")", 1)[1].split()[0]))
            except OSError:
                pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class FailedStartTest(TempDirTest):
    def test_objective_that_cannot_start_is_reported_before_any_trial(self):
        """Misspelled path, no execute bit, missing #! interpreter: one line naming objective.command, no study."""
        no_x = os.path.join(self.dir, "no_x.py")
        with open(no_x, "w") as f:
            f.write("#!/usr/bin/python3\nprint('{\"value\": 1}')\n")
        bad_interp = os.path.join(self.dir, "bad_interp.py")
        with open(bad_interp, "w") as f:
            f.write("#!/usr/bin/pythn3\nprint('{\"value\": 1}')\n")
        os.chmod(bad_interp, 0o755)
        crlf = os.path.join(self.dir, "crlf.sh")
        with open(crlf, "w", newline="") as f:
            f.write('#!/bin/sh\r\necho \'{"value": 1}\'\r\n')
        os.chmod(crlf, 0o755)
        cases = [
            ([os.path.join(self.dir, "objectve.py")], "No such file", 0),
            ([crlf], "its #! line ends with a carriage return (Windows line endings)", 0),
            ([no_x], "not executable", 0),
            ([bad_interp], "/usr/bin/pythn3", 0),
            (["pythn3", "x.py"], "not found in PATH", 0),
            ([PYTHON, "objectve.py"], "no such file 'objectve.py' (in the working folder", 1),
        ]
        for command, expected, culprit in cases:
            with self.subTest(command=command):
                cfg = config(self.dir, command)
                proc = run_hpt("--config", cfg, "--trials", "3", timeout=20)
                self.assertNotEqual(proc.returncode, 0)
                err = proc.stderr.strip()
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertIn(f"objective.command[{culprit}]", err)
                self.assertIn(command[culprit], err)
                self.assertIn(expected, err)
                self.assertFalse(os.path.exists(f"{self.dir}/w.db"))

    def test_failed_starts_count_toward_max_failures(self):
        """A start that fails per trial is a FAIL counted toward max_failures; hpt stops at once.
        (The program comes from the trial number, which the config's check of command[0] cannot
        try; one made from a parameter's choices is refused at load.)"""
        cfg = config(self.dir, ["/nonexistent/{trial_number}"], extra="max_failures: 5", space="p: [a, b]")
        start = time.time()
        proc = run_hpt("--config", cfg, "--trials", "100", timeout=30)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertLess(time.time() - start, 10)
        trials = trials_json(f"{self.dir}/w.db")
        self.assertEqual(state_counts(trials), {"FAIL": 5})
        self.assertIn("cannot start", trials[0]["fail_reason"])

    def _loop_then_sigterm(self, command, space="x: {type: float, low: 0, high: 1}"):
        cfg = config(self.dir, command, extra="max_failures: 1000000\njobs: 2", space=space)
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "100000"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            fds, zombies = [], []
            deadline = time.time() + 2.5
            while time.time() < deadline:
                fds.append(len(os.listdir(f"/proc/{proc.pid}/fd")))
                zombies.append(sum(1 for _, s in proc_children(proc.pid) if s == "Z"))
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            start = time.time()
            out, err = proc.communicate(timeout=10)
            return proc.returncode, time.time() - start, fds, zombies, out + err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    def test_sigterm_ends_a_loop_of_failed_starts(self):
        """Starts failing in a loop: no descriptor growth, no zombies, SIGTERM acts within a second."""
        code, took, fds, zombies, out = self._loop_then_sigterm(["/nonexistent/{trial_number}"],
                                                                space="p: [a, b]")
        self.assertEqual(code, 130, out)
        self.assertLess(took, 1.0)
        steady = fds[len(fds) // 2:]  # After start-up (database, log folder).
        self.assertLessEqual(max(steady) - min(steady), 0, fds)
        self.assertEqual(max(zombies), 0)

    def test_sigterm_ends_a_loop_of_instantly_failing_workers(self):
        """Workers exiting at once in a loop: descriptors stay flat, at most `jobs` unreaped, SIGTERM within a second."""
        code, took, fds, zombies, out = self._loop_then_sigterm(["/bin/sh", "-c", "exit 1"])
        self.assertEqual(code, 130, out)
        self.assertLess(took, 1.0)
        steady = fds[len(fds) // 2:]  # After start-up (database, log folder).
        # Two workers' pipe ends (2 each) plus one start caught midway (its child-side ends and
        # exec-status pipe, up to 4 more): 8 at most. A leak grows with every failed worker of the
        # loop, so it also lifts the floor of the last samples above the first ones.
        self.assertLessEqual(max(steady) - min(steady), 8, fds)
        self.assertLessEqual(min(steady[-5:]), min(steady[:5]) + 4, fds)
        self.assertLessEqual(max(zombies), 2)


class DescendantTest(TempDirTest):
    def test_setsid_daemon_does_not_outlive_its_trial(self):
        """A daemon started with setsid (own session, stdio closed) ends with its trial."""
        pidfile = os.path.join(self.dir, "daemon.pid")
        script = (f"setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! >> {pidfile}; sleep 0.2; "
                  "echo '{\"value\": 1}'")
        cfg = config(self.dir, ["/bin/sh", "-c", script])
        run_hpt("--config", cfg, "--trials", "3", check=True, timeout=60)
        with open(pidfile) as f:
            pids = [int(p) for p in f.read().split()]
        self.assertEqual(len(pids), 3)
        time.sleep(0.2)
        for pid in pids:
            self.assertFalse(alive(pid), f"daemon {pid} outlived its trial")


class StepsTest(TempDirTest):
    def test_many_steps_cost_linear_time(self):
        """50,000 step lines per trial with the median pruner active finish in seconds."""
        awk = ('BEGIN { v = ENVIRON["HPT_TRIAL_NUMBER"] == 0 ? 1.0 : 0.5; '
               'for (i = 0; i < 50000; i++) printf "{\\"step\\": %d, \\"value\\": %g}\\n", i, v; '
               'printf "{\\"value\\": %g}\\n", v }')
        cfg = config(self.dir, ["/usr/bin/awk", awk], extra="pruner: {type: median, n_startup_trials: 1}")
        with open(cfg) as f:
            text = f.read().replace("  pruner: {type: none}\n", "")
        with open(cfg, "w") as f:
            f.write(text)
        start = time.time()
        run_hpt("--config", cfg, "--trials", "2", check=True, timeout=120)
        self.assertLess(time.time() - start, 60)  # Quadratic (the old code): many minutes.
        con = sqlite3.connect(f"{self.dir}/w.db")
        n = con.execute("SELECT COUNT(*) FROM trial_intermediate_values").fetchone()[0]
        con.close()
        self.assertEqual(n, 100000)
        self.assertEqual(state_counts(trials_json(f"{self.dir}/w.db")), {"COMPLETE": 2})

    def test_step_lines_keep_their_user_attrs(self):
        """user_attrs on a step line are stored (the latest value of each key; they were dropped
        without a word); the final line's win for a key both set."""
        script = os.path.join(self.dir, "attrs.py")
        with open(script, "w") as f:
            f.write("import json\n"
                    "for s in range(3):\n"
                    "    print(json.dumps({'step': s, 'value': 1.0, 'user_attrs': {'lr': 0.1 / (s + 1), 'epoch': s}}))\n"
                    "print(json.dumps({'value': 0.5, 'user_attrs': {'epoch': 'final'}}))\n")
        cfg = config(self.dir, [PYTHON, script])
        run_hpt("--config", cfg, "--trials", "1", check=True, timeout=60)
        t = trials_json(f"{self.dir}/w.db")[0]
        self.assertEqual(t["state"], "COMPLETE")
        self.assertAlmostEqual(t["user_attrs"]["lr"], 0.1 / 3)
        self.assertEqual(t["user_attrs"]["epoch"], "final")

    def test_python_step_lines_arrive_without_flush(self):
        """A Python worker that prints steps without flush=True: its lines reach hpt (and the pruner)
        while it runs, not only when it exits (print() to a pipe is block-buffered; hpt sets
        PYTHONUNBUFFERED=1 unless the user's environment sets it)."""
        go = os.path.join(self.dir, "go")
        worker = os.path.join(self.dir, "steps.py")
        with open(worker, "w") as f:
            f.write("import os, time\n"
                    "print('{\"step\": 0, \"value\": 0.5}')\n"
                    "deadline = time.time() + 30\n"
                    f"while not os.path.exists({go!r}) and time.time() < deadline:\n"
                    "    time.sleep(0.05)\n"
                    "print('{\"value\": 0.25}')\n")
        cfg = config(self.dir, [PYTHON, worker])
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(proc.kill)
        db = f"{self.dir}/w.db"
        deadline = time.time() + 20
        steps = []
        while not steps:
            self.assertLess(time.time(), deadline, "step 0 did not arrive while the worker ran")
            self.assertIsNone(proc.poll())
            time.sleep(0.1)
            if os.path.exists(db):
                try:
                    con = sqlite3.connect(db, timeout=5)
                    steps = con.execute("SELECT step FROM trial_intermediate_values").fetchall()
                    con.close()
                except sqlite3.OperationalError:  # The schema is not made yet.
                    pass
        open(go, "w").close()
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertEqual(steps, [(0,)])
        self.assertEqual(state_counts(trials_json(db)), {"COMPLETE": 1})

    def test_sigterm_while_steps_are_drained(self):
        """SIGTERM acts within a second while a worker floods step lines."""
        awk = 'BEGIN { for (i = 0; ; i++) printf "{\\"step\\": %d, \\"value\\": 1}\\n", i }'
        cfg = config(self.dir, ["/usr/bin/awk", awk])
        proc = subprocess.Popen([HPT, "--config", cfg, "--trials", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        start = time.time()
        out, err = proc.communicate(timeout=30)
        self.assertLess(time.time() - start, 4.5)  # At most the 3 s grace for the worker.
        self.assertEqual(proc.returncode, 130, out + err)


class HostileLineTest(TempDirTest):
    def test_each_hostile_line_fails_only_its_trial(self):
        """1e400, deep nesting, long keys, bad steps: FAIL with the reason; no RUNNING trial; reads work."""
        lines = {
            "overflow": '{"value": 1e400}',
            "deep": '{"value": 1, "user_attrs": {"a": ' + "[" * 300000 + "]" * 300000 + "}}",
            "longkey": '{"value": 1, "user_attrs": {"' + "k" * 600 + '": 1}}',
            "negstep": '{"step": -1, "value": 1}',
            "fracstep": '{"step": 1.5, "value": 1}',
            "hugestep": '{"step": 18446744073709551616, "value": 1}',
        }
        expected = {"overflow": "out of the range", "deep": "nested deeper", "longkey": "at most 512",
                    "negstep": "negative", "fracstep": "non-negative integer", "hugestep": "beyond"}
        script = os.path.join(self.dir, "hostile.py")
        with open(script, "w") as f:
            f.write("import json, os, sys\n"
                    f"LINES = {json.dumps(lines)}\n"
                    "mode = json.loads(os.environ['HPT_PARAMS'])['mode']\n"
                    "sys.stdout.write(LINES[mode] + '\\n'); sys.stdout.flush()\n"
                    "print(json.dumps({'value': 2}))\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: h, storage: {self.dir}/h.db, sampler: {{type: grid}}, pruner: {{type: none}},
                    max_failures: {len(lines)}}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space: {{mode: [{", ".join(lines)}]}}
            """)
        proc = run_hpt("--config", cfg, "--trials", "1", timeout=120)
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        self.assertNotIn("terminate called", proc.stderr)
        trials = trials_json(f"{self.dir}/h.db")
        self.assertEqual(state_counts(trials), {"FAIL": len(lines)})
        for t in trials:
            self.assertIn(expected[t["params"]["mode"]], t["fail_reason"])
        for verb in (["best"], ["report", "-o", os.path.join(self.dir, "r.html")]):
            self.assertNotIn("terminate", run_hpt(*verb, f"{self.dir}/h.db", timeout=60).stderr)


class NonUtf8OutputTest(TempDirTest):
    def test_bytes_that_are_not_utf8_fail_no_study(self):
        """A worker's stderr, a protocol line and a failure with bytes that are not UTF-8: each
        trial ends as its worker did, the bytes are stored as U+FFFD, and every read works."""
        script = os.path.join(self.dir, "bytes.py")
        with open(script, "w") as f:
            f.write("import json, os, sys\n"
                    "mode = json.loads(os.environ['HPT_PARAMS'])['mode']\n"
                    "sys.stderr.buffer.write(b'bad \\xff\\xfe bytes\\n'); sys.stderr.flush()\n"
                    "sys.stdout.buffer.write(b'{\"value\": 1, \"user_attrs\": {\"a\": \"\\xff\"}}\\n')\n"
                    "sys.stdout.flush()\n"
                    "if mode == 'fail': sys.exit(1)\n"
                    "print(json.dumps({'value': 2}))\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: u, storage: {self.dir}/u.db, sampler: {{type: grid}}, pruner: {{type: none}},
                    max_failures: 2}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space: {{mode: [fail, ok]}}
            """)
        proc = run_hpt("--config", cfg, "--trials", "1", timeout=120)  # FAILs do not count.
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        trials = trials_json(f"{self.dir}/u.db")
        self.assertEqual(state_counts(trials), {"FAIL": 1, "COMPLETE": 1})
        with sqlite3.connect(f"{self.dir}/u.db") as db:
            tails = [json.loads(v) for (v,) in db.execute(
                "SELECT value_json FROM trial_system_attributes WHERE key = 'hpt:stderr_tail'")]
        self.assertEqual(len(tails), 1)  # Kept for the failed trial.
        for tail in tails:
            self.assertIn("bad \ufffd\ufffd bytes", tail)
        for verb in (["best"], ["trials"], ["report", "-o", os.path.join(self.dir, "r.html")]):
            done = run_hpt(*verb, f"{self.dir}/u.db", timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)

    def test_final_line_with_text_that_is_not_utf8_completes(self):
        """A final line that is JSON but whose text is not UTF-8 (a raw byte 0xE9, or Python's
        json.dumps of an os.fsdecode'd name: a lone surrogate escape) COMPLETEs the trial with its
        value; the text is stored with U+FFFD (it used to FAIL as "no final line")."""
        script = os.path.join(self.dir, "attrs.py")
        with open(script, "w") as f:
            f.write("import json, os, sys\n"
                    "if json.loads(os.environ['HPT_PARAMS'])['mode'] == 'raw':\n"
                    "    sys.stdout.buffer.write(b'{\"value\": 0.5, \"user_attrs\": {\"note\": \"caf\\xe9\"}}\\n')\n"
                    "else:\n"
                    "    print(json.dumps({'value': 0.5, 'user_attrs': {'note': os.fsdecode(b'img_\\xff.png')}}))\n")
        cfg = write_config(self.dir, f"""\
            study: {{name: u, storage: {self.dir}/u.db, sampler: {{type: grid}}, pruner: {{type: none}},
                    max_failures: 1}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space: {{mode: [raw, surrogate]}}
            """)
        proc = run_hpt("--config", cfg, "--trials", "2", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        trials = trials_json(f"{self.dir}/u.db")
        self.assertEqual(state_counts(trials), {"COMPLETE": 2}, trials)
        notes = sorted(t["user_attrs"]["note"] for t in trials)
        self.assertEqual(notes, ["caf\ufffd", "img_\ufffd.png"])
        self.assertEqual([t["value"] for t in trials], [0.5, 0.5])


class StudyFolderTest(TempDirTest):
    def test_study_name_never_escapes_trials_dir(self):
        """--study ../../x or an absolute name: logs stay inside trials_dir; a 600-char name is refused."""
        trials_dir = os.path.join(self.dir, "deep", "runs")
        script = "echo log-line; echo '{\"value\": 1}'"
        cfg = config(self.dir, ["/bin/sh", "-c", script], extra=f"trials_dir: {trials_dir}")
        for name in ["../../x", os.path.join(self.dir, "abs")]:
            run_hpt("--config", cfg, "--trials", "1", "--study", name, check=True, timeout=60)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "abs")))
        logs = []
        for root, _, files in os.walk(self.dir):
            logs += [os.path.join(root, f) for f in files if f.endswith(".log")]
        self.assertEqual(len(logs), 2, logs)
        for log in logs:
            self.assertTrue(os.path.realpath(log).startswith(os.path.realpath(trials_dir) + os.sep), log)
        proc = run_hpt("--config", cfg, "--trials", "1", "--study", "n" * 600, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("at most 512", proc.stderr)
        names = [r[0] for r in sqlite3.connect(f"{self.dir}/w.db").execute("SELECT study_name FROM studies")]
        self.assertNotIn("n" * 600, names)

    def test_planted_log_symlink_is_not_followed(self):
        """A symbolic link planted where a trial log goes is never written through."""
        trials_dir = os.path.join(self.dir, "runs")
        os.makedirs(os.path.join(trials_dir, "w"))
        victim = os.path.join(self.dir, "victim.txt")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.symlink(victim, os.path.join(trials_dir, "w", "0.log"))
        cfg = config(self.dir, ["/bin/sh", "-c", "echo to-stderr >&2; echo '{\"value\": 1}'"],
                     extra=f"trials_dir: {trials_dir}")
        run_hpt("--config", cfg, "--trials", "1", check=True, timeout=60)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_trials_folder_blocked_by_a_file(self):
        """A file where the trials folder (or the database's folder) goes: one line naming it, exit 1, no trial run."""
        blocker = os.path.join(self.dir, "runs")
        with open(blocker, "w") as f:
            f.write("precious\n")
        cfg = config(self.dir, ["/bin/sh", "-c", "echo '{\"value\": 1}'"], extra=f"trials_dir: {blocker}")
        proc = run_hpt("--config", cfg, "--trials", "1", timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr.strip(),
                         f"hpt: error: {cfg}:6: study.trials_dir: cannot create '{blocker}/w': '{blocker}' is not a folder")
        with open(blocker) as f:
            self.assertEqual(f.read(), "precious\n")
        proc = run_hpt("--config", cfg, "--trials", "1", "--storage", f"{blocker}/w.db", timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr.strip(), f"hpt: error: --storage: '{blocker}' exists and is not a folder")


class GpuTest(TempDirTest):
    def test_trials_get_their_own_gpus(self):
        """study.gpus: each trial sees its own CUDA_VISIBLE_DEVICES/HPT_GPUS; concurrent trials never share."""
        record = os.path.join(self.dir, "gpus.txt")
        script = (f'echo "$HPT_TRIAL_NUMBER $CUDA_VISIBLE_DEVICES $HPT_GPUS $(date +%s%N)" >> {record}; '
                  f'sleep 0.2; echo "$HPT_TRIAL_NUMBER end $(date +%s%N)" >> {record}; '
                  "echo '{\"value\": 1}'")
        cfg = config(self.dir, ["/bin/sh", "-c", script], extra="gpus: [0, 1, 2]")
        run_hpt("--config", cfg, "--trials", "9", check=True, timeout=60)
        spans = {}
        with open(record) as f:
            for line in f:
                parts = line.split()
                if parts[1] == "end":
                    spans[parts[0]]["end"] = int(parts[2])
                else:
                    self.assertEqual(parts[1], parts[2])
                    spans[parts[0]] = {"gpu": parts[1], "start": int(parts[3])}
        self.assertEqual(len(spans), 9)
        overlapping = 0
        for a, sa in spans.items():
            self.assertIn(sa["gpu"], {"0", "1", "2"})
            for b, sb in spans.items():
                if a < b and sa["start"] < sb["end"] and sb["start"] < sa["end"]:
                    overlapping += 1
                    self.assertNotEqual(sa["gpu"], sb["gpu"])
        self.assertGreater(overlapping, 0)  # jobs defaulted to 3: trials did run at once.

    def test_bad_gpu_settings_are_refused(self):
        """Duplicates, negative ids, gpus_per_trial beyond the list: one-line errors naming the key."""
        for extra, expected in [("gpus: [0, 0]", "listed twice"), ("gpus: [-1]", "study.gpus"),
                                ("gpus: [0]\ngpus_per_trial: 2", "study.gpus_per_trial"),
                                ("gpus_per_trial: 1", "needs study.gpus")]:
            with self.subTest(extra=extra):
                cfg = config(self.dir, ["/bin/true"], extra=extra)
                proc = run_hpt("--config", cfg, "--trials", "1", timeout=20)
                self.assertNotEqual(proc.returncode, 0)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertIn(expected, proc.stderr)


if __name__ == "__main__":
    unittest.main()
