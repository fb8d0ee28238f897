#!/usr/bin/env bash
# Times the build as CI meets it, on this machine: a clean checkout of COMMIT (default HEAD)
# built by scripts/build.sh with an empty ccache (a fresh machine), the fuzz targets of
# scripts/fuzz.sh (run for 1 s each), then a second clean checkout, elsewhere, built from the
# cache the first filled (a CI run on a machine used before). Prints a table; ~30 minutes on
# 2 cores. Usage: bench/build/cold_build.sh [COMMIT]
set -euo pipefail
cd "$(dirname "$0")/../.."
commit="${1:-HEAD}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CCACHE_DIR="$work/ccache"
for checkout in first second; do
  mkdir -p "$work/$checkout"
  git archive "$commit" | tar -xf - -C "$work/$checkout"
done

# seconds COMMAND...: runs COMMAND, prints its wall time; its output goes to $work/log.
seconds() {
  local start end
  start=$(date +%s.%N)
  if ! "$@" > "$work/log" 2>&1; then
    tail -n 20 "$work/log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.0f}')"
}

cold=$(cd "$work/first" && seconds scripts/build.sh)
fuzz=$(cd "$work/first" && seconds scripts/fuzz.sh 1)
warm=$(cd "$work/second" && seconds scripts/build.sh)
printf '%-58s %8s\n' "build of $(git rev-parse --short "$commit") on $(nproc) cores" "seconds"
printf '%-58s %8s\n' "scripts/build.sh, empty ccache (a fresh machine)" "$cold"
printf '%-58s %8s\n' "scripts/fuzz.sh 1 (its build, then 3 targets x 1 s)" "$fuzz"
printf '%-58s %8s\n' "scripts/build.sh, another checkout, the cache filled" "$warm"
