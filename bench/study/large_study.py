"""Python side of the large-study benchmark (bench/study/large_study.sh), Optuna 3.1.

make DB N               builds DB (removed first if present): one study `s` (minimize) of N
                        COMPLETE trials over lr (float, log, 1e-5..1e-1), x (float, -5..5),
                        units (int, 1..512) and opt (categorical adam/sgd/rmsprop). Optuna
                        creates the schema; the rows go in with sqlite3's executemany (Optuna's
                        own API would take minutes for 20,000 trials). Same seed, same rows.
optuna DB SAMPLER K     times Optuna's ask + tell K times on a copy of DB (the copy is removed
                        after), SAMPLER random (RandomSampler(seed=0)) or tpe
                        (TPESampler(seed=0)); prints the median seconds of one ask + tell.
                        No objective runs: tell stores the value 1.0.
"""
import datetime
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

CHOICES = ["adam", "sgd", "rmsprop"]


def make(db, n):
    if os.path.exists(db):
        os.remove(db)
    optuna.create_study(study_name="s", storage=f"sqlite:///{db}", direction="minimize")
    dists = {
        "lr": {"name": "FloatDistribution",
               "attributes": {"step": None, "low": 1e-5, "high": 1e-1, "log": True}},
        "x": {"name": "FloatDistribution",
              "attributes": {"step": None, "low": -5.0, "high": 5.0, "log": False}},
        "units": {"name": "IntDistribution",
                  "attributes": {"log": False, "step": 1, "low": 1, "high": 512}},
        "opt": {"name": "CategoricalDistribution", "attributes": {"choices": CHOICES}},
    }
    dists = {k: json.dumps(v) for k, v in dists.items()}
    con = sqlite3.connect(db)
    cur = con.cursor()
    sid = cur.execute("select study_id from studies where study_name = 's'").fetchone()[0]
    r = random.Random(0)
    t0 = datetime.datetime(2026, 1, 1)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    trials, params, values = [], [], []
    for i in range(n):
        tid = i + 1
        start = t0 + datetime.timedelta(seconds=10 * i)
        end = start + datetime.timedelta(seconds=5 + 10 * r.random())
        trials.append((tid, i, sid, "COMPLETE", start.strftime(fmt), end.strftime(fmt)))
        lr = math.exp(r.uniform(math.log(1e-5), math.log(1e-1)))
        x = r.uniform(-5.0, 5.0)
        units = r.randint(1, 512)
        opt = r.randrange(len(CHOICES))  # Optuna stores a categorical's index.
        for name, v in (("lr", lr), ("x", x), ("units", units), ("opt", opt)):
            params.append((tid, name, float(v), dists[name]))
        value = (math.log10(lr) + 3) ** 2 + 0.3 * x * x + 0.5 * opt + 0.1 * r.random()
        values.append((tid, 0, value, "FINITE"))
    cur.executemany("insert into trials (trial_id, number, study_id, state, datetime_start,"
                    " datetime_complete) values (?, ?, ?, ?, ?, ?)", trials)
    cur.executemany("insert into trial_params (trial_id, param_name, param_value,"
                    " distribution_json) values (?, ?, ?, ?)", params)
    cur.executemany("insert into trial_values (trial_id, objective, value, value_type)"
                    " values (?, ?, ?, ?)", values)
    con.commit()
    con.close()


def ask_tell(db, sampler_name, k):
    samplers = {"random": lambda: optuna.samplers.RandomSampler(seed=0),
                "tpe": lambda: optuna.samplers.TPESampler(seed=0)}
    if sampler_name not in samplers or k < 1:
        sys.exit(f"large_study.py optuna: SAMPLER is random or tpe, K >= 1 (got {sampler_name} {k})")
    dist = {"lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
            "x": optuna.distributions.FloatDistribution(-5.0, 5.0),
            "units": optuna.distributions.IntDistribution(1, 512),
            "opt": optuna.distributions.CategoricalDistribution(CHOICES)}
    work = tempfile.mkdtemp()
    try:
        copy = os.path.join(work, "copy.db")
        shutil.copy(db, copy)
        study = optuna.load_study(study_name="s", storage=f"sqlite:///{copy}",
                                  sampler=samplers[sampler_name]())
        times = []
        for _ in range(k):
            start = time.perf_counter()
            trial = study.ask(dist)
            study.tell(trial, 1.0)
            times.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(work)
    print(f"{statistics.median(times):.6f}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "optuna":
        ask_tell(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("usage: large_study.py make DB N | optuna DB SAMPLER K")


main()
