#!/bin/sh
# Sourced by run.sh and compare.sh after they set default_seeds and default_sizes: the build
# folder ($1), bench_tpe, the TRIALS / SEEDS / HPT_OPTIONS / SIZES settings, a temporary folder
# removed on exit, and regret_rows.
build=${1:-$here/../../build}
bin=$build/bench/bench_tpe
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_tpe" >&2; exit 1; }
trials=${TRIALS:-100}
seeds=${SEEDS:-$default_seeds}
options=${HPT_OPTIONS:-"{}"}
sizes=${SIZES:-$default_sizes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The Markdown rows comparing two "regret <objective> <mean> <stderr>" files (hpt's, then
# Optuna's), with the difference of the means in standard errors.
# Usage: regret_rows HPT_FILE OPTUNA_FILE
regret_rows() {
  paste "$1" "$2" |
    awk -F '\t' '{ se = sqrt($4 * $4 + $8 * $8); z = se > 0 ? ($3 - $7) / se : 0;
      printf "| %s | %s ± %s | %s ± %s | %+.1f |\n", $2, $3, $4, $7, $8, z }'
}
