// first_extreme (norm_runs.h): a vector scan per ISA, a plain loop for double.
#include <limits>

#include "core/cpu/norm_runs.h"
#include "core/cpu/simd.h"

#define HEED_SIMD_KERNELS "core/cpu/run_extreme_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

int64_t first_extreme(const float* x, int64_t n, bool minimum) {
  HEED_SIMD_DISPATCH(first_extreme(x, n, minimum));
}

int64_t first_extreme(const double* x, int64_t n, bool minimum) {
  int64_t at = 0;
  for (int64_t i = 1; i < n; ++i)
    if (minimum ? x[i] < x[at] : x[i] > x[at]) at = i;
  return at;
}

}  // namespace heed::cpu
