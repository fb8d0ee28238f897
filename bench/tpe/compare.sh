#!/bin/sh
# Compares one of hpt's samplers with Optuna 3.1's and prints Markdown tables: mean best-value
# regret after TRIALS trials over SEEDS seeds (bench/tpe's objectives), and CPU ms per trial of a
# whole study on the 5-d sphere. SAMPLER: cmaes (Optuna's CmaEsSampler), qmc (QMCSampler),
# random (RandomSampler), or gp (against Optuna's TPESampler: Optuna 3.1 has no GPSampler), each
# with seed = the seed and default options.
# Usage: SAMPLER=cmaes bench/tpe/compare.sh [build-dir]   (env: TRIALS=100 SEEDS=30
# SIZES="100 1000"; JOBS=k Optuna processes; HPT_OPTIONS='{}' hpt's options; BENCH_ONLY=a,b)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
default_seeds=30
default_sizes="100 1000"
. "$here/common.sh"
sampler=${SAMPLER:-cmaes}
optuna_sampler=$sampler
case $sampler in
  cmaes) optuna=CmaEsSampler ;;
  qmc) optuna=QMCSampler ;;
  random) optuna=RandomSampler ;;
  gp) optuna=TPESampler; optuna_sampler=tpe ;;
  *) echo "SAMPLER must be cmaes, qmc, random or gp, not '$sampler'" >&2; exit 2 ;;
esac

"$bin" regret "$trials" "$seeds" "$options" "$sampler" > "$tmp/hpt_regret"
SAMPLER=$optuna_sampler /usr/bin/python3 "$here/bench_optuna.py" regret "$trials" "$seeds" > "$tmp/optuna_regret"
# shellcheck disable=SC2086
"$bin" run "$sampler" "$options" $sizes > "$tmp/hpt_run"
# shellcheck disable=SC2086
SAMPLER=$optuna_sampler /usr/bin/python3 "$here/bench_optuna.py" run $sizes > "$tmp/optuna_run"

echo "### $sampler: mean regret after $trials trials ($seeds seeds, ± standard error; lower is better)"
echo
echo "| objective | hpt $sampler | Optuna 3.1 $optuna | hpt - Optuna in standard errors |"
echo "|---|---|---|---|"
regret_rows "$tmp/hpt_regret" "$tmp/optuna_regret"
echo
echo "### $sampler: CPU milliseconds per trial of a whole study (5-d sphere, objective free)"
echo
echo "| n trials | hpt $sampler | Optuna 3.1 $optuna (in-memory storage) |"
echo "|---|---|---|"
paste "$tmp/hpt_run" "$tmp/optuna_run" |
  awk -F '\t' '{ printf "| %s | %s | %s |\n", $2, $3, $7 }'
