#!/usr/bin/env bash
# Configures and builds hpt (Release) into ./build, through ccache (its own cache folder,
# ~/.cache/ccache unless CCACHE_DIR says otherwise, shared by every checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)"
