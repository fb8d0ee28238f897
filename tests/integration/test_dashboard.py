"""`hpt dashboard` end to end: a real browser (Debian's chromium driven by puppeteer-core from
npm, see scripts/test.sh) watches a study that another hpt process is running."""
import json
import os
import re
import shutil
import subprocess
import textwrap
import time
import unittest

from hpt_harness import (HPT, HERE, OBJECTIVES, PYTHON, TempDirTest, file_digest, quadratic_config, run_hpt,
                         trials_json, two_objective_config, write_config)

NODE_PATH = os.environ.get("HPT_NODE_PATH",
                           os.path.join(os.path.dirname(os.path.dirname(HERE)), ".npm-test", "node_modules"))
REQUIRED = os.environ.get("HPT_REQUIRE_BROWSER_TEST") == "1"


def browser_missing():
    """Why the browser test cannot run here, or None."""
    if not shutil.which("node"):
        return "node not found"
    if not os.path.isdir(os.path.join(NODE_PATH, "puppeteer-core")):
        return f"puppeteer-core not in {NODE_PATH} (scripts/test.sh installs it)"
    if not os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium not found"
    return None


def browser_page(url, directory, mode="--page"):
    """dashboard_browser.js --page: what headless Chromium saw on a multi-objective page (a
    dashboard study page or a report's file:// URL); with mode "--trial", on a dashboard trial
    page. Raises AssertionError on a failure."""
    proc = subprocess.run(["timeout", "-k", "5", "120", "node", os.path.join(HERE, "dashboard_browser.js"),
                           mode, url, os.path.join(directory, "profile")],
                          capture_output=True, text=True, env=dict(os.environ, NODE_PATH=NODE_PATH))
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"no result from the browser: {proc.stderr[-2000:]}")
    result = json.loads(lines[-1])["result"]
    if proc.returncode != 0:
        raise AssertionError(f"{result}\n{proc.stderr[-2000:]}")
    return result


class Dashboard:
    """`hpt dashboard DB --port 0` under timeout -k, stopped (SIGINT) on exit."""

    def __init__(self, db, *extra, limit=300):
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(limit), HPT, "dashboard", db, "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"no dashboard address in {line!r}: {self.proc.stderr.read()}")
        self.url = f"http://127.0.0.1:{match.group(1)}/"

    def stop(self):
        """Ctrl-C; returns (exit code, stdout rest, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(subprocess.signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


def dashboard_page(db, directory):
    """browser_page of study 1's page in `hpt dashboard db`; (result, the dashboard's exit code
    on Ctrl-C, its stderr)."""
    dash = Dashboard(db)
    try:
        result = browser_page(dash.url + "studies/1", directory)
    finally:
        code, _, err = dash.stop()
    return result, code, err


def best_value(trials):
    values = [t["value"] for t in trials if t["state"] == "COMPLETE" and t["value"] is not None]
    return min(values) if values else None


class DashboardCliTest(TempDirTest):
    def test_bad_inputs_are_one_line_errors(self):
        # A missing database, an unknown study, a bad port: one line, non-zero, nothing created.
        missing = os.path.join(self.dir, "missing.db")
        for args, needle in [([missing], "missing.db"), ([missing, "--port", "70000"], "70000"),
                             ([missing, "--port", "x"], "port")]:
            proc = run_hpt("dashboard", *args, timeout=30)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(needle, proc.stderr)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertFalse(os.path.exists(missing))
        config = quadratic_config(self.dir)
        run_hpt("--config", config, "--trials", "2", check=True)
        proc = run_hpt("dashboard", os.path.join(self.dir, "study.db"), "--study", "nope", timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("quad", proc.stderr)

    def test_serves_read_only_and_stops_on_ctrl_c(self):
        config = quadratic_config(self.dir)
        run_hpt("--config", config, "--trials", "3", check=True)
        db = os.path.join(self.dir, "study.db")
        before = file_digest(db)
        dash = Dashboard(db)
        import urllib.request
        with urllib.request.urlopen(dash.url + "api/studies", timeout=10) as r:
            studies = json.load(r)["studies"]
        self.assertEqual([s["name"] for s in studies], ["quad"])
        self.assertEqual(studies[0]["n_trials"], 3)
        with urllib.request.urlopen(dash.url + f"api/studies/{studies[0]['id']}/trials/0", timeout=10) as r:
            trial = json.load(r)
        self.assertEqual(trial["state"], "COMPLETE")
        self.assertIn("a log line that is not protocol", trial["log_tail"])
        code, out, err = dash.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("stopped", out)
        self.assertEqual(file_digest(db), before)

    def test_a_signal_as_soon_as_it_listens_stops_it(self):
        """SIGTERM the moment the address is printed: the dashboard stops every time. httplib's
        stop() does nothing before its listen loop starts, so such a signal was lost and the
        server ran on, deaf to a second one (4 runs in 40; sanitizer audit)."""
        config = quadratic_config(self.dir)
        run_hpt("--config", config, "--trials", "1", check=True)
        db = os.path.join(self.dir, "study.db")
        for _ in range(30):
            proc = subprocess.Popen([HPT, "dashboard", db, "--port", "0"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            self.addCleanup(proc.kill)
            proc.stdout.readline()
            proc.send_signal(subprocess.signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.fail("the dashboard did not stop on a SIGTERM sent as it started listening")
            proc.communicate()
            self.assertEqual(proc.returncode, 0)  # Stopped, as by Ctrl-C.

    def test_public_host_warns(self):
        config = quadratic_config(self.dir)
        run_hpt("--config", config, "--trials", "1", check=True)
        proc = subprocess.Popen(["timeout", "-k", "5", "60", HPT, "dashboard", os.path.join(self.dir, "study.db"),
                                 "--host", "0.0.0.0", "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()
        proc.send_signal(subprocess.signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        self.assertIn("http://0.0.0.0:", first)
        self.assertIn("warning", err)
        self.assertIn("SSH tunnel", err)
        # An address it cannot listen on: the one error line, no warning about listening there.
        proc = run_hpt("dashboard", os.path.join(self.dir, "study.db"), "--host", "999.1.1.1",
                       "--port", "0", timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr.strip(), "hpt: error: cannot listen on 999.1.1.1:0 (address in "
                         "use, not an address of this machine, or not allowed)")


class DashboardBrowserTest(TempDirTest):
    def setUp(self):
        reason = browser_missing()
        if reason:
            if REQUIRED:
                self.fail(reason)
            self.skipTest(reason)
        super().setUp()

    def test_page_follows_a_running_study(self):
        config = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        run_hpt("--config", config, "--trials", "1", check=True)
        dash = Dashboard(db)
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        node = subprocess.Popen(
            ["timeout", "-k", "5", "240", "node", os.path.join(HERE, "dashboard_browser.js"), dash.url, "1",
             os.path.join(self.dir, "profile")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            ready = json.loads(node.stdout.readline() or "{}")
            self.assertIn("ready", ready, node.stderr.read() if node.poll() is not None else "")
            self.assertEqual(ready["ready"]["trials"], 1)
            # The study goes on in another process while the page is open.
            run_hpt("--config", config, "--trials", "12", env={"OBJ_SLEEP": "0.1"}, check=True, timeout=300)
            trials = trials_json(db)
            node.stdin.write(json.dumps({"trials": len(trials), "best": best_value(trials)}) + "\n")
            node.stdin.flush()
            out, err = node.communicate(timeout=200)
        finally:
            if node.poll() is None:
                node.kill()
            code, _, dash_err = dash.stop()
        result = json.loads(out.strip().splitlines()[-1])["result"] if out.strip() else {}
        self.assertEqual(node.returncode, 0, f"{result}\n{err}")
        self.assertEqual(result["errors"], [])
        self.assertEqual(result["studies"], 1)
        # Counts and best values seen on the open page, in order: they changed without a reload.
        self.assertGreaterEqual(len(result["counts"]), 3, result)
        self.assertEqual(result["counts"][-1], len(trials))
        self.assertEqual(result["counts"], sorted(result["counts"]))
        self.assertGreaterEqual(len(result["bests"]), 2, result)
        self.assertGreater(result["plot_groups"], 5)
        self.assertGreater(result["selected_marks"], 1, "a selected trial is marked in several plots")
        self.assertEqual(result["selected_rows"], 1)
        self.assertEqual(result["timeline_selected"], 1, result)
        self.assertEqual(result["timeline_click"], {"bars": 1, "rows": 1}, result)
        # The counts, a table row and the best trial's link outlive polls that change nothing.
        self.assertEqual(result["kept_nodes"], [True, True, True], result)
        self.assertIn("Trial #", result["trial_title"])
        self.assertEqual(code, 0, dash_err)

    def test_running_trial_page_keeps_the_readers_place(self):
        """A running trial's page shows its log as the log grows (its path is in the database
        from its first line; it was recorded when the trial ended) and refreshes without
        closing the steps the reader opened or moving the log they scrolled up; the log shows
        its end at first."""
        config = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        # A trial of 2 minutes, interrupted once the page was read: it must still run then.
        study = subprocess.Popen(["timeout", "-k", "5", "300", HPT, "--config", config, "--trials", "1"],
                                 env=dict(os.environ, OBJ_SLEEP="0.2", OBJ_STEPS="600", OBJ_LOG="3"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        dash = None
        try:
            for _ in range(300):
                if os.path.exists(db) and run_hpt("trials", db, "--format", "json").returncode == 0:
                    break
                time.sleep(0.1)
            dash = Dashboard(db)
            result = browser_page(dash.url + "studies/1/trials/0", self.dir, mode="--follow")
        finally:
            study.send_signal(subprocess.signal.SIGINT)
            _, study_err = study.communicate(timeout=60)
            if dash:
                dash.stop()
        self.assertEqual(result["errors"], [])
        self.assertTrue(result["log_at_end"], result)
        self.assertTrue(result["refreshed"], result)
        self.assertTrue(result["details_open"], result)
        self.assertEqual(result["log_top"], 10, result)
        self.assertEqual(study.returncode, 130, study_err)  # Interrupted while its trial ran.

    def test_a_deleted_studys_page_says_it_is_gone_and_stops_asking(self):
        """A study deleted while its page is open: the page says it is gone, keeps what it last
        showed, and stops polling (it said "disconnected; retrying" and asked forever)."""
        config = quadratic_config(self.dir)
        db = os.path.join(self.dir, "study.db")
        run_hpt("--config", config, "--trials", "3", check=True)
        dash = Dashboard(db)
        node = subprocess.Popen(
            ["timeout", "-k", "5", "120", "node", os.path.join(HERE, "dashboard_browser.js"), "--gone",
             dash.url + "studies/1", os.path.join(self.dir, "profile")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, NODE_PATH=NODE_PATH))
        try:
            ready = json.loads(node.stdout.readline() or "{}")
            self.assertIn("ready", ready, node.stderr.read() if node.poll() is not None else "")
            run_hpt("delete-study", db, "--study", "quad", check=True)
            node.stdin.write("{\"deleted\": true}\n")
            node.stdin.flush()
            out, err = node.communicate(timeout=100)
        finally:
            if node.poll() is None:
                node.kill()
            dash.stop()
        result = json.loads(out.strip().splitlines()[-1])["result"] if out.strip() else {}
        self.assertEqual(node.returncode, 0, f"{result}\n{err}")
        self.assertEqual(result["errors"], [])
        self.assertIn("gone: no study with id 1", result["live"])
        self.assertEqual(result["trials_shown"], 3)
        self.assertEqual(result["requests_after"], [])

    def test_multi_objective_study_page(self):
        """A multi-objective study's page (hpt's MOTPE study of two_objectives.py): no console
        error, the Pareto plot marks the trials `hpt best` lists, the trials table has one
        column per objective and a Pareto column, and one importance chart per objective."""
        db = os.path.join(self.dir, "study.db")  # two_objective_config's database.
        config = two_objective_config(self.dir)
        run_hpt("--config", config, "--trials", "14", check=True)
        best = run_hpt("best", db, "--format", "json", check=True)
        front = sorted(t["number"] for t in json.loads(best.stdout))
        result, code, dash_err = dashboard_page(db, self.dir)
        self.assertEqual(result["errors"], [])
        self.assertEqual(sorted(int(n) for n in result["front"].split(",")), front)
        self.assertEqual(result["front_marks"], len(front))
        self.assertEqual(result["pareto_cells"], len(front))
        self.assertIn("objective 0", result["headers"])
        self.assertIn("Pareto", result["headers"])
        self.assertEqual(result["importance_charts"], 2)
        self.assertEqual(code, 0, dash_err)

    def test_table_filters_on_prototype_named_parameters(self):
        """Parameters named `__proto__` and `constructor` (legal in Optuna and hpt) filter the
        report's trials table like any other, and typing into their filters never writes to
        Object.prototype (it used to: a min on `__proto__` emptied every other filter). A trial
        of value -inf shows it."""
        db = os.path.join(self.dir, "proto.db")
        make = textwrap.dedent(f"""
            import optuna
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            study = optuna.create_study(study_name="proto", storage="sqlite:///{db}")
            for i in range(5):
                study.add_trial(optuna.trial.create_trial(
                    params={{"__proto__": i, "constructor": "ab"[i % 2], "opt": [None, "x"][i % 2]}},
                    distributions={{"__proto__": optuna.distributions.IntDistribution(0, 4),
                                   "constructor": optuna.distributions.CategoricalDistribution(["a", "b"]),
                                   "opt": optuna.distributions.CategoricalDistribution([None, "x"])}},
                    value=float(i) if i else float("-inf"), user_attrs={{"note": None}} if i == 0 else {{}}))
            """)
        made = subprocess.run([PYTHON, "-c", make], capture_output=True, text=True, timeout=120)
        if made.returncode != 0 and "No module named 'optuna'" in made.stderr:
            self.skipTest("python3-optuna not installed")
        self.assertEqual(made.returncode, 0, made.stderr)
        html = os.path.join(self.dir, "proto.html")
        run_hpt("report", db, "-o", html, check=True)
        proc = subprocess.run(
            ["timeout", "-k", "5", "120", "node", os.path.join(HERE, "report_filters.js"), "file://" + html,
             os.path.join(self.dir, "profile")],
            capture_output=True, text=True, env=dict(os.environ, NODE_PATH=NODE_PATH))
        lines = proc.stdout.strip().splitlines()
        self.assertTrue(lines, proc.stderr[-2000:])
        result = json.loads(lines[-1])["result"]
        self.assertEqual(proc.returncode, 0, f"{result}\n{proc.stderr[-2000:]}")
        self.assertEqual(result["rows"], {"all": 5, "proto_min_2": 3, "constructor_b": 2, "cleared": 5})
        # A value of -inf reaches the page as a number and its row shows it (it was null: blank).
        self.assertEqual(result["value0"], "-Infinity")
        self.assertEqual(result["infinity_rows"], 1)
        # A choice of None shows as null (it was an empty cell, as if the trial had no value);
        # the table has no column for a null user attribute.
        self.assertEqual(result["null_cells"], 3)
        self.assertEqual(result["polluted"], [])
        # The dashboard's trial page shows a None choice and a null user attribute as null.
        dash = Dashboard(db)
        try:
            trial = browser_page(dash.url + "studies/1/trials/0", self.dir, mode="--trial")
        finally:
            dash.stop()
        self.assertEqual(trial["errors"], [])
        params = trial["tables"][1]
        self.assertEqual(params, {"__proto__": "0", "constructor": "a", "opt": "null"})
        self.assertEqual(trial["tables"][2], {"note": "null"})


if __name__ == "__main__":
    unittest.main()
