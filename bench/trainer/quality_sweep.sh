#!/usr/bin/env bash
# Measures `hpt train` on Fashion-MNIST for the issue-10 scenario (the report's keys at hpt's
# defaults: embedding 64, one 256-unit block, dropout 0.2, 15 epochs, patience 3) under a few
# margin / learning-rate / schedule / distance choices, sharing one cache (pretraining once).
# Prints one row per setting: test ROC AUC, raw-feature baseline, recall@1, best epoch, seconds.
# Usage: bench/trainer/quality_sweep.sh [BUILD_DIR] ["extra: yaml" ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}; shift || true
work=${HPT_SWEEP_DIR:-$(mktemp -d)}
mkdir -p "$work"
base="dataset: {format: idx, path: /usr/share/datasets/fashion-mnist}
embedding_dim: 64
intermediate_ff_block_units: [256]
dropout: 0.2
epochs: 15
early_stopping_patience: 3
threads: ${THREADS:-2}"
settings=("$@")
if [[ ${#settings[@]} == 0 ]]; then
  settings=("distance: euclidean
margin: 1.0
lr_schedule: constant"
            "distance: euclidean
margin: 0.2"
            "margin: 0.3"
            "margin: 0.1"
            "margin: 0.03"
            "margin: 0.01")
fi
echo "| setting | test ROC AUC | raw features | recall@1 | best epoch | s |"
echo "|---|---:|---:|---:|---:|---:|"
for i in "${!settings[@]}"; do
  printf '%s\n%s\n' "$base" "${settings[$i]}" > "$work/exp$i.yaml"
  start=$(date +%s)
  HPT_CACHE_DIR="$work/cache" "$build/app/hpt" train --config "$work/exp$i.yaml" --out "$work/run$i" \
    > "$work/log$i.txt"
  secs=$(( $(date +%s) - start ))
  python3 - "$work/run$i/metrics.json" "${settings[$i]//$'\n'/, }" "$secs" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {m['test_roc_auc']:.4f} | {m['baseline_test_roc_auc']:.4f} | "
      f"{m['test_recall_at_1']:.3f} | {m['best_epoch']}/{m['epochs']} | {sys.argv[3]} |")
PY
done
