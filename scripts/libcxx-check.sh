#!/usr/bin/env bash
# Compiles every torch-free source (syntax only) against LLVM's libc++ instead of libstdc++:
# a header that a file uses without including it (std::max without <algorithm>) compiles with
# one standard library's transitive includes and fails with another's (GCC 13's leaner
# headers, macOS). Needs clang-14 and libc++-14-dev (apt). About 2 minutes on 2 cores; not
# part of scripts/test.sh. Prints each failing file's first errors; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-libcxx
if ! command -v clang++-14 > /dev/null || [[ ! -d /usr/lib/llvm-14/include/c++/v1 ]]; then
  echo "libcxx-check: needs clang++-14 and LLVM's libc++ (apt install clang libc++-14-dev)" >&2
  exit 2
fi
mkdir -p "$dir"
cmake -S . -B "$dir" -G Ninja -DHPT_WITH_TRAINER=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 > "$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
rm -rf "$dir/syntax" && mkdir "$dir/syntax"
/usr/bin/python3 - "$dir" <<'PY'
import json, shlex, sys
import os
build = os.path.abspath(sys.argv[1])
for n, c in enumerate(json.load(open(f"{sys.argv[1]}/compile_commands.json"))):
    if os.path.abspath(c["file"]).startswith(build + "/"):
        continue  # Generated at build time (the embedded web files).
    args = [a for a in shlex.split(c["command"]) if "ccache" not in a]
    out, it = [], iter(args)
    for a in it:
        if a == "-o":
            next(it)
        elif a != "-c":
            out.append(a)
    cmd = " ".join(shlex.quote(a) for a in [out[0], "-stdlib=libc++", "-fsyntax-only", "-w"] + out[1:])
    with open(f"{sys.argv[1]}/syntax/{n}.sh", "w") as f:
        f.write(f"cd {shlex.quote(c['directory'])} && {cmd} 2>&1 | grep -m3 error || true\n")
PY
# One script per source, on every core.
find "$dir/syntax" -name '*.sh' -print0 | xargs -0 -P "$(nproc)" -n1 bash > "$dir/errors.txt"
sources=$(find "$dir/syntax" -name '*.sh' | wc -l)
if [[ -s $dir/errors.txt ]]; then
  cat "$dir/errors.txt"
  echo "libcxx-check: $sources sources; errors above"
  exit 1
fi
echo "libcxx-check: $sources sources, no errors"
