#!/usr/bin/env bash
# The main job: install dependencies, build in Release, train the default net
# (SE-ResNet on Fashion-MNIST; extra arguments go to `heed train`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh
scripts/build.sh
exec build/heed train "$@"
