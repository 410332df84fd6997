#!/usr/bin/env bash
# Installs heed's build dependencies from Debian 12 packages (sudo when not root).
# Skips apt entirely when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev       # BLAS (pthread variant)
  catch2                # tests (Catch2 v2)
  libcli11-dev nlohmann-json3-dev libfmt-dev
  zlib1g-dev libstb-dev
  dataset-fashion-mnist # the default dataset, /usr/share/datasets/fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "heed: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
