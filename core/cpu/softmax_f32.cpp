#include "core/cpu/softmax_f32.h"

#include <cmath>

#include "core/cpu/vec_math.h"

#define HEED_SIMD_KERNELS "core/cpu/softmax_f32_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

const SoftmaxF32Kernels& softmax_f32_kernels() {
  HEED_SIMD_DISPATCH(kSoftmaxKernels);
}

}  // namespace heed::cpu
