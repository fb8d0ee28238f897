#!/bin/sh
# Report benchmark: hpt (bench_reports) vs Debian's Optuna 3.1 + plotly on the same synthetic
# studies; prints a Markdown table. Usage: bench/reports/run.sh [BUILD_DIR] [OUT_DIR]
# Optuna's fANOVA runs at 1,000 trials only (it takes minutes; 10,000 would take hours).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
"$build/bench/reports/bench_reports" "$out" 1000 10000 > "$out/hpt.jsonl"
: > "$out/optuna.jsonl"
if /usr/bin/python3 -c 'import optuna, sklearn, plotly' 2>/dev/null; then
  /usr/bin/python3 "$here/optuna_bench.py" "$out" 1000 >> "$out/optuna.jsonl"
  /usr/bin/python3 "$here/optuna_bench.py" "$out" 10000 --no-importance >> "$out/optuna.jsonl"
else
  echo "python3 optuna/sklearn/plotly missing: Optuna columns left empty" >&2
fi
/usr/bin/python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
rows = {}
for tool in ("hpt", "optuna"):
    for line in open(f"{d}/{tool}.jsonl"):
        r = json.loads(line)
        rows[(tool, r["trials"])] = r
def cell(tool, n, key, fmt):
    r = rows.get((tool, n), {})
    return fmt(r[key]) if key in r else "n/a"
s = lambda v: f"{v:.2f} s"
mb = lambda v: f"{v / 1e6:.1f} MB"
print("| measure | trials | hpt | Optuna 3.1 (+plotly) | speed-up |")
print("|---|---|---|---|---|")
for n in (1000, 10000):
    for key, name, f in (("report_s", "report time", s), ("report_bytes", "report size", mb),
                         ("fanova_s", "fANOVA importance (8 params)", s)):
        h, o = rows.get(("hpt", n), {}).get(key), rows.get(("optuna", n), {}).get(key)
        if h is None and o is None:
            continue
        ratio = f"{o / h:.0f}x" if h and o and key != "report_bytes" else ""
        print(f"| {name} | {n} | {cell('hpt', n, key, f)} | {cell('optuna', n, key, f)} | {ratio} |")
o = rows.get(("optuna", 1000), {}).get("importance")
h = rows.get(("hpt", 1000), {}).get("importance")
if o and h:
    rank = lambda m: [k for k, _ in sorted(m.items(), key=lambda kv: -kv[1])]
    print()
    print("fANOVA ranking at 1,000 trials: hpt " + ", ".join(f"{k} {h[k]:.3f}" for k in rank(h)))
    print("                               Optuna " + ", ".join(f"{k} {o[k]:.3f}" for k in rank(o)))
print()
print("Optuna's report at 10,000 trials omits plot_param_importances (fANOVA would take hours).")
PY
