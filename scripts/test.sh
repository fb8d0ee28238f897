#!/usr/bin/env bash
# Installs dependencies, builds hpt and runs every test (unit + integration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# A throwaway PostgreSQL server on loopback for the multi-host storage tests.
eval "$(scripts/start-postgres.sh)"
ctest --test-dir build --output-on-failure -j2 "$@"
# The config loader's fuzz target, briefly (clang + libFuzzer).
scripts/fuzz.sh "${HPT_FUZZ_SECONDS:-30}"
