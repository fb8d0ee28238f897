#!/usr/bin/env bash
# Storage throughput: trials/s for 1, 2 and 4 hpt orchestrators on one study with a trivial
# command objective, SQLite vs PostgreSQL, and Optuna 3.1 (processes, in-process objective)
# on the same PostgreSQL server. Prints a Markdown table.
# Usage: bench/storage/run.sh [trials] (default 120); HPT_BIN overrides build/app/hpt.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIALS=${1:-120}
source bench/storage/postgres_env.sh

cat >"$WORK/config.yaml" <<YAML
study:
  name: bench
  direction: minimize
  jobs: 1
  sampler: {type: tpe, n_startup_trials: 10}
  pruner: {type: none}
objective:
  command: [sh, -c, 'echo "{\"value\": 1}"']
search_space:
  x: {type: float, low: -3, high: 3}
YAML

# hpt_rate STORAGE PROCS: trials/s of PROCS orchestrators sharing TRIALS trials. Each study
# runs in a folder of its own: a server study's trials folder is ./hpt_trials/<name>, and a
# study of the same name in another database may not write into it.
hpt_rate() {
  local storage=$1 procs=$2 start end i dir
  dir=$(mktemp -d "$WORK/run-XXXXXX")
  start=$(date +%s.%N)
  for ((i = 0; i < procs; i++)); do
    (cd "$dir" && "$HPT" --config "$WORK/config.yaml" --trials "$TRIALS" --storage "$storage" \
      >/dev/null 2>"$WORK/err.$i") &
  done
  wait
  end=$(date +%s.%N)
  local done
  done=$("$HPT" trials "$storage" --format json |
    /usr/bin/python3 -c "import json,sys; print(sum(t['state'] == 'COMPLETE' for t in json.load(sys.stdin)))")
  if [[ "$done" != "$TRIALS" ]]; then
    echo "bench: $storage has $done COMPLETE trials, not $TRIALS" >&2
    cat "$WORK"/err.* >&2
    exit 1
  fi
  echo "scale=1; $TRIALS / ($end - $start)" | bc
}

echo "| orchestrators | hpt + SQLite (trials/s) | hpt + PostgreSQL (trials/s) | Optuna 3.1 + PostgreSQL (trials/s) |"
echo "|---|---|---|---|"
for procs in 1 2 4; do
  sqlite=$(hpt_rate "sqlite:///$WORK/s$procs.db" "$procs")
  pg=$(hpt_rate "$(pg_db "hpt_bench_hpt$procs")" "$procs")
  secs=$(/usr/bin/python3 bench/storage/optuna_bench.py "$(pg_db "hpt_bench_optuna$procs")" "$procs" "$TRIALS")
  optuna=$(echo "scale=1; $TRIALS / $secs" | bc)
  echo "| $procs | $sqlite | $pg | $optuna |"
done
for procs in 1 2 4; do
  PGPASSWORD=hpt psql -XAtq "$HPT_TEST_POSTGRES_URL" \
    -c "DROP DATABASE IF EXISTS hpt_bench_hpt$procs WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS hpt_bench_optuna$procs WITH (FORCE)"
done
