#!/usr/bin/env bash
# What each worker's OpenMP thread count costs a study: the embedded default study without its
# `threads` key (so LibTorch's default applies), TRIALS trials, run once per OMP_NUM_THREADS
# value given (hpt passes the variable on to its workers as it is). The first run pretrains
# the built-in CNN into a cache the next runs share. Prints wall time and trial times per value.
# Usage: bench/study/omp_threads.sh [BUILD_DIR] [TRIALS] [VALUE ...]   (default values: 2 1)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
trials=${2:-12}
shift $(( $# > 2 ? 2 : $# ))
values=("$@")
[[ ${#values[@]} -gt 0 ]] || values=(2 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -v '^  threads:' "$root/configs/hpt_config.yaml" |
  sed "s|storage: out/fashion_mnist.db|storage: $work/study.db|" > "$work/config.yaml"
HPT_CACHE_DIR="$work/cache" "$build/app/hpt" --config "$work/config.yaml" --trials 1 \
  --storage "$work/warm.db" > /dev/null 2>&1  # Pretraining and feature cache, not timed.
for n in "${values[@]}"; do
  rm -f "$work"/study.db*
  start=$(date +%s.%N)
  (cd "$work" && OMP_NUM_THREADS=$n HPT_CACHE_DIR="$work/cache" "$build/app/hpt" \
    --config "$work/config.yaml" --trials "$trials" > "$work/log.txt" 2>&1)
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  times=$(grep -o 'COMPLETE value=[0-9.]* ([0-9.]*s)' "$work/log.txt" | grep -o '([0-9.]*s)' |
    tr -d '()s' | sort -n | tr '\n' ' ')
  printf 'OMP_NUM_THREADS=%s: %.1f s for %s trials; completed trial times (s): %s\n' \
    "$n" "$secs" "$trials" "$times"
done
