#!/usr/bin/env bash
# The main job: install dependencies, build in Release, train the default net.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh
scripts/build.sh
exec build/examples/train_mlp "$@"
