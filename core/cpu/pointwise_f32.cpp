#include "core/cpu/pointwise_f32.h"

#include "core/cpu/vec_math.h"

namespace heed::cpu {

namespace simd::scalar {
#include "core/cpu/pointwise_f32_impl.inc"
}  // namespace simd::scalar

#if HEED_X86_KERNELS
HEED_SIMD_BEGIN_AVX2
namespace simd::avx2 {
#include "core/cpu/pointwise_f32_impl.inc"
}  // namespace simd::avx2
HEED_SIMD_END

HEED_SIMD_BEGIN_AVX512
namespace simd::avx512 {
#include "core/cpu/pointwise_f32_impl.inc"
}  // namespace simd::avx512
HEED_SIMD_END
#endif

UnaryRowF32 unary_row_f32(UnaryOp op, const OpParams& p) {
  HEED_SIMD_DISPATCH(unary_row(op, p));
}

BinaryRowF32 binary_row_f32(BinaryOp op, const OpParams& p) {
  HEED_SIMD_DISPATCH(binary_row(op, p));
}

}  // namespace heed::cpu
