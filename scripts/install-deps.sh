#!/usr/bin/env bash
# Installs everything hpt needs to build, test and benchmark on Debian 12 (apt only).
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-pthread
  libsqlitecpp-dev libsqlite3-dev sqlite3
  libyaml-cpp-dev libboost-dev libboost-filesystem-dev libfmt-dev catch2
  libcli11-dev nlohmann-json3-dev libstb-dev zlib1g-dev
  dataset-fashion-mnist
  python3-optuna python3-torch python3-sklearn python3-numpy
  libpqxx-dev postgresql python3-psycopg2
  procps clang libclang-rt-14-dev chromium python3-plotly
  libcpp-httplib-dev nodejs
)
# npm for the dashboard's browser test (puppeteer-core); a Node.js from elsewhere brings its own.
command -v npm > /dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
