#!/usr/bin/env bash
# Times the embedded default study (configs/hpt_config.yaml, 50 trials, Fashion-MNIST) from an
# empty cache (built-in CNN pretraining included) into a throwaway database, then prints the
# README's numbers: wall time, states, the best trial's validation and test pair ROC AUC and
# test recall@1 (and the exact ROC AUC over all pairs of its test embeddings, from the
# projector export in its trial folder), the median trial time and the fANOVA importances.
# Usage: bench/study/default_study.sh [BUILD_DIR] [TRIALS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
trials=${2:-50}
work=$(mktemp -d)
echo "work dir: $work (removed at the end)" >&2
start=$(date +%s.%N)
HPT_CACHE_DIR="$work/cache" "$build/app/hpt" --config "$root/configs/hpt_config.yaml" \
  --trials "$trials" --storage "$work/study.db" > "$work/log.txt" 2>&1
seconds=$(echo "$(date +%s.%N) - $start" | bc)
"$build/app/hpt" trials "$work/study.db" --format json > "$work/trials.json"
"$build/app/hpt" importance "$work/study.db" --format json > "$work/importance.json"
python3 - "$work/trials.json" "$work/importance.json" "$seconds" "$(git -C "$root" rev-parse --short HEAD)" \
  "$work/best" <<'PY'
import json, statistics, sys
trials = json.load(open(sys.argv[1]))
trials = trials.get("trials", trials) if isinstance(trials, dict) else trials
imp = json.load(open(sys.argv[2]))
secs, commit = float(sys.argv[3]), sys.argv[4]
states = {}
for t in trials:
    states[t["state"]] = states.get(t["state"], 0) + 1
done = [t for t in trials if t["state"] == "COMPLETE" and t.get("value") is not None]
best = max(done, key=lambda t: t["value"])
open(sys.argv[5], "w").write(str(best["number"]))
ua = best.get("user_attrs", {})
durations = sorted(t["duration"] for t in trials if t.get("duration") is not None)
print(f"commit {commit}: {len(trials)} trials in {secs / 60:.0f} min {secs % 60:.0f} s "
      f"(pretraining included), states {states}, median trial {statistics.median(durations):.1f} s")
print(f"best trial {best['number']}: val pair ROC AUC {best['value']:.4f}, "
      f"test pair ROC AUC {ua.get('test_roc_auc', float('nan')):.4f}, "
      f"test recall@1 {ua.get('test_recall_at_1', float('nan')):.3f}, params {best['params']}")
print("importances:", ", ".join(f"{k} {v:.2f}" for k, v in
                                  sorted(imp.get("importances", imp).items(), key=lambda kv: -kv[1])))
PY
best=$(cat "$work/best")
run="$work/study_trials/fashion_mnist/$best"
if [[ -f "$run/vectors.tsv" ]]; then
  echo "best trial $best, test embeddings: $(${PYTHON:-/usr/bin/python3} "$root/bench/trainer/pair_sample_noise.py" "$run" exact)"
fi
rm -rf "$work"
