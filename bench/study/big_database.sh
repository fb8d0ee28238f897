#!/usr/bin/env bash
# hpt's read commands on big study databases, hpt vs Optuna 3.1. bench/study/big_database.py
# builds each SQLite database (Optuna's schema; fixed seeds and timestamps); the build is not
# timed. Two kinds:
# - Many studies: for each S in STUDIES, S studies of TRIALS COMPLETE trials each over lr
#   (float, log), x (float), units (int), opt (categorical, 3 choices). Timed: `hpt studies DB`
#   and `hpt studies DB --format json` (wall, max RSS), then `hpt dashboard DB --port 0` is
#   started and `/api/studies` fetched twice with curl (time_total: first, then second, which
#   the dashboard may answer from its cache), with the server's peak RSS (VmHWM) after them;
#   the dashboard is stopped with SIGTERM and must exit 0. Optuna: the seconds of
#   optuna.get_all_study_summaries(storage) (slow: about 40 s at 5,000 studies on 2 cores).
# - A wide categorical: for each NxC in CAT, one study `s` of N COMPLETE trials over a
#   categorical of C choices plus 2 floats. Timed: `hpt best DB` and `hpt trials DB --format
#   csv` (wall, max RSS). Optuna: the seconds of optuna.load_study(...).trials inside a Python
#   process, and that process's max RSS (it includes importing Optuna). `hpt report` is left
#   out: its fANOVA over many choices takes ~50 s at 2000x5000.
# Each output is checked (the number of studies or trials, the best trial), so a run that
# prints nothing useful fails. hpt runs from a copy of BUILD_DIR/app/hpt taken at the start.
# Wall times are `date +%s.%N` around the command; max RSS is GNU time's %M (n/a without
# /usr/bin/time). Each run is under `timeout -k 5 $TIMEOUT` (default 600 s); a run that fails
# stops the script with its log. The databases live in a `mktemp -d` folder (under $TMPDIR),
# removed on exit.
# Usage: bench/study/big_database.sh [BUILD_DIR]
#        (default: build; env: STUDIES="500 2000 5000" TRIALS=10
#         CAT="1000x1000 1000x5000 2000x5000" PYTHON=/usr/bin/python3 TIMEOUT=600)
# A few minutes on 2 cores with the defaults, most of it Optuna (get_all_study_summaries).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
studies=${STUDIES:-"500 2000 5000"}
trials=${TRIALS:-10}
cats=${CAT:-"1000x1000 1000x5000 2000x5000"}
hpt=$build/app/hpt
python=${PYTHON:-/usr/bin/python3}
limit=${TIMEOUT:-600}
[[ -x $hpt ]] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
command -v curl > /dev/null || { echo "big_database.sh needs curl" >&2; exit 1; }
[[ $trials =~ ^[0-9]+$ ]] && (( trials >= 1 )) ||
  { echo "TRIALS must be an integer >= 1, not '$trials'" >&2; exit 2; }
for s in $studies; do
  [[ $s =~ ^[0-9]+$ ]] && (( s >= 1 )) ||
    { echo "STUDIES must be integers >= 1, not '$s'" >&2; exit 2; }
done
for nc in $cats; do
  [[ $nc =~ ^([0-9]+)x([0-9]+)$ ]] && (( BASH_REMATCH[1] >= 1 && BASH_REMATCH[2] >= 1 )) ||
    { echo "CAT must be NxC pairs of integers >= 1, not '$nc'" >&2; exit 2; }
done
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
work=$(mktemp -d)
dash_pid=
cleanup() {
  [[ -n $dash_pid ]] && kill -TERM "$dash_pid" 2> /dev/null && wait "$dash_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cp "$hpt" "$work/hpt"  # All runs time this copy, even if the build is relinked meanwhile.
hpt=$work/hpt
mkdir "$work/db"
db=$work/db/big.db

fail() {  # fail MESSAGE [LOG]
  echo "big_database.sh: $1" >&2
  [[ -n ${2:-} && -f $2 ]] && tail -n 30 "$2" | cut -c 1-300 >&2
  exit 1
}

mb() {  # mb KB: megabytes, or n/a for 0
  if (( $1 > 0 )); then printf '%.0f' "$(echo "$1 / 1024" | bc -l)"; else echo n/a; fi
}

# timed LABEL CMD...: runs CMD under timeout, stdout to $work/out, stderr to $work/err; sets
# wall (seconds) and rss (KB, 0 when unknown); fails on a non-zero exit.
timed() {
  local label=$1 start end status=0
  shift
  : > "$work/rss"
  local gnu=()
  [[ -x /usr/bin/time ]] && gnu=(/usr/bin/time -f %M -o "$work/rss")
  start=$(date +%s.%N)
  "${gnu[@]}" timeout -k 5 "$limit" "$@" > "$work/out" 2> "$work/err" || status=$?
  end=$(date +%s.%N)
  (( status == 0 )) || { cat "$work/out" >> "$work/err"; fail "$label exited $status; its output:" "$work/err"; }
  wall=$(echo "$end - $start" | bc -l)
  rss=$(tail -n 1 "$work/rss" 2> /dev/null | grep -x '[0-9]*' || echo 0)
}

# get LABEL URL: fetches URL into $work/api.json; sets secs (curl's time_total). Fails unless
# HTTP 200.
get() {
  local out status=0
  out=$(curl -s -o "$work/api.json" -w '%{http_code} %{time_total}' --max-time "$limit" "$2") ||
    status=$?
  [[ $status == 0 && $out == "200 "* ]] ||
    fail "$1: curl exited $status, '$out'; the dashboard's log:" "$work/dash.log"
  secs=${out#200 }
}

count() {  # count PATTERN FILE: occurrences of a fixed string
  grep -oF -- "$1" "$2" | wc -l
}

rows1=()
for s in $studies; do
  echo "S=$s: building $s studies of $trials trials" >&2
  rm -f "$db"*
  timeout -k 5 "$limit" "$python" "$here/big_database.py" studies "$db" "$s" "$trials" ||
    fail "big_database.py studies $s $trials failed"

  echo "S=$s: hpt studies (table, json)" >&2
  timed "hpt studies ($s studies)" "$hpt" studies "$db"
  got=$(wc -l < "$work/out")
  (( got == s )) || fail "hpt studies listed $got lines for $s studies" "$work/out"
  t_table=$wall m_table=$rss
  timed "hpt studies --format json ($s studies)" "$hpt" studies "$db" --format json
  got=$(count '"n_trials"' "$work/out")
  (( got == s )) || fail "hpt studies --format json listed $got studies, not $s" "$work/out"
  t_json=$wall m_json=$rss

  echo "S=$s: hpt dashboard, GET /api/studies twice" >&2
  timeout -k 5 "$limit" "$hpt" dashboard "$db" --port 0 > "$work/dash.log" 2>&1 &
  dash_pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -o 'http://[^/ ]*/' "$work/dash.log" | head -n 1 || true)
    [[ -n $url ]] && break
    kill -0 "$dash_pid" 2> /dev/null || fail "hpt dashboard exited before serving; its log:" "$work/dash.log"
    sleep 0.1
  done
  [[ -n $url ]] || fail "hpt dashboard printed no address in 30 s; its log:" "$work/dash.log"
  get "GET /api/studies (first, $s studies)" "${url}api/studies"
  got=$(count '"n_trials"' "$work/api.json")
  (( got == s )) || fail "/api/studies listed $got studies, not $s" "$work/api.json"
  t_get1=$secs
  get "GET /api/studies (second, $s studies)" "${url}api/studies"
  got=$(count '"n_trials"' "$work/api.json")
  (( got == s )) || fail "/api/studies (second) listed $got studies, not $s" "$work/api.json"
  t_get2=$secs
  server=$(pgrep -P "$dash_pid" | head -n 1 || true)
  m_dash=0
  [[ -n $server ]] && m_dash=$(awk '/^VmHWM:/ {print $2}' "/proc/$server/status" 2> /dev/null || echo 0)
  [[ $m_dash =~ ^[0-9]+$ ]] || m_dash=0
  kill -TERM "$dash_pid"
  status=0
  wait "$dash_pid" || status=$?
  dash_pid=
  (( status == 0 )) || fail "hpt dashboard exited $status on SIGTERM; its log:" "$work/dash.log"

  echo "S=$s: Optuna get_all_study_summaries" >&2
  status=0
  t_optuna=$(timeout -k 5 "$limit" "$python" "$here/big_database.py" summaries "$db" "$s") ||
    status=$?
  (( status == 0 )) && [[ $t_optuna =~ ^[0-9.]+$ ]] ||
    fail "Optuna get_all_study_summaries ($s studies) exited $status, printed '$t_optuna'"

  rows1+=("$(printf '| %d | %.3f | %s | %.3f | %s | %.3f | %.3f | %s | %.2f |' "$s" \
    "$t_table" "$(mb "$m_table")" "$t_json" "$(mb "$m_json")" "$t_get1" "$t_get2" \
    "$(mb "$m_dash")" "$t_optuna")")
done

rows2=()
for nc in $cats; do
  n=${nc%x*} c=${nc#*x}
  echo "${n}x$c: building one study of $n trials, a categorical of $c choices" >&2
  rm -f "$db"*
  timeout -k 5 "$limit" "$python" "$here/big_database.py" cat "$db" "$n" "$c" ||
    fail "big_database.py cat $n $c failed"
  size=$(printf '%.1f' "$(echo "$(stat -c %s "$db") / 1048576" | bc -l)")

  echo "${n}x$c: hpt best, hpt trials --format csv" >&2
  timed "hpt best (${n}x$c)" "$hpt" best "$db"
  grep -q '^study s: best trial [0-9]' "$work/out" || fail "hpt best printed no best trial" "$work/out"
  t_best=$wall m_best=$rss
  timed "hpt trials --format csv (${n}x$c)" "$hpt" trials "$db" --format csv
  got=$(wc -l < "$work/out")
  (( got == n + 1 )) || fail "hpt trials --format csv printed $got lines for $n trials" "$work/out"
  t_csv=$wall m_csv=$rss

  echo "${n}x$c: Optuna load_study().trials" >&2
  timed "Optuna load_study().trials (${n}x$c)" "$python" "$here/big_database.py" load "$db" "$n"
  t_optuna=$(tail -n 1 "$work/out")
  [[ $t_optuna =~ ^[0-9.]+$ ]] || fail "big_database.py load printed '$t_optuna'"
  m_optuna=$rss

  rows2+=("$(printf '| %dx%d | %s | %.3f | %s | %.3f | %s | %.2f | %s |' "$n" "$c" "$size" \
    "$t_best" "$(mb "$m_best")" "$t_csv" "$(mb "$m_csv")" "$t_optuna" "$(mb "$m_optuna")")")
done
rm -f "$db"*
optuna_version=$("$python" -c 'import optuna; print(optuna.__version__)' 2> /dev/null || echo '?')

echo "### Many studies ($trials COMPLETE trials each, SQLite): listing them"
echo
echo "| studies | hpt studies s | MB | hpt studies --format json s | MB | /api/studies first s | /api/studies second s | dashboard MB | Optuna get_all_study_summaries s |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows1[@]}"
echo
echo "### One study of N COMPLETE trials, a categorical of C choices + 2 floats (SQLite)"
echo
echo "| N x C | DB MB | hpt best s | MB | hpt trials --format csv s | MB | Optuna load_study().trials s | Optuna MB |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows2[@]}"
echo
echo "hpt: wall seconds of the whole process; MB: max RSS (GNU time). /api/studies: curl's"
echo "time_total, first then second request to one \`hpt dashboard --port 0\`; dashboard MB: the"
echo "server's VmHWM after both. Optuna $optuna_version: seconds inside Python (import and"
echo "process start excluded); get_all_study_summaries takes about 40 s at 5,000 studies. Optuna"
echo "MB: max RSS of that Python process (importing Optuna included). hpt report is left out"
echo "(fANOVA over many choices: ~50 s at 2000x5000)."
echo "Databases under ${TMPDIR:-/tmp}. Commit $commit (HEAD at the start), $(nproc) cores."
