#!/bin/sh
# Intermediate-step throughput: two trials of STEPS step lines each (default 100,000) with the
# median pruner active (trial 1 is compared with trial 0 at every step and never pruned), SQLite
# storage. Each step must cost O(1) amortised: wall time grows linearly with STEPS. hpt's peak
# memory (max RSS, from GNU time when /usr/bin/time exists) shows what the steps cost it.
# Usage: bench/study/steps.sh [build-dir]   (env: STEPS=100000)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
hpt=$build/app/hpt
[ -x "$hpt" ] || { echo "missing $hpt: cmake --build $build --target hpt" >&2; exit 1; }
steps=${STEPS:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/steps.yaml" <<YAML
study: {name: steps, storage: $tmp/steps.db, seed: 0, sampler: {type: random},
        pruner: {type: median, n_startup_trials: 1}}
objective:
  command: [/usr/bin/awk, 'BEGIN { v = ENVIRON["HPT_TRIAL_NUMBER"] == 0 ? 1.0 : 0.5;
    for (i = 0; i < $steps; i++) printf "{\"step\": %d, \"value\": %g}\n", i, v;
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
rss=n/a
[ -s "$tmp/rss" ] && rss=$(echo "scale=1; $(cat "$tmp/rss") / 1024" | bc)
echo "### $steps steps per trial, 2 trials, median pruner, SQLite"
echo
echo "| steps in all | wall s | µs per step | hpt max RSS MB |"
echo "|---|---|---|---|"
printf "| %d | %.2f | %.1f | %s |\n" "$((2 * steps))" "$wall" \
  "$(echo "$wall * 1000000 / (2 * $steps)" | bc -l)" "$rss"
