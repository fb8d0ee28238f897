#!/bin/sh
# hpt trainer vs Python PyTorch (same model, loss semantics, threads, batch): images/s.
# Builds the bench_trainer target first (configuring BUILD_DIR with the trainer if it is new).
# Usage: bench/trainer/run.sh [BUILD_DIR] [THREADS] [BATCH] [STEPS] [DEVICE] [EXTRACTOR.pt SIZE]
# (DEVICE cpu or cuda; EXTRACTOR a TorchScript file, default the built-in CNN on 28x28.)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}; threads=${2:-2}; batch=${3:-160}; steps=${4:-50}
device=${5:-cpu}; model=${6:-builtin}; size=${7:-28}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here/../.." -B "$build" -DHPT_WITH_TRAINER=ON > /dev/null
fi
cmake --build "$build" --target bench_trainer -j2 > /dev/null ||
  { echo "cannot build bench_trainer in $build (configure it with -DHPT_WITH_TRAINER=ON)" >&2; exit 1; }
hpt=$("$build/bench/trainer/bench_trainer" "$threads" "$batch" "$steps" "$device" "$model" "$size")
if ${PYTHON:-/usr/bin/python3} -c 'import torch' 2> /dev/null; then
  # The same BLAS threading as hpt (cpu_threads.hpp): one OpenBLAS thread per caller.
  py=$(OPENBLAS_NUM_THREADS=1 ${PYTHON:-/usr/bin/python3} "$here/bench_trainer.py" "$threads" "$batch" "$steps" "$device" "$model" "$size")
else
  echo "python3 cannot import torch: PyTorch column left empty" >&2
  py=""
fi
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
echo "| training images/s ($device, $(basename "$model" .pt) ${size}px, threads $threads, batch $batch) | hpt (LibTorch) | Python PyTorch | speed-up |"
echo "|---|---:|---:|---:|"
for k in end_to_end head_only head_only_autograd val_pairs_scored; do
  a=$(get "$hpt" $k); b=$(get "$py" "${k%_autograd}")  # PyTorch's head-only step is autograd.
  echo "| $k | $a | ${b:-n/a} | $(echo "$a ${b:-0}" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "n/a" }') |"
done
