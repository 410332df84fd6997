#!/bin/bash
# Attention-module step-time overhead in ResNet-20, heed against PyTorch, run
# alternately (heed, torch, heed, torch, ...) so both see the same machine.
#
#   [THREADS=N] bench/attention_overhead.sh [ROUNDS] [REPS] [STEPS]   # defaults 2 threads; 2, 5, 3
#
# Needs a build (build/bench/bench_attention_overhead) and /usr/bin/python3
# with torch. Each program prints its own table with medians over its
# repetitions and how much of the machine other processes used meanwhile;
# machine load (uptime) is printed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh  # OPENBLAS_CORETYPE before OpenBLAS loads
ROUNDS=${1:-2} REPS=${2:-5} STEPS=${3:-3} THREADS=${THREADS:-2}
HEED=${HEED_BENCH:-build/bench/bench_attention_overhead}
[ -x "$HEED" ] || { echo "missing $HEED: build it first (cmake --build build --target bench_attention_overhead)" >&2; exit 1; }
# PyTorch's tuned environment of /work/shared/bench/run_torch.sh: no per-step
# mmap page faults, and libgomp workers that stop spinning on a shared machine.
TORCH_ENV="OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS GOMP_SPINCOUNT=10000 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
echo "load before: $(uptime)"
for r in $(seq 1 "$ROUNDS"); do
  echo "--- round $r"
  OPENBLAS_NUM_THREADS=1 "$HEED" --threads "$THREADS" --reps "$REPS" --steps "$STEPS"
  env $TORCH_ENV /usr/bin/python3 bench/attention_overhead_torch.py --threads "$THREADS" --reps "$REPS" --steps "$STEPS"
done
echo "load after: $(uptime)"
