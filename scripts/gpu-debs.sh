#!/usr/bin/env bash
# Downloads (apt-get download, no install) the Debian packages that hpt builds against and the
# Fashion-MNIST dataset into DIR (default .gpu-debs/, git-ignored), for a GPU machine without
# apt: scripts/gpu-check.sh --debs DIR unpacks them there. About 45 MB.
set -euo pipefail
dir=$(realpath -m "${1:-$(dirname "$0")/../.gpu-debs}")  # A relative DIR is the caller's.
mkdir -p "$dir"
cd "$dir"
apt-get download -q \
  libsqlitecpp-dev libsqlite3-dev libsqlite3-0 libyaml-cpp-dev libyaml-cpp0.7 \
  libboost1.74-dev libboost-filesystem1.74-dev libboost-filesystem1.74.0 \
  libboost-system1.74-dev libboost-system1.74.0 libfmt-dev libfmt9 catch2 libcli11-dev \
  nlohmann-json3-dev libstb-dev libstb0 zlib1g-dev dataset-fashion-mnist
ls -1 | wc -l | xargs echo "gpu-debs: packages in $dir:"
