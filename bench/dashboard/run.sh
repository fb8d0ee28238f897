#!/bin/sh
# Dashboard benchmark. (1) Server time to load and refresh a study of 1,000 and 10,000 trials
# (bench_dashboard). (2) A 1,000-trial study's wall time alone and with `hpt dashboard` polling
# it as an open study page does (trials every second, plots when they change), RUNS times each,
# interleaved. Prints Markdown tables of medians. Usage: bench/dashboard/run.sh [BUILD_DIR]
# (env: RUNS=3, SIZES="1000 10000", STUDY_TRIALS=1000)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
hpt=$build/app/hpt
runs=${RUNS:-3}
[ -x "$hpt" ] && [ -x "$build/bench/dashboard/bench_dashboard" ] ||
  { echo "missing: cmake --build $build --target hpt bench_dashboard" >&2; exit 1; }
tmp=$(mktemp -d)
dash_pid=""
poll_pid=""
cleanup() {
  [ -n "$poll_pid" ] && kill "$poll_pid" 2>/dev/null || true
  [ -n "$dash_pid" ] && kill "$dash_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

i=0
while [ $i -lt "$runs" ]; do
  "$build/bench/dashboard/bench_dashboard" "$tmp" ${SIZES:-1000 10000} >> "$tmp/server.jsonl"
  i=$((i + 1))
done
/usr/bin/python3 - "$tmp/server.jsonl" "$runs" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
rows = []
for n in sorted({r["trials"] for r in runs}):
    mine = [r for r in runs if r["trials"] == n]
    rows.append({k: statistics.median(r[k] for r in mine) for k in mine[0]})
print(f"### Dashboard server time (ms, median of {sys.argv[2]} runs; one SQLite file, read-only)\n")
print("| trials | page | first poll (all trials) | table ready | plots shown (first paint) | importances shown | refresh after 1 new trial (median / max) | poll, no change |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['trials']:,} | {r['page_ms']:.1f} | {r['first_poll_ms']:.0f} ({r['first_poll_bytes']/1e6:.1f} MB) | "
          f"{r['table_ready_ms']:.0f} (CPU {r['table_cpu_ms']:.0f}) | {r['first_paint_ms']:.0f} (CPU {r['first_paint_cpu_ms']:.0f}) | "
          f"{r['plots_ready_ms']:.0f} (CPU {r['plots_ready_cpu_ms']:.0f}) | {r['refresh_median_ms']:.1f} / {r['refresh_max_ms']:.1f} | "
          f"{r['idle_poll_median_ms']:.2f} |")
print("\n(wall ms; CPU = milliseconds of CPU the dashboard used up to that point, all threads)")
PY

. "$here/../study/trivial_study.sh"
trivial_study_yaml "$tmp/study.db" > "$tmp/study.yaml"
# What an open study page asks, from one light process (no process start per request): the
# trials changed since its cursor every second, then the plots when they changed. (exec: the
# background job's pid is the poller's, so that kill stops it.)
poll_like_a_page() {
  exec /usr/bin/python3 - "$1" <<'PY'
import json, sys, time, urllib.request
url, cursor, version = sys.argv[1], "", ""
while True:
    try:
        with urllib.request.urlopen(f"{url}/api/studies/1/trials?since={cursor}") as r:
            cursor = json.load(r)["cursor"]
        with urllib.request.urlopen(f"{url}/api/studies/1/plots?have={version}") as r:
            version = str(json.load(r)["version"])
    except Exception:
        pass
    time.sleep(1)
PY
}
# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
study_wall() {
  start=$(date +%s.%N)
  "$hpt" --config "$tmp/study.yaml" --trials "${STUDY_TRIALS:-1000}" > "$tmp/study.log"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
alone=""
watched=""
dash_cpu=""
i=0
while [ $i -lt "$runs" ]; do
  rm -f "$tmp"/study.db*
  alone="$alone $(study_wall)"
  rm -f "$tmp"/study.db*
  "$hpt" --config "$tmp/study.yaml" --trials 1 > /dev/null   # the dashboard opens an existing file
  "$hpt" dashboard "$tmp/study.db" --port 0 > "$tmp/dash.out" 2>&1 &
  dash_pid=$!
  sleep 0.5
  url=$(sed -n 's|.*\(http://127.0.0.1:[0-9]*\)/.*|\1|p' "$tmp/dash.out")
  poll_like_a_page "$url" &
  poll_pid=$!
  watched="$watched $(study_wall)"
  dash_cpu="$dash_cpu $(cpu_seconds "$dash_pid")"
  kill "$poll_pid"; wait "$poll_pid" 2>/dev/null || true; poll_pid=""
  kill -INT "$dash_pid"; wait "$dash_pid" || true; dash_pid=""
  i=$((i + 1))
done
/usr/bin/python3 - "$alone" "$watched" "$dash_cpu" <<'PY'
import statistics, sys
alone = [float(x) for x in sys.argv[1].split()]
watched = [float(x) for x in sys.argv[2].split()]
cpu = [float(x) for x in sys.argv[3].split()]
a, w = statistics.median(alone), statistics.median(watched)
print("\n### 1,000-trial study (jobs 1, trivial objective), wall seconds, median of", len(alone), "runs\n")
print("| | wall s | runs |")
print("|---|---|---|")
print(f"| alone | {a:.2f} | {' '.join(f'{x:.2f}' for x in alone)} |")
print(f"| with a dashboard polling it | {w:.2f} | {' '.join(f'{x:.2f}' for x in watched)} |")
print(f"| slowdown | {100 * (w / a - 1):+.1f}% | |")
share = [c / x for c, x in zip(cpu, watched)]
print(f"| dashboard CPU during the study | {statistics.median(cpu):.2f} s ({100 * statistics.median(share):.1f}% of one core) | {' '.join(f'{c:.2f}' for c in cpu)} |")
PY
