#!/bin/sh
# hpt's TPE against Optuna 3.1's on few-parameter spaces with a categorical (2, 3, 4, 50
# choices with a float, 8 with an int: objectives.hpp's categorical_objectives()), which
# bench/tpe's 11 families lack. Prints a Markdown table.
# Usage: bench/tpe/categorical.sh [build-dir]   (env: TRIALS=100 SEEDS=100 JOBS=k Optuna
# processes; HPT_OPTIONS='{}' hpt's options, e.g. '{"multivariate_bandwidth": "scott"}')
set -eu
here=$(cd "$(dirname "$0")" && pwd)
default_seeds=100
default_sizes=""
. "$here/common.sh"
export BENCH_SET=categorical
"$bin" regret "$trials" "$seeds" "$options" > "$tmp/hpt_regret"
/usr/bin/python3 "$here/bench_optuna.py" regret "$trials" "$seeds" > "$tmp/optuna_regret"
echo "### Categorical spaces: mean regret after $trials trials ($seeds seeds, ± standard error; lower is better)"
echo
echo "| objective | hpt TPE ($options) | Optuna 3.1 TPE | hpt - Optuna in standard errors |"
echo "|---|---|---|---|"
regret_rows "$tmp/hpt_regret" "$tmp/optuna_regret"
