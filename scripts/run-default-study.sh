#!/usr/bin/env bash
# Installs, builds, and runs the embedded default: a 50-trial study of the image-matching
# model on Fashion-MNIST, then renders its HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out
build/app/hpt --config configs/hpt_config.yaml --trials "${TRIALS:-50}"
build/app/hpt report out/fashion_mnist.db -o out/fashion_mnist_report.html
build/app/hpt best out/fashion_mnist.db
