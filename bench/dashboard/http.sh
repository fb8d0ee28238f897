#!/bin/sh
# Dashboard answers over HTTP as a browser asks for them (Accept-Encoding: gzip, deflate, br) and
# as a script does (no Accept-Encoding): wall time and bytes of a study of N trials' full trials
# list and plots, medians of RUNS requests, from hpt and (BASELINE=<another hpt>) a baseline.
# The study is made with Optuna 3.1 (random values, 3 parameters, 10 steps a trial).
# Usage: bench/dashboard/http.sh [BUILD_DIR]   (env: N=5000, RUNS=5, BASELINE=)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
[ -x "$build/app/hpt" ] || { echo "missing: cmake --build $build --target hpt" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/study.db" "${N:-5000}" <<'PY'
import random, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
random.seed(0)
dist = {"x": optuna.distributions.FloatDistribution(-10, 10),
        "lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "opt": optuna.distributions.CategoricalDistribution(["adam", "sgd", "rmsprop"])}
study = optuna.create_study(study_name="big", storage=f"sqlite:///{sys.argv[1]}")
trials = []
for i in range(int(sys.argv[2])):
    params = {"x": random.uniform(-10, 10), "lr": 10 ** random.uniform(-5, -1),
              "opt": random.choice(["adam", "sgd", "rmsprop"])}
    value = params["x"] ** 2 + random.random()
    trials.append(optuna.trial.create_trial(
        params=params, distributions=dist, value=value,
        intermediate_values={s: value + 1.0 / (s + 1) for s in range(10)}))
study.add_trials(trials)
PY
/usr/bin/python3 - "$tmp/study.db" "${RUNS:-5}" "$build/app/hpt" ${BASELINE:-} <<'PY'
import json, re, statistics, subprocess, sys, time, urllib.request
db, runs, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
browser = {"Accept-Encoding": "gzip, deflate, br"}
rows = []
for label, hpt in zip(["hpt", "baseline"], binaries):
    dash = subprocess.Popen([hpt, "dashboard", db, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    url = re.search(r"http://\S+/", dash.stdout.readline()).group(0)
    def get(path, headers):
        request = urllib.request.Request(url + path, headers=headers)
        start = time.perf_counter()
        with urllib.request.urlopen(request) as r:
            body = r.read()
            encoding = r.headers.get("Content-Encoding", "none")
        return time.perf_counter() - start, len(body), encoding
    while json.load(urllib.request.urlopen(url + "api/studies/1/plots"))["pending"]:
        time.sleep(0.2)  # The first drawing (with importances) is done: what follows is served.
    for path in ["api/studies/1/trials", "api/studies/1/plots"]:
        for name, headers in [("browser", browser), ("script", {})]:
            got = [get(path, headers) for _ in range(runs)]
            rows.append((label, path, name, 1000 * statistics.median(g[0] for g in got),
                         got[-1][1], got[-1][2]))
    dash.send_signal(2)
    dash.wait(timeout=30)
print(f"### Dashboard answers over HTTP (median of {runs} requests)\n")
print("| hpt | answer | client | ms | bytes sent | encoding |")
print("|---|---|---|---|---|---|")
for label, path, name, ms, size, encoding in rows:
    print(f"| {label} | {path.split('/')[-1]} | {name} | {ms:.0f} | {size:,} | {encoding} |")
PY
