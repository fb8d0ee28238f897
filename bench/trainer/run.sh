#!/bin/sh
# hpt trainer vs Python PyTorch (same model, loss semantics, threads, batch): images/s.
# Usage: bench/trainer/run.sh [BUILD_DIR] [THREADS] [BATCH] [STEPS]
set -e
build=${1:-build}; threads=${2:-2}; batch=${3:-160}; steps=${4:-50}
here=$(dirname "$0")
hpt=$("$build/bench/trainer/bench_trainer" "$threads" "$batch" "$steps")
py=$(/usr/bin/python3 "$here/bench_trainer.py" "$threads" "$batch" "$steps")
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
echo "| training images/s (threads $threads, batch $batch) | hpt (LibTorch) | Python PyTorch | speed-up |"
echo "|---|---:|---:|---:|"
for k in end_to_end head_only; do
  a=$(get "$hpt" $k); b=$(get "$py" $k)
  echo "| $k | $a | $b | $(echo "$a $b" | awk '{ printf "%.2fx", $1 / $2 }') |"
done
