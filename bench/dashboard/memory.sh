#!/bin/bash
# The dashboard's memory while a study grows under it (a random-sampler study of 3-step trials,
# jobs 2, for SECONDS), each dashboard polled as an open study page polls it (new trials and
# plots every second, the study list every 2 s, the full trial list every minute). Three
# dashboards on the one database: hpt's own (two malloc arenas, freed memory given back after
# each drawing), the same with glibc's default arena count (MALLOC_ARENA_MAX=16, 8 per core
# here: hpt then leaves the arenas alone), and BASELINE if given (an older hpt binary).
# Prints RSS (MB) every 30 s as a Markdown table.
# Usage: bench/dashboard/memory.sh [BUILD_DIR] (env: SECONDS_RUN=360, BASELINE=path/to/hpt)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
hpt=$build/app/hpt
[ -x "$hpt" ] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
secs=${SECONDS_RUN:-360}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
cat > worker.py <<'PY'
import json, os, time
p = json.loads(os.environ["HPT_PARAMS"])
v = (p["x"] - 0.3) ** 2 + 0.01 * (p["y"] - 7) ** 2
for s in range(3):
    print(json.dumps({"step": s, "value": v + 1.0 / (s + 1)}), flush=True)
    time.sleep(0.01)
print(json.dumps({"value": v}), flush=True)
PY
cat > cfg.yaml <<YAML
study: {name: mem, seed: 1, jobs: 2, storage: mem.db, sampler: {type: random}}
objective: {command: [/usr/bin/python3, worker.py]}
search_space:
  x: {type: float, low: -2.0, high: 2.0}
  y: {type: int, low: 0, high: 20}
  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
  opt: [a, b, c]
YAML
"$hpt" --config cfg.yaml --trials 2 > /dev/null
"$hpt" --config cfg.yaml --timeout "${secs}s" > study.out 2>&1 &
study=$!
pids+=("$study")
# poll PORT: what an open study page asks for.
poll() {
  local base=http://127.0.0.1:$1 since="" have="" i=0
  while :; do
    i=$((i + 1))
    since=$(curl -s "$base/api/studies/1/trials?since=$since" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("cursor", ""))' 2>/dev/null || true)
    have=$(curl -s "$base/api/studies/1/plots?have=$have" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("version", ""))' 2>/dev/null || true)
    [ $((i % 2)) -eq 0 ] && curl -s -o /dev/null "$base/api/studies"
    [ $((i % 60)) -eq 0 ] && curl -s -o /dev/null "$base/api/studies/1/trials"
    sleep 1
  done
}
names=("hpt" "MALLOC_ARENA_MAX=16")
dash=()
start_dashboard() {  # PORT [VAR=VALUE...] BINARY
  local port=$1; shift
  env "$@" dashboard mem.db --port "$port" > /dev/null 2>&1 &
  dash+=("$!")
  pids+=("$!")
}
start_dashboard 18461 "$hpt"
start_dashboard 18462 MALLOC_ARENA_MAX=16 "$hpt"
if [ -n "${BASELINE:-}" ]; then
  names+=("baseline")
  start_dashboard 18463 "$BASELINE"
fi
sleep 1
for port in 18461 18462 18463; do
  if [ "$port" != 18463 ] || [ -n "${BASELINE:-}" ]; then
    poll "$port" > /dev/null 2>&1 &
    pids+=("$!")
  fi
done
rss() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
trials() { /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:mem.db?mode=ro", uri=True).execute("SELECT COUNT(*) FROM trials").fetchone()[0])'; }
printf "| s | trials |"; for n in "${names[@]}"; do printf " %s RSS (MB) |" "$n"; done; echo
printf "|---|---|"; for _ in "${names[@]}"; do printf -- "---|"; done; echo
t=0
while kill -0 "$study" 2>/dev/null; do
  sleep 30
  t=$((t + 30))
  printf "| %d | %s |" "$t" "$(trials)"
  for d in "${dash[@]}"; do printf " %s |" "$(rss "$d")"; done
  echo
done
