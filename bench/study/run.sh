#!/bin/sh
# Whole-study wall time: a TRIALS-trial TPE study (default 1,000) of a trivial objective with
# SQLite storage, hpt (each trial a worker process) vs Optuna 3.1 (in-process objective).
# Usage: bench/study/run.sh [build-dir]   (env: TRIALS=1000)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
hpt=$build/app/hpt
[ -x "$hpt" ] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
trials=${TRIALS:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/trivial_study.sh"
trivial_study_yaml "$tmp/hpt.db" > "$tmp/study.yaml"
# Wall seconds of one hpt study with J jobs.
hpt_study() {
  rm -f "$tmp"/hpt.db*
  start=$(date +%s.%N)
  "$hpt" --config "$tmp/study.yaml" --trials "$trials" --jobs "$1" > "$tmp/hpt.log"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
hpt1=$(hpt_study 1)
hpt2=$(hpt_study 2)
optuna_s=$(/usr/bin/python3 "$here/optuna_study.py" "$trials" "$tmp/optuna.db")
echo "### $trials-trial TPE study, trivial objective, SQLite storage (wall seconds)"
echo
echo "| | wall s | Optuna 3.1 / this |"
echo "|---|---|---|"
printf "| Optuna 3.1, n_jobs 1 (objective in-process) | %s | 1.0× |\n" "$optuna_s"
printf "| hpt, jobs 1 (a worker process per trial) | %.2f | %.1f× |\n" "$hpt1" "$(echo "$optuna_s / $hpt1" | bc -l)"
printf "| hpt, jobs 2 | %.2f | %.1f× |\n" "$hpt2" "$(echo "$optuna_s / $hpt2" | bc -l)"
