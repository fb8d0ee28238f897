#!/usr/bin/env bash
# Copying a study (hpt copy-study vs Optuna 3.1's copy_study): seconds to copy a study of N
# finished trials (3 params, 10 steps, a user attribute each; made by Optuna, not timed) from
# SQLite into a new SQLite file and into a PostgreSQL database. Prints a Markdown table.
# Usage: bench/storage/copy_study.sh [N] (default 5000); HPT_BIN overrides build/app/hpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000}
source bench/storage/postgres_env.sh
seconds() {  # seconds COMMAND...: the wall time of one run.
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc | xargs printf "%.2f"
}
/usr/bin/python3 bench/storage/copy_study.py make "sqlite:///$WORK/source.db" "$N"
echo "| copy a study of $N trials | hpt copy-study (s) | Optuna 3.1 copy_study (s) |"
echo "|---|---|---|"
hpt_sqlite=$(seconds "$HPT" copy-study "$WORK/source.db" "$WORK/hpt.db")
optuna_sqlite=$(/usr/bin/python3 bench/storage/copy_study.py copy "sqlite:///$WORK/source.db" "sqlite:///$WORK/optuna.db")
echo "| SQLite → new SQLite file | $hpt_sqlite | $optuna_sqlite |"
hpt_pg=$(seconds "$HPT" copy-study "$WORK/source.db" "$(pg_db hpt_bench_copy_hpt)")
optuna_pg=$(/usr/bin/python3 bench/storage/copy_study.py copy "sqlite:///$WORK/source.db" "$(pg_db hpt_bench_copy_optuna)")
echo "| SQLite → PostgreSQL | $hpt_pg | $optuna_pg |"
test "$("$HPT" trials "$WORK/hpt.db" --format csv | wc -l)" -eq $((N + 1))
PGPASSWORD=hpt psql -XAtq "$HPT_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS hpt_bench_copy_hpt WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS hpt_bench_copy_optuna WITH (FORCE)"
