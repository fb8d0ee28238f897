#!/usr/bin/env bash
# The trainer on an NVIDIA GPU: builds hpt against a CUDA LibTorch (build-gpu/), runs the
# trainer tests there (device auto = the GPU), the default 50-trial study with
# `device: cuda`, and the throughput table (bench/trainer/run.sh on cuda: hpt vs PyTorch,
# end to end and head-only, built-in CNN and TorchScript ResNet-50 / EfficientNet-B0 built by
# torchvision with random weights at 224x224).
#
# LibTorch: HPT_TORCH_PREFIX, else CMAKE_PREFIX_PATH, else the PyTorch of $PYTHON
# (torch.utils.cmake_prefix_path). Debian's python3-torch is CPU-only: the script says so and
# stops. Usage: scripts/gpu-check.sh [--skip-study] [--skip-tests]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
skip_study=0; skip_tests=0
for a in "$@"; do
  case $a in
    --skip-study) skip_study=1 ;;
    --skip-tests) skip_tests=1 ;;
    *) echo "usage: $0 [--skip-study] [--skip-tests]" >&2; exit 2 ;;
  esac
done
die() { echo "gpu-check: $*" >&2; exit 1; }

command -v nvidia-smi > /dev/null || die "no nvidia-smi: this machine has no NVIDIA driver"
nvidia-smi -L | grep -q GPU || die "nvidia-smi lists no GPU"
nvidia-smi -L

# 1. A CUDA LibTorch.
prefix=${HPT_TORCH_PREFIX:-}
if [[ -z $prefix && -n ${CMAKE_PREFIX_PATH:-} ]]; then
  for p in ${CMAKE_PREFIX_PATH//:/ }; do
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
if "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() and not torch._C._GLIBCXX_USE_CXX11_ABI else 1)' 2> /dev/null &&
   [[ $prefix == $("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)') ]]; then
  echo "gpu-check: warning: this PyTorch uses the pre-C++11 ABI; linking with Debian's yaml-cpp/fmt may fail (use the cxx11-ABI LibTorch zip)" >&2
fi

# 2. Build against it.
export CCACHE_DIR=${CCACHE_DIR:-$PWD/.ccache}
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DHPT_WITH_TRAINER=ON -DHPT_TORCH_PREFIX="$prefix" |
  grep "hpt: " || true
grep -q "hpt: LibTorch with CUDA" <(cmake -S . -B build-gpu -DHPT_TORCH_PREFIX="$prefix" 2>&1) ||
  die "CMake did not find CUDA in the LibTorch at $prefix"
cmake --build build-gpu -j"$(nproc)"

# 3. Trainer tests on the GPU (device auto resolves to cuda:0 here).
if [[ $skip_tests == 0 ]]; then
  build-gpu/app/hpt-train --help > /dev/null
  ctest --test-dir build-gpu --output-on-failure -R '^(trainer|trainer_data|experiment)\.' -j4
  ctest --test-dir build-gpu --output-on-failure -R 'integration_test_builtin_trainer'
fi

# 4. The default study with device: cuda.
if [[ $skip_study == 0 ]]; then
  work=$(mktemp -d)
  sed 's/^fixed:.*/&\n  device: cuda/' configs/hpt_config.yaml > "$work/hpt_config.yaml"
  start=$(date +%s)
  build-gpu/app/hpt --config "$work/hpt_config.yaml" --trials 50 --storage "$work/study.db"
  echo "gpu-check: default study with device: cuda took $(( $(date +%s) - start )) s"
  build-gpu/app/hpt best "$work/study.db"
fi

# 5. Throughput: hpt vs PyTorch on the same GPU.
bench/trainer/run.sh build-gpu "$(nproc)" 160 50 cuda
if "$PYTHON" -c 'import torchvision' 2> /dev/null; then
  models=$(mktemp -d)
  "$PYTHON" bench/trainer/make_torchvision_models.py "$models"
  for m in resnet50 efficientnet_b0; do
    bench/trainer/run.sh build-gpu "$(nproc)" 64 30 cuda "$models/$m.pt" 224
  done
else
  echo "gpu-check: $PYTHON has no torchvision: ResNet-50 / EfficientNet-B0 rows skipped" >&2
fi
