#!/usr/bin/env bash
# Builds the config-loader fuzz target with clang + libFuzzer (ASan/UBSan) and runs it
# for SECONDS (default 30) on a corpus seeded with the project's own configs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
export CCACHE_DIR="${CCACHE_DIR:-$PWD/.ccache}"
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPT_FUZZ=ON \
  -DHPT_WITH_TRAINER=OFF -DHPT_BUILD_TESTS=OFF > /dev/null
cmake --build build-fuzz --target fuzz_study_config -j"$(nproc)"
corpus=build-fuzz/corpus
mkdir -p "$corpus"
cp configs/*.yaml tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
build-fuzz/tests/fuzz/fuzz_study_config -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -print_final_stats=1 -artifact_prefix=build-fuzz/ "$corpus" 2>&1 | tail -n 5
