#include "core/cpu/softmax_f32.h"

#include <cmath>

#include "core/cpu/vec_math.h"

namespace heed::cpu {

namespace simd::scalar {
#include "core/cpu/softmax_f32_impl.inc"
}  // namespace simd::scalar

#if HEED_X86_KERNELS
HEED_SIMD_BEGIN_AVX2
namespace simd::avx2 {
#include "core/cpu/softmax_f32_impl.inc"
}  // namespace simd::avx2
HEED_SIMD_END

HEED_SIMD_BEGIN_AVX512
namespace simd::avx512 {
#include "core/cpu/softmax_f32_impl.inc"
}  // namespace simd::avx512
HEED_SIMD_END
#endif

const SoftmaxF32Kernels& softmax_f32_kernels() {
  HEED_SIMD_DISPATCH(kSoftmaxKernels);
}

}  // namespace heed::cpu
