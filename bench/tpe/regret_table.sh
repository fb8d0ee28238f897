#!/bin/sh
# Prints the Markdown rows comparing two "regret <objective> <mean> <stderr>" files (hpt's, then
# Optuna's), with the difference of the means in standard errors. Sourced by run.sh and compare.sh.
# Usage: regret_rows HPT_FILE OPTUNA_FILE
regret_rows() {
  paste "$1" "$2" |
    awk -F '\t' '{ se = sqrt($4 * $4 + $8 * $8); z = se > 0 ? ($3 - $7) / se : 0;
      printf "| %s | %s ± %s | %s ± %s | %+.1f |\n", $2, $3, $4, $7, $8, z }'
}
