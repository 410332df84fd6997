#include "core/cpu/pointwise_f32.h"

#include "core/cpu/vec_math.h"

#define HEED_SIMD_KERNELS "core/cpu/pointwise_f32_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

UnaryRowF32 unary_row_f32(UnaryOp op, const OpParams& p) {
  HEED_SIMD_DISPATCH(unary_row(op, p));
}

BinaryRowF32 binary_row_f32(BinaryOp op, const OpParams& p) {
  HEED_SIMD_DISPATCH(binary_row(op, p));
}

}  // namespace heed::cpu
