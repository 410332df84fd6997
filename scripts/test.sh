#!/usr/bin/env bash
# Install dependencies, build, run the whole test suite (ctest prints the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh
scripts/build.sh -DHEED_WERROR=ON
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
