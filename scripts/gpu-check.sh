#!/usr/bin/env bash
# The trainer on an NVIDIA GPU: builds hpt against a CUDA LibTorch (build-gpu/), then, each
# step timed and logged, the throughput table (bench/trainer/run.sh on cuda: hpt vs PyTorch,
# built-in CNN at 28x28, then TorchScript ResNet-50 / EfficientNet-B0 built by torchvision with
# random weights at 224x224), the trainer tests on the GPU (device auto = cuda:0), and the
# default study with `device: cuda` for the time that is left.
#
# LibTorch: HPT_TORCH_PREFIX, else CMAKE_PREFIX_PATH, else the PyTorch of $PYTHON
# (torch.utils.cmake_prefix_path). Debian's python3-torch is CPU-only: the script says so and
# stops. On a machine without hpt's Debian packages (a CUDA image without apt), --debs DIR
# unpacks the .deb files that scripts/gpu-debs.sh downloaded into build-gpu/deps and builds
# against them, with the dataset from DIR's dataset-fashion-mnist.
#
# Usage: scripts/gpu-check.sh [--debs DIR] [--seconds N] [--skip-tests] [--skip-study]
#   --seconds N: the whole check's budget; the study gets what the steps before it left.
set -euo pipefail
PYTHON=${PYTHON:-/usr/bin/python3}
skip_study=0; skip_tests=0; debs=""; budget=3600
die() { echo "gpu-check: $*" >&2; exit 1; }
while (($#)); do
  case $1 in
    --skip-study) skip_study=1 ;;
    --skip-tests) skip_tests=1 ;;
    --debs) debs=$(cd "${2:-}" 2> /dev/null && pwd) || die "--debs: no folder '${2:-}'"; shift ;;
    --seconds) budget=${2:-}; shift ;;
    *) echo "usage: $0 [--debs DIR] [--seconds N] [--skip-tests] [--skip-study]" >&2; exit 2 ;;
  esac
  shift
done
[[ $budget =~ ^[0-9]+$ ]] || die "--seconds: expected a whole number of seconds, got '$budget'"
cd "$(dirname "$0")/.."  # After the arguments: a relative --debs is the caller's.
t0=$(date +%s)
step() { echo "=== gpu-check: $* (at $(( $(date +%s) - t0 )) s)"; }
left() { echo $(( budget - ($(date +%s) - t0) )); }

command -v nvidia-smi > /dev/null || die "no nvidia-smi: this machine has no NVIDIA driver"
nvidia-smi -L | grep -q GPU || die "nvidia-smi lists no GPU"
nvidia-smi -L
"${CXX:-c++}" --version | head -1

# 0. Debian packages unpacked into a prefix (headers, libraries, CMake configs, the dataset).
dataset=/usr/share/datasets/fashion-mnist
if [[ -n $debs ]]; then
  step "unpacking $(ls "$debs"/*.deb | wc -l) Debian packages"
  deps=$PWD/build-gpu/deps
  mkdir -p "$deps"
  for f in "$debs"/*.deb; do
    if command -v dpkg-deb > /dev/null; then
      dpkg-deb -x "$f" "$deps"
    else  # A .deb is an ar archive; tar detects data.tar's compression (xz, zstd, gzip).
      unpack=$(mktemp -d)
      (cd "$unpack" && ar x "$f")
      tar -xf "$unpack"/data.tar.* -C "$deps"
      rm -rf "$unpack"
    fi
  done
  lib=$(ls -d "$deps"/usr/lib/*-linux-gnu 2> /dev/null | head -1)
  [[ -n $lib ]] || die "no usr/lib/<arch>-linux-gnu in the unpacked packages"
  export CMAKE_PREFIX_PATH=$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=$deps/usr/include${CPATH:+:$CPATH}
  export LIBRARY_PATH=$lib${LIBRARY_PATH:+:$LIBRARY_PATH}
  # At run time only the libraries the machine lacks (yaml-cpp 0.7, stb, ...): its own zlib or
  # SQLite, newer, stay in use by everything else (PyTorch too).
  runtime=$deps/runtime
  mkdir -p "$runtime"
  known=$( (ldconfig -p || /sbin/ldconfig -p) 2> /dev/null || true)
  for so in "$lib"/*.so.[0-9]*; do  # The sonames: links to the versioned files.
    name=$(basename "$so")
    if [[ -L $so ]] && ! grep -q "^[[:space:]]*$name " <<< "$known"; then
      ln -sf "$so" "$runtime/$name"
    fi
  done
  echo "gpu-check: libraries this machine lacks: $(ls "$runtime" | tr '\n' ' ')"
  export LD_LIBRARY_PATH=$runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  [[ -d $deps$dataset ]] && dataset=$deps$dataset
fi

# 1. A CUDA LibTorch.
prefix=${HPT_TORCH_PREFIX:-}
if [[ -z $prefix && -n ${CMAKE_PREFIX_PATH:-} ]]; then
  IFS=: read -ra prefixes <<< "$CMAKE_PREFIX_PATH"
  for p in "${prefixes[@]}"; do
    if [[ -f $p/Torch/TorchConfig.cmake || -f $p/share/cmake/Torch/TorchConfig.cmake ]]; then prefix=$p; break; fi
  done
fi
if [[ -z $prefix ]]; then
  prefix=$("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2> /dev/null) ||
    die "no LibTorch: set HPT_TORCH_PREFIX to a CUDA LibTorch (the folder holding Torch/TorchConfig.cmake, e.g. libtorch/share/cmake) or install a CUDA PyTorch for $PYTHON"
fi
torch_root=$(cd "$prefix" && cd ../.. 2> /dev/null && pwd || true)
cuda_lib=$(find "$prefix" "$torch_root" -maxdepth 3 -name 'libtorch_cuda*.so' 2> /dev/null | head -1)
[[ -n $cuda_lib ]] || die "the LibTorch at $prefix has no CUDA (no libtorch_cuda.so; Debian's python3-torch is CPU-only): set HPT_TORCH_PREFIX to a CUDA LibTorch (pytorch.org, cxx11 ABI) or a CUDA PyTorch's torch.utils.cmake_prefix_path"
echo "gpu-check: CUDA LibTorch at $prefix ($cuda_lib)"
if "$PYTHON" -c 'import torch, sys; sys.exit(0 if not torch._C._GLIBCXX_USE_CXX11_ABI else 1)' 2> /dev/null &&
   [[ $prefix == $("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)') ]]; then
  echo "gpu-check: warning: this PyTorch uses the pre-C++11 ABI; linking with Debian's yaml-cpp/fmt may fail (use the cxx11-ABI LibTorch zip)" >&2
fi

# 2. Build what the checks run, against it.
step "configuring build-gpu"
export CCACHE_DIR=${CCACHE_DIR:-$PWD/.ccache}
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)}
generator=()
[[ ! -f build-gpu/CMakeCache.txt ]] && command -v ninja > /dev/null && generator=(-G Ninja)
mkdir -p build-gpu
timeout -k 10 "$(left)" cmake -S . -B build-gpu ${generator[@]+"${generator[@]}"} -DCMAKE_BUILD_TYPE=Release \
  -DHPT_WITH_TRAINER=ON -DHPT_WITH_POSTGRES=OFF -DHPT_TORCH_PREFIX="$prefix" > build-gpu/configure.log 2>&1 ||
  { tail -40 build-gpu/configure.log; die "CMake could not configure build-gpu (build-gpu/configure.log)"; }
grep "hpt: " build-gpu/configure.log || true
grep -q "hpt: LibTorch with CUDA" build-gpu/configure.log ||
  die "CMake did not find CUDA in the LibTorch at $prefix"
step "building"
targets=(hpt hpt-train bench_trainer)
((skip_tests)) || targets+=(test_trainer test_trainer_data test_experiment)
keep_going=(-k)  # every error in one log
grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" build-gpu/CMakeCache.txt && keep_going=(-k 0)
if ! timeout -k 10 "$(left)" cmake --build build-gpu -j"$(nproc)" --target "${targets[@]}" -- \
    "${keep_going[@]}" > build-gpu/build.log 2>&1; then
  grep -E "error|Error" build-gpu/build.log | sort -u | head -60 || true
  die "the build failed or ran out of time (build-gpu/build.log)"
fi
step "built"

# 3. Throughput: hpt vs PyTorch on the same GPU.
step "throughput, built-in CNN"
timeout -k 5 120 bench/trainer/run.sh build-gpu "$(nproc)" 160 50 cuda || echo "gpu-check: FAILED: built-in CNN throughput"
if "$PYTHON" -c 'import torchvision' 2> /dev/null; then
  models=$(mktemp -d)
  timeout -k 5 120 "$PYTHON" bench/trainer/make_torchvision_models.py "$models" || echo "gpu-check: FAILED: torchvision models"
  for m in resnet50 efficientnet_b0; do
    step "throughput, $m"
    timeout -k 5 120 bench/trainer/run.sh build-gpu "$(nproc)" 64 30 cuda "$models/$m.pt" 224 ||
      echo "gpu-check: FAILED: $m throughput"
  done
else
  echo "gpu-check: $PYTHON has no torchvision: ResNet-50 / EfficientNet-B0 rows skipped" >&2
fi

# 4. Trainer tests on the GPU (device auto resolves to cuda:0 here).
if ((!skip_tests)); then
  step "trainer tests"
  build-gpu/app/hpt-train --help > /dev/null
  timeout -k 5 180 ctest --test-dir build-gpu --output-on-failure -R '^(trainer|trainer_data|experiment)\.' -j8 \
    > build-gpu/tests.log 2>&1 || echo "gpu-check: FAILED: trainer tests (build-gpu/tests.log)"
  grep -E "tests passed|Failed|\*\*\*" build-gpu/tests.log | tail -30 || echo "gpu-check: no test summary (build-gpu/tests.log)"
fi

# 5. The default study with device: cuda, for the time left (minus a minute for its end).
if ((!skip_study)); then
  seconds=$(( $(left) - 60 ))
  ((seconds >= 30)) || die "no time left for the study"
  step "default study with device: cuda, --timeout $seconds"
  work=$(mktemp -d)
  path=$(printf '%s' "$dataset" | sed -e 's/[\\&#]/\\&/g')  # Literal in sed's replacement.
  sed -e 's/^fixed:.*/&\n  device: cuda/' -e "s#/usr/share/datasets/fashion-mnist#$path#" \
    configs/hpt_config.yaml > "$work/hpt_config.yaml"
  start=$(date +%s)
  build-gpu/app/hpt --config "$work/hpt_config.yaml" --trials 50 --timeout "$seconds" \
    --storage "$work/study.db" > build-gpu/study.log 2>&1 || echo "gpu-check: FAILED: the study (build-gpu/study.log)"
  tail -20 build-gpu/study.log
  echo "gpu-check: default study with device: cuda took $(( $(date +%s) - start )) s"
  build-gpu/app/hpt best "$work/study.db" || true
  build-gpu/app/hpt trials "$work/study.db" > build-gpu/trials.txt 2>&1 || true
fi
step "done"
