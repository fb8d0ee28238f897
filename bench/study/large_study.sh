#!/usr/bin/env bash
# Per-trial cost of resuming a large study, hpt vs Optuna 3.1, as the study grows. For each
# size N, bench/study/large_study.py builds a SQLite database (Optuna's schema) holding one
# study `s` of N COMPLETE trials over lr (float, log), x (float), units (int), opt
# (categorical, 3 choices); then, on fresh copies of it:
# - hpt (random and TPE sampler, jobs 1, no pruner, a tiny sh objective) resumes the study by
#   1 trial and by K trials (`hpt --config CFG --storage COPY --trials N+K`). Per trial:
#   (wall(K) - wall(1)) / (K - 1), so loading the study counts once, not per trial; the load
#   column is wall(1) of the random run. Each trial includes starting the objective process
#   (a sh script: a few ms at most; the smallest N's figure bounds it). Max RSS (GNU time,
#   when /usr/bin/time exists) is the largest of the 4 runs.
# - Optuna 3.1 asks and tells K times in-process (RandomSampler(seed=0), TPESampler(seed=0)),
#   and the median of one ask + tell is reported: no objective runs. Optuna's TPE takes about
#   a second a trial at 20,000 trials, so from 10,000 trials on it asks min(K, 21) times (a
#   median of 21 is stable enough).
# The databases live in a `mktemp -d` folder (so under $TMPDIR). Optuna's random ask + tell is
# mostly its ~5 SQLite commits, each an fsync: on a shared VM's disk that varies several-fold
# from run to run; TMPDIR=/dev/shm takes the disk out of both sides' figures.
# hpt runs from a copy of BUILD_DIR/app/hpt taken at the start (a rebuild meanwhile changes nothing).
# Each run is under `timeout -k 5 $TIMEOUT` (default 600 s); a run that fails, or an hpt run
# that does not finish its K trials, stops the script with its log.
# Usage: bench/study/large_study.sh [BUILD_DIR] [SIZES] [K]
#        (defaults: build, "1000 5000 20000", 101; env: PYTHON=/usr/bin/python3 TIMEOUT=600)
# A few minutes on 2 cores with the defaults, most of it Optuna's TPE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
sizes=${2:-"1000 5000 20000"}
k=${3:-101}
hpt=$build/app/hpt
python=${PYTHON:-/usr/bin/python3}
limit=${TIMEOUT:-600}
[[ -x $hpt ]] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
[[ $k =~ ^[0-9]+$ ]] && (( k >= 2 )) || { echo "K must be an integer >= 2, not '$k'" >&2; exit 2; }
for n in $sizes; do
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 )) || { echo "sizes must be integers >= 1, not '$n'" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$hpt" "$work/hpt"  # All runs time this copy, even if the build is relinked meanwhile.
hpt=$work/hpt
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)

cat > "$work/objective.sh" <<'SH'
#!/bin/sh
# A value from the parameters' length: a process start and nothing more.
echo "{\"value\": $(( ${#HPT_PARAMS} % 97 )).5}"
SH
chmod +x "$work/objective.sh"
for sampler in random tpe; do
  cat > "$work/$sampler.yaml" <<YAML
study:
  name: s
  direction: minimize
  seed: 0
  jobs: 1
  sampler: {type: $sampler}
  pruner: {type: none}
  trials_dir: $work/trials_$sampler
objective:
  command: [$work/objective.sh]
  timeout: 60
search_space:
  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
  x: {type: float, low: -5.0, high: 5.0}
  units: {type: int, low: 1, high: 512}
  opt: [adam, sgd, rmsprop]
YAML
done

# run_hpt SAMPLER N TRIALS: resumes a fresh copy of $work/study.db by TRIALS trials; sets
# wall (seconds) and rss (KB, 0 when unknown).
run_hpt() {
  local sampler=$1 n=$2 more=$3 log=$work/hpt.log start end status=0 done_trials
  rm -rf "$work/trials_$sampler" "$work"/run.db*
  cp "$work/study.db" "$work/run.db"
  : > "$work/rss"
  local timed=()
  [[ -x /usr/bin/time ]] && timed=(/usr/bin/time -f %M -o "$work/rss")
  start=$(date +%s.%N)
  (cd "$work" && "${timed[@]}" timeout -k 5 "$limit" "$hpt" --config "$work/$sampler.yaml" \
    --storage "$work/run.db" --trials $((n + more)) > "$log" 2>&1) || status=$?
  end=$(date +%s.%N)
  done_trials=$(grep -c '^trial [0-9]* COMPLETE ' "$log" || true)
  if (( status != 0 || done_trials != more )); then
    echo "large_study.sh: hpt ($sampler, N=$n, +$more trials) exited $status with $done_trials" \
      "of $more trials COMPLETE; its log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  wall=$(echo "$end - $start" | bc -l)
  rss=$(tail -n 1 "$work/rss" 2>/dev/null | grep -x '[0-9]*' || echo 0)
}

# run_optuna SAMPLER ASKS: prints Optuna's median seconds of one ask + tell.
run_optuna() {
  local out status=0
  out=$(timeout -k 5 "$limit" "$python" "$here/large_study.py" optuna "$work/study.db" "$1" "$2") ||
    status=$?
  if (( status != 0 )) || ! [[ $out =~ ^[0-9.]+$ ]]; then
    echo "large_study.sh: Optuna ($1, $2 asks) exited $status, printed '$out'" >&2
    exit 1
  fi
  echo "$out"
}

rows=()
for n in $sizes; do
  echo "N=$n: building the study" >&2
  rm -f "$work"/study.db*
  timeout -k 5 "$limit" "$python" "$here/large_study.py" make "$work/study.db" "$n"
  asks=$k
  (( n >= 10000 && k > 21 )) && asks=21
  declare -A per=()
  load=0 maxrss=0
  for sampler in random tpe; do
    echo "N=$n: hpt $sampler, +1 and +$k trials" >&2
    run_hpt "$sampler" "$n" 1
    one=$wall
    [[ $sampler == random ]] && load=$one
    (( rss > maxrss )) && maxrss=$rss
    run_hpt "$sampler" "$n" "$k"
    (( rss > maxrss )) && maxrss=$rss
    per[hpt_$sampler]=$(echo "($wall - $one) * 1000 / ($k - 1)" | bc -l)
    echo "N=$n: Optuna $sampler, $asks ask + tell" >&2
    per[optuna_$sampler]=$(echo "$(run_optuna "$sampler" "$asks") * 1000" | bc -l)
  done
  rss_mb=n/a
  (( maxrss > 0 )) && rss_mb=$(printf '%.0f' "$(echo "$maxrss / 1024" | bc -l)")
  rows+=("$(printf '| %d | %.1f | %.1f | %.1f | %.1f | %.2f | %s |' "$n" "${per[hpt_random]}" \
    "${per[optuna_random]}" "${per[hpt_tpe]}" "${per[optuna_tpe]}" "$load" "$rss_mb")")
  unset per
done

echo "### Resuming a study of N COMPLETE trials (4 parameters, SQLite): ms per trial"
echo
echo "| N | hpt random ms/trial | Optuna random ms/trial | hpt TPE ms/trial | Optuna TPE ms/trial | hpt load s (K=1 wall) | hpt max RSS MB |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "hpt: (wall(+$k trials) - wall(+1 trial)) / $((k - 1)), jobs 1; each trial includes starting"
echo "the objective process (a sh script: a few ms at most). Optuna 3.1: median of one in-process"
echo "ask + tell (no objective runs), $k asks per sampler, 21 from 10,000 trials on. Load: hpt's"
echo "wall time to resume by 1 trial (random sampler). Databases under ${TMPDIR:-/tmp} (Optuna's"
echo "commits are fsyncs)."
echo "Commit $commit (HEAD at the start), $(nproc) cores."
