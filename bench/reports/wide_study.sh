#!/bin/sh
# A wide study's report: Debian's Optuna 3.1 writes PARAMS float parameters x TRIALS trials
# (random sampler, seed 0; the value is their sum), then `hpt report` renders it, timed by
# /usr/bin/time. Prints the report's size, time and peak memory, and the plots' notes.
# Usage: bench/reports/wide_study.sh [HPT_BINARY] [PARAMS] [TRIALS]  (default build/app/hpt 1000 50)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
hpt=${1:-$here/../../build/app/hpt}
params=${2:-1000}
trials=${3:-50}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out/wide.db" "$params" "$trials" <<'PY'
import sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
db, params, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
study = optuna.create_study(study_name="wide", storage=f"sqlite:///{db}",
                            sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(lambda t: sum(t.suggest_float(f"p{i}", 0, 1) for i in range(params)), n_trials=trials)
PY
/usr/bin/time -f "%e %M" -o "$out/time" "$hpt" report "$out/wide.db" -o "$out/report.html" 2> /dev/null
read -r seconds kb < "$out/time"
printf '| %s params x %s trials | report %.1f MB | %s s | peak %d MB |\n' "$params" "$trials" \
  "$(python3 -c "print($(stat -c %s "$out/report.html") / 1e6)")" "$seconds" "$((kb / 1024))"
grep -o 'Showing the [0-9]* most important of the [0-9]* parameters\.' "$out/report.html" | sort | uniq -c
