# Sourced by the scripts: environment for fast CPU runs.
# Debian's OpenBLAS 0.3.21 does not recognise recent CPUs (e.g. AMD Zen 4)
# and falls back to its generic "Prescott" kernels, 3-4x slower. The kernel
# set must be chosen before the library loads, so it is set here.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
