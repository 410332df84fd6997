#include "core/cpu/reduce_f32.h"

#include <algorithm>
#include <cmath>

#include "core/cpu/simd.h"

#define HEED_SIMD_KERNELS "core/cpu/reduce_f32_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

const ReduceF32Kernels& reduce_f32_kernels() {
  HEED_SIMD_DISPATCH(kKernels);
}

}  // namespace heed::cpu
