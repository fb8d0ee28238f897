#!/usr/bin/env bash
# Dataset loading with an empty image cache: `hpt-train check-data` (list, decode, split, write
# the cache) on Fashion-MNIST's IDX files and on a generated folder dataset (10 classes x 500
# random 64x64 RGB PNGs), ROUNDS times each, alternating the given hpt-train binaries (e.g. a
# build of an older commit and this one). Prints wall seconds and peak RSS per run.
# Usage: bench/trainer/load_dataset.sh HPT_TRAIN [HPT_TRAIN...]   (env: ROUNDS=3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(($#)) || { echo "usage: $0 HPT_TRAIN [HPT_TRAIN...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/make_png_folder.py" "$work/folder" 10 500 64
idx='{"dataset": {"format": "idx", "path": "/usr/share/datasets/fashion-mnist", "image_size": 0}}'
folder="{\"dataset\": {\"format\": \"folder\", \"path\": \"$work/folder\", \"image_size\": 0}}"
echo "| binary | dataset | wall s | peak RSS MB |"
echo "|---|---|---:|---:|"
for ((round = 0; round < ${ROUNDS:-3}; ++round)); do
  for bin in "$@"; do
    for name in idx folder; do
      spec=$idx
      [[ $name == folder ]] && spec=$folder
      rm -rf "$work/cache"
      start=$(date +%s.%N)
      HPT_CACHE_DIR="$work/cache" HPT_FIXED="$spec" /usr/bin/time -f "%M" -o "$work/rss" \
        "$bin" check-data > /dev/null
      end=$(date +%s.%N)
      printf "| %s | %s | %.2f | %.0f |\n" "$bin" "$name" "$(echo "$end - $start" | bc)" \
        "$(echo "$(cat "$work/rss") / 1024" | bc -l)"
    done
  done
done
