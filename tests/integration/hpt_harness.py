"""Helpers for hpt's integration tests: run the hpt binary on temporary studies."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import textwrap
import unittest

HPT = os.environ.get("HPT_BIN", "hpt")
HERE = os.path.dirname(os.path.abspath(__file__))
OBJECTIVES = os.path.join(HERE, "objectives")
PYTHON = "/usr/bin/python3"


def write_config(directory, body, name="hpt_config.yaml"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(body))
    return path


def private_objective(directory, objective="quadratic.py"):
    """A copy of an objective script inside directory, so that process checks (pgrep -f) see only
    this test's workers even when other suites run the same script in parallel."""
    path = os.path.join(directory, objective)
    shutil.copyfile(os.path.join(OBJECTIVES, objective), path)
    return path


def quadratic_config(directory, db="study.db", seed=0, jobs=1, pruner="none", extra_study="", sampler="tpe",
                     timeout=None, objective="quadratic.py", objective_path=None):
    timeout_line = f"\n  timeout: {timeout}" if timeout else ""
    objective_path = objective_path or os.path.join(OBJECTIVES, objective)
    return write_config(directory, f"""\
        study:
          name: quad
          direction: minimize
          seed: {seed}
          jobs: {jobs}
          storage: {os.path.join(directory, db)}
          sampler: {{type: {sampler}, n_startup_trials: 4}}
          pruner: {{type: {pruner}}}
        {textwrap.indent(extra_study, '  ') if extra_study else ''}
        objective:
          command: [{PYTHON}, {objective_path}]{timeout_line}
        search_space:
          x: {{type: float, low: -3, high: 3}}
          y: {{type: float, low: 0.01, high: 10, log: true}}
          kind: {{type: categorical, choices: [a, b]}}
        """)


def qmc_config(directory, db="study.db"):
    """quadratic_config with Optuna's QMCSampler defaults: `sampler: {type: qmc}` (unscrambled
    Sobol', no startup trials)."""
    cfg = quadratic_config(directory, db=db, sampler="qmc")
    with open(cfg) as f:
        text = f.read().replace("{type: qmc, n_startup_trials: 4}", "{type: qmc}")
    with open(cfg, "w") as f:
        f.write(text)
    return cfg


def run_hpt(*args, env=None, timeout=600, check=False):
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run([HPT, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"hpt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_bounded(*args, seconds=120, env=None):
    """hpt under `timeout -k`: a runaway or a hang fails the test instead of blocking it."""
    return subprocess.run(["timeout", "-k", "5", str(seconds), HPT, *args], capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})))


def trials_json(db, study=None):
    args = ["trials", db, "--format", "json"]
    if study:
        args += ["--study", study]
    return json.loads(run_hpt(*args, check=True).stdout)


def state_counts(trials):
    counts = {}
    for t in trials:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    return counts


def integrity_ok(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="hpt_it_")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


def two_objective_config(folder, sampler="{type: tpe, n_startup_trials: 4}", extra=""):
    """Study `mo` in folder/study.db: objectives/two_objectives.py, [minimize, maximize]."""
    return write_config(folder, f"""\
            study:
              name: mo
              directions: [minimize, maximize]
              seed: 3
              storage: {folder}/study.db
              sampler: {sampler}
            {extra}
            objective:
              command: [{PYTHON}, {os.path.join(OBJECTIVES, "two_objectives.py")}]
            search_space:
              x: {{type: float, low: -3, high: 3}}
              y: {{type: float, low: 0.01, high: 10, log: true}}
              kind: {{type: categorical, choices: [a, b]}}
            """)
