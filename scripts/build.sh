#!/usr/bin/env bash
# Configures and builds heed in Release into build/ (extra args go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
else
  cmake -S . -B build "$@" >/dev/null
fi
cmake --build build -j"$(nproc)"
