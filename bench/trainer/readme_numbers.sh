#!/usr/bin/env bash
# Regenerates the README's `hpt train` numbers from this tree (commit it first: the script
# names the commit and refuses a tree whose trainer/ or configs/ differ from HEAD unless
# ALLOW_DIRTY=1). Runs `hpt train` on Fashion-MNIST with an empty cache (pretraining
# included) for the default experiment (configs/fashion_mnist_experiment.yaml: the report's
# keys at hpt's defaults) and prints the README lines with the numbers of metrics.json.
# Usage: bench/trainer/readme_numbers.sh [BUILD_DIR] [CONFIG]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
config=${2:-$root/configs/fashion_mnist_experiment.yaml}
cd "$root"
if [[ -n "$(git status --porcelain -- trainer configs app 2> /dev/null)" && "${ALLOW_DIRTY:-0}" != 1 ]]; then
  echo "trainer/, configs/ or app/ differ from HEAD: commit first (or ALLOW_DIRTY=1)" >&2
  exit 1
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHPT_WITH_TRAINER=ON > /dev/null
fi
cmake --build "$build" --target hpt hpt-train -j2 > /dev/null ||
  { echo "cannot build hpt in $build (configure it with -DHPT_WITH_TRAINER=ON)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
HPT_CACHE_DIR="$work/cache" "$build/app/hpt" train --config "$config" --out "$work/run" \
  > "$work/log.txt"
seconds=$(echo "$(date +%s.%N) - $start" | bc)
grep -E "^device|pretrain epoch|^epoch|ROC AUC" "$work/log.txt" >&2
python3 - "$work/run/metrics.json" "$seconds" "$(git rev-parse --short HEAD)" "${config#$root/}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
secs, commit, config = float(sys.argv[2]), sys.argv[3], sys.argv[4]
cm = m["confusion_matrix"]
print(f"`hpt train --config {config}` alone, empty cache (commit {commit}, {m['device']}): "
      f"**test pair ROC AUC {m['test_roc_auc']:.4f}, recall@1 {m['test_recall_at_1']:.3f}** "
      f"in {secs:.0f} s, pretraining included; the frozen extractor's raw L2-normalised features "
      f"score {m['baseline_test_roc_auc']:.4f} on the same pairs "
      f"({m['test_roc_auc'] - m['baseline_test_roc_auc']:+.4f} from training; best epoch "
      f"{m['best_epoch']} of {m['epochs']}; confusion matrix at the validation-chosen threshold "
      f"{m['threshold']:.2f}: `{json.dumps(cm).replace(' ', '').replace(',', ', ')}`).")
PY
