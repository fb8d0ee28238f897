#!/bin/sh
# Constrained search after TRIALS trials, hpt against Optuna 3.1 with constraints_func, SEEDS
# seeds each, mean ± standard error, as a Markdown table: the best feasible value (one
# objective, lower is better) or the feasible trials' hypervolume (Binh and Korn, higher is
# better), and the share of trials that were feasible. A seed without any feasible trial is
# left out of the mean and counted in the last column.
# Usage: bench/constraints/run.sh [build-dir]   (env: TRIALS=100 SEEDS=20 JOBS=k Optuna processes)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
bin=$build/bench/bench_constraints
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_constraints" >&2; exit 1; }
trials=${TRIALS:-100}
seeds=${SEEDS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" "$trials" "$seeds" > "$tmp/hpt"
/usr/bin/python3 "$here/bench_optuna.py" "$trials" "$seeds" > "$tmp/optuna"

echo "### Constrained search after $trials trials ($seeds seeds, mean ± standard error)"
echo
echo "| problem | sampler | hpt | Optuna 3.1 | hpt - Optuna in standard errors | feasible share (hpt / Optuna) | seeds without a feasible trial (hpt / Optuna) |"
echo "|---|---|---|---|---|---|---|"
# Each hpt line against Optuna's line for the same problem and sampler (hpt's tpe variants
# both against Optuna's default TPESampler).
awk -F '\t' 'NR == FNR { optuna[$1 "\t" $2] = $0; next }
  { split(optuna[$1 "\t" $7], o, "\t"); se = sqrt($4 * $4 + o[4] * o[4]);
    z = se > 0 ? ($3 - o[3]) / se : 0;
    printf "| %s | %s | %s ± %s | %s ± %s | %+.1f | %s / %s | %s / %s |\n",
      $1, $2, $3, $4, o[3], o[4], z, $5, o[5], $6, o[6] }' \
  "$tmp/optuna" "$tmp/hpt"
