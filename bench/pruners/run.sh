#!/bin/sh
# Compute spent (total steps) and final best value for none / median / successive halving /
# hyperband / patient (patience 5) pruners, hpt and Optuna 3.1 side by side, on bench/pruners/curves.hpp's synthetic
# learning curves (TPE sampler, one trial at a time). Prints a Markdown table.
# Usage: bench/pruners/run.sh [build-dir]   (env: TRIALS=60 SEEDS=30 JOBS=1 for Optuna;
# BENCH_ONLY=decay,crossing and BENCH_PRUNERS=median,patient pick curve families and pruners)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
bin=$build/bench/bench_pruners
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_pruners" >&2; exit 1; }
trials=${TRIALS:-60}
seeds=${SEEDS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" "$trials" "$seeds" > "$tmp/hpt"
/usr/bin/python3 "$here/bench_optuna.py" "$trials" "$seeds" > "$tmp/optuna"
echo "### Pruners: steps spent and best final loss over $trials trials ($seeds seeds, ± standard error)"
echo
echo "| curves | pruner | hpt steps | Optuna 3.1 steps | hpt best loss | Optuna 3.1 best loss |"
echo "|---|---|---|---|---|---|"
# Each side prints 7 tab-separated fields: tag, curves, pruner, steps, SE, best loss, SE.
paste "$tmp/hpt" "$tmp/optuna" |
  awk -F '\t' '{ printf "| %s | %s | %s ± %s | %s ± %s | %s ± %s | %s ± %s |\n", $2, $3, $4, $5, $11, $12, $6, $7, $13, $14 }'
