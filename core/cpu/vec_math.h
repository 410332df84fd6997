// Vectorised float32 exp, log, tanh, sigmoid, erf and the activations built on
// them (GELU exact and tanh, SiLU, with gradients), for each ISA namespace of
// simd.h: heed::cpu::simd::{scalar, avx2, avx512}::vexp(Vf) and so on. The
// bodies and their measured accuracy are in vec_math_impl.inc. Callers use
// them from code compiled in the same ISA region (see pointwise_f32.cpp).
#pragma once

#include "core/cpu/simd.h"

namespace heed::cpu::simd::scalar {
#include "core/cpu/vec_math_impl.inc"
}  // namespace heed::cpu::simd::scalar

#if HEED_X86_KERNELS
HEED_SIMD_BEGIN_AVX2
namespace heed::cpu::simd::avx2 {
#include "core/cpu/vec_math_impl.inc"
}  // namespace heed::cpu::simd::avx2
HEED_SIMD_END

HEED_SIMD_BEGIN_AVX512
namespace heed::cpu::simd::avx512 {
#include "core/cpu/vec_math_impl.inc"
}  // namespace heed::cpu::simd::avx512
HEED_SIMD_END
#endif
