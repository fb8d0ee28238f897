#!/bin/sh
# Hypervolume after TRIALS trials (higher is better) on ZDT1, ZDT2 and DTLZ2: hpt's MOTPE
# (default tpe sampler) and NSGA-II against Optuna 3.1's TPESampler (MOTPE) and NSGAIISampler,
# SEEDS seeds each, mean ± standard error, as a Markdown table.
# Usage: bench/multiobj/run.sh [build-dir]   (env: TRIALS=100 SEEDS=30 JOBS=k Optuna processes,
# BENCH_ONLY=tpe or nsga2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
bin=$build/bench/bench_multiobj
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_multiobj" >&2; exit 1; }
trials=${TRIALS:-100}
seeds=${SEEDS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" "$trials" "$seeds" > "$tmp/hpt"
/usr/bin/python3 "$here/bench_optuna.py" "$trials" "$seeds" > "$tmp/optuna"

echo "### Hypervolume after $trials trials ($seeds seeds, mean ± standard error; higher is better)"
echo
echo "| problem | sampler | hpt | Optuna 3.1 | hpt - Optuna in standard errors |"
echo "|---|---|---|---|---|"
paste "$tmp/hpt" "$tmp/optuna" |
  awk -F '\t' '{ se = sqrt($4 * $4 + $8 * $8); z = se > 0 ? ($3 - $7) / se : 0;
    name = $2 == "tpe" ? "MOTPE (tpe)" : "NSGA-II";
    printf "| %s | %s | %s ± %s | %s ± %s | %+.1f |\n", $1, name, $3, $4, $7, $8, z }'
