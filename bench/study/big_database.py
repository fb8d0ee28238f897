"""Python side of the big-database benchmark (bench/study/big_database.sh), Optuna 3.1.

studies DB S T      builds DB (removed first if present): S studies st00000.. (minimize), each
                    of T COMPLETE trials over lr (float, log, 1e-5..1e-1), x (float, -5..5),
                    units (int, 1..512) and opt (categorical adam/sgd/rmsprop).
cat DB N C          builds DB (removed first if present): one study `s` (minimize) of N
                    COMPLETE trials over lr (float, log), x (float) and opt (categorical of C
                    choices c00000..).
summaries DB S      times optuna.get_all_study_summaries on DB (checks it lists S studies);
                    prints the seconds.
load DB N           times optuna.load_study("s", DB).trials (checks it holds N trials); prints
                    the seconds.
Optuna creates the schema (and the first study); the rest goes in with sqlite3's executemany
(Optuna's own API would take minutes: ~30 ms a create_study). Seeds and timestamps are fixed:
same arguments, same rows.
"""
import datetime
import json
import math
import os
import random
import sqlite3
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

T0 = datetime.datetime(2026, 1, 1)
FMT = "%Y-%m-%d %H:%M:%S.%f"


def fdist(low, high, log=False):
    return json.dumps({"name": "FloatDistribution",
                       "attributes": {"step": None, "low": low, "high": high, "log": log}})


def idist(low, high):
    return json.dumps({"name": "IntDistribution",
                       "attributes": {"log": False, "step": 1, "low": low, "high": high}})


def cdist(choices):
    return json.dumps({"name": "CategoricalDistribution", "attributes": {"choices": choices}})


def params(choices, units):
    """[(name, distribution JSON, draw(r) -> stored float)]; a categorical stores its index."""
    ps = [("lr", fdist(1e-5, 1e-1, True),
           lambda r: math.exp(r.uniform(math.log(1e-5), math.log(1e-1)))),
          ("x", fdist(-5.0, 5.0), lambda r: r.uniform(-5.0, 5.0))]
    if units:
        ps.append(("units", idist(1, 512), lambda r: r.randint(1, 512)))
    ps.append(("opt", cdist(choices), lambda r: r.randrange(len(choices))))
    return ps


def make(db, names, n, ps):
    """One study per name (minimize), each of n COMPLETE trials over ps."""
    if os.path.exists(db):
        os.remove(db)
    optuna.create_study(study_name=names[0], storage=f"sqlite:///{db}", direction="minimize")
    con = sqlite3.connect(db)
    cur = con.cursor()
    first = cur.execute("select study_id from studies where study_name = ?",
                        (names[0],)).fetchone()[0]
    cur.executemany("insert into studies (study_id, study_name) values (?, ?)",
                    [(first + k, name) for k, name in enumerate(names) if k > 0])
    cur.executemany("insert into study_directions (direction, study_id, objective)"
                    " values ('MINIMIZE', ?, 0)",
                    [(first + k,) for k in range(1, len(names))])
    tid = 1
    for k in range(len(names)):
        sid = first + k
        r = random.Random(k)
        t0 = T0 + datetime.timedelta(hours=k)
        trials, tparams, values = [], [], []
        for i in range(n):
            start = t0 + datetime.timedelta(seconds=10 * i)
            end = start + datetime.timedelta(seconds=5 + 10 * r.random())
            trials.append((tid, i, sid, "COMPLETE", start.strftime(FMT), end.strftime(FMT)))
            drawn = {}
            for name, dist, draw in ps:
                drawn[name] = draw(r)
                tparams.append((tid, name, float(drawn[name]), dist))
            value = ((math.log10(drawn["lr"]) + 3) ** 2 + 0.3 * drawn["x"] ** 2
                     + 0.5 * (drawn["opt"] % 3) + 0.1 * r.random())
            values.append((tid, 0, value, "FINITE"))
            tid += 1
        cur.executemany("insert into trials (trial_id, number, study_id, state, datetime_start,"
                        " datetime_complete) values (?, ?, ?, ?, ?, ?)", trials)
        cur.executemany("insert into trial_params (trial_id, param_name, param_value,"
                        " distribution_json) values (?, ?, ?, ?)", tparams)
        cur.executemany("insert into trial_values (trial_id, objective, value, value_type)"
                        " values (?, ?, ?, ?)", values)
    con.commit()
    con.close()


def summaries(db, s):
    start = time.perf_counter()
    got = optuna.get_all_study_summaries(f"sqlite:///{db}")
    seconds = time.perf_counter() - start
    if len(got) != s:
        sys.exit(f"big_database.py summaries: {len(got)} studies, not {s}")
    print(f"{seconds:.3f}")


def load(db, n):
    start = time.perf_counter()
    trials = optuna.load_study(study_name="s", storage=f"sqlite:///{db}").trials
    seconds = time.perf_counter() - start
    if len(trials) != n:
        sys.exit(f"big_database.py load: {len(trials)} trials, not {n}")
    print(f"{seconds:.3f}")


def main():
    args = sys.argv[1:]
    try:
        nums = [int(a) for a in args[2:]]
    except ValueError:
        nums = []
    if len(args) == 4 and args[0] == "studies" and len(nums) == 2 and min(nums) >= 1:
        s, t = nums
        make(args[1], ["st%05d" % k for k in range(s)], t,
             params(["adam", "sgd", "rmsprop"], units=True))
    elif len(args) == 4 and args[0] == "cat" and len(nums) == 2 and min(nums) >= 1:
        n, c = nums
        make(args[1], ["s"], n, params(["c%05d" % i for i in range(c)], units=False))
    elif len(args) == 3 and args[0] == "summaries" and len(nums) == 1:
        summaries(args[1], nums[0])
    elif len(args) == 3 and args[0] == "load" and len(nums) == 1:
        load(args[1], nums[0])
    else:
        sys.exit("usage: big_database.py studies DB S T | cat DB N C | summaries DB S"
                 " | load DB N   (S, T, N, C >= 1)")


main()
