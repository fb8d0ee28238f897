#!/bin/sh
# Intermediate-step throughput: two trials of STEPS step lines each (default 100,000) with the
# median pruner active (trial 1 is compared with trial 0 at every step and never pruned), SQLite
# storage. Each step must cost O(1) amortised: wall time grows linearly with STEPS. hpt's peak
# memory (max RSS, from GNU time when /usr/bin/time exists) shows what the steps cost it.
# ORDER=interleaved reports steps 0, 2, 4, ... then 1, 3, 5, ... (each odd one lands inside the
# steps reported); PRUNER=hyperband uses Hyperband (min_resource 1, max_resource 100).
# Usage: bench/study/steps.sh [build-dir]   (env: STEPS=100000 ORDER=forward PRUNER=median)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
hpt=$build/app/hpt
[ -x "$hpt" ] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
steps=${STEPS:-100000}
order=${ORDER:-forward}
case $order in
  forward) loops="for (i = 0; i < $steps; i++) print_step(i)" ;;
  interleaved) loops="for (i = 0; i < $steps; i += 2) print_step(i); for (i = 1; i < $steps; i += 2) print_step(i)" ;;
  *) echo "ORDER must be forward or interleaved, not '$order'" >&2; exit 2 ;;
esac
case ${PRUNER:-median} in
  median) pruner="{type: median, n_startup_trials: 1}" ;;
  hyperband) pruner="{type: hyperband, min_resource: 1, max_resource: 100, reduction_factor: 3}" ;;
  *) echo "PRUNER must be median or hyperband, not '$PRUNER'" >&2; exit 2 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/steps.yaml" <<YAML
study: {name: steps, storage: $tmp/steps.db, seed: 0, sampler: {type: random},
        pruner: $pruner}
objective:
  command: [/usr/bin/awk, 'function print_step(i) { printf "{\"step\": %d, \"value\": %g}\n", i, v }
    BEGIN { v = ENVIRON["HPT_TRIAL_NUMBER"] == 0 ? 1.0 : 0.5; $loops;
    printf "{\"value\": %g}\n", v }']
search_space:
  x: {type: float, low: 0, high: 1}
YAML
timed=""
[ -x /usr/bin/time ] && timed="/usr/bin/time -f %M -o $tmp/rss"
start=$(date +%s.%N)
$timed "$hpt" --config "$tmp/steps.yaml" --trials 2 > "$tmp/hpt.log"
end=$(date +%s.%N)
wall=$(echo "$end - $start" | bc)
complete=$("$hpt" trials "$tmp/steps.db" --format csv | grep -c '^[0-9]*,COMPLETE,' || true)
[ "$complete" = 2 ] || { echo "steps.sh: $complete of 2 trials COMPLETE; see the log:" >&2; cat "$tmp/hpt.log" >&2; exit 1; }
rss=n/a
[ -s "$tmp/rss" ] && rss=$(echo "scale=1; $(cat "$tmp/rss") / 1024" | bc)
echo "### $steps steps per trial ($order), 2 trials, ${PRUNER:-median} pruner, SQLite"
echo
echo "| steps in all | wall s | µs per step | hpt max RSS MB |"
echo "|---|---|---|---|"
printf "| %d | %.2f | %.1f | %s |\n" "$((2 * steps))" "$wall" \
  "$(echo "$wall * 1000000 / (2 * $steps)" | bc -l)" "$rss"
