#!/bin/sh
# Compares hpt's TPE with Optuna 3.1's TPESampler and prints Markdown tables:
# mean best-value regret after TRIALS trials over SEEDS seeds, and CPU ms per suggestion.
# Usage: bench/tpe/run.sh [build-dir]   (env: TRIALS=100 SEEDS=50 SIZES="100 1000 5000"; JOBS=k
# Optuna processes; OPTUNA_REGRET=file reuses a saved `bench_optuna.py regret` output, since
# Optuna's numbers do not change with hpt's; HPT_OPTIONS='{"multivariate":false}' tries options
# (that one is Optuna 3.1's default; '{}' is hpt's default, multivariate: hybrid);
# BENCH_ONLY=name,name limits the objectives)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
default_seeds=50
default_sizes="100 1000 5000"
. "$here/common.sh"

"$bin" regret "$trials" "$seeds" "$options" > "$tmp/hpt_regret"
if [ -n "${OPTUNA_REGRET:-}" ]; then
  cp "$OPTUNA_REGRET" "$tmp/optuna_regret"
else
  /usr/bin/python3 "$here/bench_optuna.py" regret "$trials" "$seeds" > "$tmp/optuna_regret"
fi
# shellcheck disable=SC2086
"$bin" speed $sizes > "$tmp/hpt_speed"
# shellcheck disable=SC2086
/usr/bin/python3 "$here/bench_optuna.py" speed $sizes > "$tmp/optuna_speed"

echo "### Mean regret after $trials trials ($seeds seeds, ± standard error; lower is better)"
echo
echo "| objective | hpt TPE | Optuna 3.1 TPE | hpt - Optuna in standard errors |"
echo "|---|---|---|---|"
regret_rows "$tmp/hpt_regret" "$tmp/optuna_regret"
echo
echo "### CPU milliseconds per suggestion after n COMPLETE trials (5 float params; mixed: the 6-param training-run space)"
echo
echo "| n trials | hpt default (hybrid) | hpt univariate | hpt multivariate | hpt default, mixed space | Optuna 3.1 univariate (suggestions timed) |"
echo "|---|---|---|---|---|---|"
paste "$tmp/hpt_speed" "$tmp/optuna_speed" |
  awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s (%s) |\n", $2, $6, $3, $4, $5, $9, $10 }'
