#!/usr/bin/env bash
# Installs dependencies, builds hpt and runs every test (unit + integration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# puppeteer-core (npm) drives Debian's chromium in the dashboard's browser test; it goes to an
# ignored folder, and the test fails instead of skipping when it is missing.
if [[ ! -d .npm-test/node_modules/puppeteer-core ]]; then
  npm install --prefix .npm-test --no-audit --no-fund --loglevel=error puppeteer-core@24
fi
export HPT_NODE_PATH="$PWD/.npm-test/node_modules" HPT_REQUIRE_BROWSER_TEST=1
# A throwaway PostgreSQL server on loopback for the multi-host storage tests.
eval "$(scripts/start-postgres.sh)"
ctest --test-dir build --output-on-failure -j2 "$@"
# The config loader's fuzz target, briefly (clang + libFuzzer).
scripts/fuzz.sh "${HPT_FUZZ_SECONDS:-30}"
