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
  switch (cpu_isa()) {
#if HEED_X86_KERNELS
    case Isa::Avx512:
      return simd::avx512::unary_row(op, p);
    case Isa::Avx2:
      return simd::avx2::unary_row(op, p);
#endif
    default:
      return simd::scalar::unary_row(op, p);
  }
}

BinaryRowF32 binary_row_f32(BinaryOp op, const OpParams& p) {
  switch (cpu_isa()) {
#if HEED_X86_KERNELS
    case Isa::Avx512:
      return simd::avx512::binary_row(op, p);
    case Isa::Avx2:
      return simd::avx2::binary_row(op, p);
#endif
    default:
      return simd::scalar::binary_row(op, p);
  }
}

}  // namespace heed::cpu
