#include "core/cpu/small_gemm_f32.h"

#include <algorithm>
#include <vector>

#include "core/cpu/simd.h"

#define HEED_SIMD_KERNELS "core/cpu/small_gemm_f32_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

const SmallGemmF32Kernels& small_gemm_f32_kernels() {
  HEED_SIMD_DISPATCH(kSmallGemmKernels);
}

}  // namespace heed::cpu
