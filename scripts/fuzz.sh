#!/usr/bin/env bash
# Builds the config-loader and worker-line fuzz targets with clang + libFuzzer (ASan/UBSan) and runs each for
# SECONDS (default 30) on a corpus seeded with the project's own configs and
# tests/fuzz/corpus, with a YAML token dictionary (aliases, anchors, flow/block structure); the
# worker-line target on tests/fuzz/corpus-worker with a JSON token dictionary.
# Fails (exit 1) if a target crashes, leaks, hangs or exceeds the memory limit; the input is
# left in build-fuzz/ (crash-*, timeout-*, oom-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPT_FUZZ=ON \
  -DHPT_WITH_TRAINER=OFF -DHPT_BUILD_TESTS=OFF -DHPT_BUILD_BENCH=OFF > /dev/null
cmake --build build-fuzz --target fuzz_study_config fuzz_experiment_config fuzz_worker_line \
  -j"$(nproc)"
status=0
for target in fuzz_study_config fuzz_experiment_config fuzz_worker_line; do
  corpus=build-fuzz/corpus-$target
  mkdir -p "$corpus"
  if [ "$target" = fuzz_worker_line ]; then  # Worker stdout lines: JSON seeds and tokens.
    cp tests/fuzz/corpus-worker/* "$corpus"/
    dict=tests/fuzz/json.dict
  else
    cp configs/*.yaml tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
    dict=tests/fuzz/yaml.dict
  fi
  echo "== $target (${seconds}s)"
  build-fuzz/tests/fuzz/$target -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -dict="$dict" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/ "$corpus" > "build-fuzz/$target.log" 2>&1 || status=1
  tail -n 5 "build-fuzz/$target.log"
done
exit $status
